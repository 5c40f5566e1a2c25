"""Retrieval sources: snippets from elsewhere that help complete the code at the cursor.

Each source is a small, pure function of what it is given, and each is time-boxed by its
caller (`context.assemble`): a slow source contributes nothing rather than delaying the
suggestion. Sources:

- `definitions`: how the symbols used near the cursor are declared in other workspace files
  (signature and first paragraph of the doc, not the whole file);
- `usages`: at a call of a workspace function, how other files call it (Repoformer-style
  selective retrieval: only when the cursor is inside such a call's arguments);
- `similar`: the most similar code windows of other open or recently edited files
  (Jaccard similarity of identifier sets, as Copilot does with neighbouring tabs);
- `scopes`: what the prefix window cut off that the code below it rests on: the file's imports (the
  names it can call), the lines of this file outside the prompt that call the function whose
  arguments the cursor is in (`calls_here`), and the headers of the enclosing class/function;
- recent edits live in `context.edits`.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from functools import lru_cache

from context.outline import COMMON, MAX_CALL_LINE  # what the index keeps call lines of (`usages`)
from context.secrets import redact
from context.syntax import language_for_path

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Snippet:
    """A piece of context: where it comes from and the text the model will see."""

    source: str  # definitions | usages | similar | scopes | edits
    path: str  # workspace-relative path ("" for the current file)
    text: str
    score: float = 0.0
    parts: tuple[str, ...] = ()  # other sources whose lines it holds: `file_calls` inside the scopes block
    row: int = -1  # definitions: the declaration's first line in its file (0-based)


FAMILIES = {"javascript": "js", "javascriptreact": "js", "typescript": "js", "typescriptreact": "js",
            "c": "c", "cpp": "c"}


@lru_cache(maxsize=8192)
def family(path: str) -> str | None:
    """The language family of a file, by its extension (JS and TS are one, C and C++ are one)."""
    language = language_for_path(path)
    return FAMILIES.get(language, language) if language else None


def related(path: str, current_path: str) -> bool:
    """Whether code of `path` may inform code of `current_path`: the same language family, or a file
    (or a buffer) whose language is unknown. A Lua `M.get` says nothing about a Python `get`."""
    a, b = family(path), family(current_path)
    return a is None or b is None or a == b


# string literals (a triple-quoted one may run to the end), block comments (/* */, JSDoc) and line
# comments: prose, not code
NOT_CODE = re.compile(r'"""[\s\S]*?(?:"""|\Z)|\'\'\'[\s\S]*?(?:\'\'\'|\Z)|"(?:\\.|[^"\\\n])*"?'
                      r"|'(?:\\.|[^'\\\n])*'?|`[^`]*`?|/\*[\s\S]*?(?:\*/|\Z)|(?:#|//|--(?=[ \[]|$)).*$", re.M)


def code_only(prefix: str, lines: int) -> str:
    """The last `lines` lines of `prefix` without string literals and comments (a docstring that
    opened before them is recognised by counting triple quotes, a block comment by a `*/` that
    closes before anything opens). Words in docs and messages are
    prose: looking their namesakes up brings definitions that do not help."""
    cut = len(prefix)
    for _ in range(lines):
        cut = prefix.rfind("\n", 0, cut)
        if cut < 0:
            break
    cut += 1
    tail = prefix[cut:]
    for quote in ('"""', "\'\'\'"):
        if prefix.count(quote, 0, cut) % 2:  # the window starts inside a triple-quoted string
            end = tail.find(quote)
            tail = tail[end + 3:] if end >= 0 else ""
    close, open_ = tail.find("*/"), tail.find("/*")
    if close >= 0 and (open_ < 0 or close < open_):  # the window starts inside a block comment (a JSDoc)
        tail = tail[close + 2:]
    return NOT_CODE.sub(" ", tail)


def symbols_near(prefix: str, lines: int = 12) -> list[str]:
    """Identifiers used in code (not strings or comments) in the last `lines` lines before the
    cursor, nearest first, no keywords."""
    tail = code_only(prefix, lines)
    seen: dict[str, None] = {}
    for name in reversed(IDENT.findall(tail)):
        if name not in COMMON and len(name) > 1:
            seen.setdefault(name, None)
    return list(seen)


def definitions(index, symbols: list[str], current_path: str, limit: int = 8, per_name: int = 2) -> list[Snippet]:
    """Declarations of `symbols` found in other files of the index (nearest symbols first).

    A name the current file imports from a module resolves to the files named like that module;
    otherwise a name with several definitions shows at most `per_name` of them (top-level ones, then
    those nearest the current file): a dozen `get` methods would crowd out everything else."""
    out: list[Snippet] = []
    picked: list = []  # the definition of each snippet
    seen: set[tuple[str, int]] = set()
    sources = imported_from(index.imports_of(current_path))
    for rank, name in enumerate(symbols):
        found = [d for d in index.lookup(name)
                 if d.path != current_path and (d.path, d.line) not in seen and related(d.path, current_path)]
        module = sources.get(name)
        resolved = [d for d in found if module and _module_file(d.path, module)]
        chosen = resolved or sorted(found, key=lambda d: (bool(d.container), -_shared_dirs(d.path, current_path),
                                                          d.path, d.line))[:per_name]
        for d in chosen:
            seen.add((d.path, d.line))
            picked.append(d)
            out.append(Snippet("definitions", d.path, format_definition(d), score=1.0 / (1 + rank), row=d.line))
            if len(out) >= limit:
                return _inside_their_class(out, picked)
    return _inside_their_class(out, picked)


def _inside_their_class(snippets: list[Snippet], picked: list) -> list[Snippet]:
    """Members shown with their class, interface or trait (`picked[i]` is `snippets[i]`'s definition):
    the class's snippet (`public class Billing { ... }`) said nothing the member's wrapper did not,
    twice; now one snippet under the class's own header and doc holds the class and its members,
    where the first of them was. Python keeps one snippet each (`class K:` above a method, the
    class's bases and docstring apart)."""
    classes = {(d.path, d.name): i for i, d in enumerate(picked) if d.kind == "class"}
    members: dict[int, list[int]] = {}  # the class's index -> its members' indexes
    for i, d in enumerate(picked):
        j = classes.get((d.path, d.container))
        if j is not None and picked[j].line <= d.line and _inside_its_class(d):
            members.setdefault(j, []).append(i)
    if not members:
        return snippets
    out = list(snippets)
    dropped: set[int] = set()
    for j, group in members.items():
        first = min(group)
        text = format_definition(picked[j], members=[picked[i] for i in group])
        out[first] = Snippet("definitions", picked[first].path, text, score=max(snippets[i].score for i in [j, *group]),
                             row=picked[first].line)
        dropped.update([j, *(i for i in group if i != first)])
    return [s for i, s in enumerate(out) if i not in dropped]


def _inside_its_class(d) -> bool:
    """Whether a method is written inside its container's body (a Java, TS or C++ class, an
    interface, a Rust trait, a Go interface), not apart from it (a Go method, a Rust `impl`, C++'s
    `Klass::method` out of line) or in Python."""
    language = language_for_path(d.path) or ""
    if d.kind != "method" or not d.container or language == "python":
        return False
    if language == "go":
        return _go_interface_method(d, language)
    return d.container_kind == "class" or d.container_kind in KEYWORD_CONTAINERS


def imported_from(imports: list[str]) -> dict[str, str]:
    """Imported name -> the last part of its module (`.auth:basic` -> {"basic": "auth"})."""
    out: dict[str, str] = {}
    for entry in imports:
        module, _, name = entry.partition(":")
        module = re.sub(r"\.(?:[cm]?js|jsx|tsx?|py)$", "", module)  # `./utils/auth.js`
        parts = [p for p in re.split(r"[./\\]", module) if p]
        if len(parts) > 1 and parts[-1] in ("index", "__init__", "mod"):
            parts.pop()
        last = parts[-1] if parts else ""
        if name and last:
            out.setdefault(name, last)
    return out


def _module_file(path: str, module: str) -> bool:
    """Whether `path` is the file of a module whose last part is `module` (`auth.py`, `auth/__init__.py`)."""
    parts = path.split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    return stem == module or (stem in ("__init__", "index", "mod") and len(parts) > 1 and parts[-2] == module)


def _shared_dirs(path: str, current_path: str) -> int:
    """How many leading folders two paths share."""
    n = 0
    for a, b in zip(path.split("/")[:-1], current_path.split("/")[:-1], strict=False):
        if a != b:
            break
        n += 1
    return n


OPENERS, CLOSERS = "([{", ")]}"
DEFINERS = r"(?:def|function\*?|func|fn|class)"  # the keywords that start a definition, in every language here
DEFINITION = re.compile(rf"(?:^|[^A-Za-z0-9_.]){DEFINERS}\s+$")  # what stands just before a defined name
DEFINES = re.compile(rf"(?:(?:export|default|async|local|pub(?:\([a-z]+\))?)\s+)*{DEFINERS}\s")  # a definition's line


def open_call(prefix: str, reach: int = 400) -> str | None:
    """The name of the innermost call whose argument list the cursor is in (`a.b(x, <CURSOR>` -> "b"),
    looking back at most `reach` characters; None outside any call and in a definition's parameters.
    Brackets inside strings on the way back can mislead it: the worst that costs is a snippet that
    does not help."""
    depth = 0
    tail = prefix[-reach:]
    for i in range(len(tail) - 1, -1, -1):
        c = tail[i]
        if c in CLOSERS:
            depth += 1
        elif c in OPENERS:
            if depth:
                depth -= 1
                continue
            if c != "(":
                return None
            m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s?$", tail[:i])
            if not m or keyword.iskeyword(m.group(1)) or DEFINITION.search(tail[:m.start()]):
                return None  # `def f(`: a parameter list, not a call
            return m.group(1)
    return None


def usages(index, name: str | None, current_path: str, limit: int = 3) -> list[Snippet]:
    """Lines of other files that call `name`, a function or class the workspace defines: the
    arguments its callers pass. Files nearest `current_path` (most shared folders) first."""
    if not name or name in COMMON or not any(related(d.path, current_path) for d in index.lookup(name)):
        return []
    files = [p for p in index.callers(name) if p != current_path and related(p, current_path)]
    files.sort(key=lambda p: (-_shared_dirs(p, current_path), p))
    found: list[Snippet] = []
    for p in files:  # the lines of the nearest files only: each is found again in the file's call lines
        if lines := index.calls_in(p, name):
            found.append(Snippet("usages", p, redact("\n".join(lines)), score=1.0 / (1 + len(found))))
            if len(found) == limit:
                break
    return found


DOC_COMMENT = {"javascript": ("/** ", " */"), "javascriptreact": ("/** ", " */"), "typescript": ("/** ", " */"),
               "typescriptreact": ("/** ", " */"), "java": ("/** ", " */"), "rust": ("/// ", ""),
               "lua": ("-- ", ""), "python": ("# ", "")}
CONTAINER_OPEN = {"rust": "impl {} {{", "go": ""}  # Go methods name their receiver: no wrapper
# containers a member is written inside and shown inside under their own keyword (`trait Shape {`)
KEYWORD_CONTAINERS = ("interface", "trait", "enum", "record", "struct", "union")


def format_definition(d, members: list | None = None) -> str:
    """A definition as the model should see it, in its own language: the doc's first paragraph,
    the signature with an elided body, inside its class when it is a method; a class given its
    `members` holds them, under its own header and doc (not Python's).

    In Python the docstring is the body (`def f(a):` above its indented docstring); without one, the
    signature's last line ends in ` ...`. A separate `...` line under a header taught the model to
    write just `...` for a function body (5 of 300 block holes, bench/repo_eval.md)."""
    header = d.signature.rstrip()
    language = language_for_path(d.path) or ""
    if d.kind != "constant" and (language == "python" or header.endswith(":")):
        doc = _first_paragraph(d.doc)
        body_indent = "    "
        if d.container and d.kind == "method":
            header = f"class {d.container}:\n" + "\n".join(body_indent + ln for ln in header.splitlines())
            body_indent *= 2
        text = header + (f'\n{body_indent}"""{doc}"""' if doc else " ...")
        return redact(text)
    text = _declaration(d, language)
    if members:
        head = text.removesuffix(" { ... }").removesuffix(";") + " {"
        body = "\n\n".join(_indented(_declaration(m, language)) for m in members)
        return redact(f"{head}\n{body}\n}}")
    if language == "lua" and d.container and re.match(r"[A-Za-z_]\w* = function", header):  # a table's field
        return redact(f"{d.container} = {{\n{_indented(text)},\n}}")
    if d.container_kind == "object":  # a JavaScript object's method: `const api = { get(id) { ... }, };`
        return redact(f"const {d.container} = {{\n{_indented(text)},\n}};")
    if _go_interface_method(d, language):
        wrapper = "type {} interface {{"
    elif d.container_kind in KEYWORD_CONTAINERS:
        wrapper = d.container_kind + " {} {{"
    else:
        wrapper = CONTAINER_OPEN.get(language, "class {} {{")
    if d.container and d.kind == "method" and wrapper:
        text = f"{wrapper.format(d.container)}\n{_indented(text)}\n}}"
    return redact(text)


def _first_paragraph(doc: str) -> str:
    return doc.strip().split("\n\n")[0].strip()


def _indented(text: str) -> str:
    return "\n".join("    " + ln for ln in text.splitlines())


def _go_interface_method(d, language: str) -> bool:
    return language == "go" and d.kind == "method" and not d.signature.startswith("func")


def _declaration(d, language: str) -> str:
    """A definition outside Python, on its own: its doc as a comment of the language, its header, and
    its body elided (`{ ... }`, `... end`), or none where it has none (an interface's method, an
    abstract one, a Go `type ID string`)."""
    header = d.signature.rstrip()
    text = header
    bodiless = _go_interface_method(d, language) or (d.kind == "method" and header.startswith("abstract ")) or (
        d.container_kind == "interface" and not header.startswith(("default ", "static ", "private ")))
    if language == "go" and d.kind == "class" and not header.endswith(("struct", "interface")):
        pass  # `type ID string`, `type Port = int`: no body
    elif bodiless:
        text += "" if language == "go" or header.endswith(";") else ";"  # a signature only: no body to elide
    elif d.kind != "constant" and not header.endswith((";", "}")):
        text += " ... end" if language == "lua" else " { ... }"
    if doc := _first_paragraph(d.doc):
        start, end = DOC_COMMENT.get(language, ("// ", ""))
        text = f"{start}{doc}{end}\n{text}"
    return text


def _tokens(text: str) -> set[str]:
    return {t for t in IDENT.findall(text) if t not in COMMON}


def similar(query: str, documents: dict[str, str], window: int = 20, stride: int = 10, top: int = 2,
            min_score: float = 0.2, shown: dict[str, set[int]] | None = None) -> list[Snippet]:
    """The `top` windows of `documents` (path -> text) most similar to `query` (Jaccard).

    `shown`: path -> rows where a definition the prompt already shows starts. A window holding one
    of those rows is passed over for the file's next best: it would show the definition twice, the
    second time with its body (17 of lodash's 80 API-call prompts showed a function's signature
    and then its whole small file), and a body shown is a body the model may write out in place of
    the call."""
    q = _tokens(query)
    if not q:
        return []
    scored: list[Snippet] = []
    for path, text in documents.items():
        best, best_score = None, 0.0
        rows = shown.get(path, ()) if shown else ()
        for start, chunk, t in windows(text, window, stride):
            score = len(q & t) / len(q | t)
            if score >= min_score and (best is None or score > best_score) \
                    and not any(start <= r < start + window for r in rows):
                best, best_score = chunk, score
        if best is not None:
            scored.append(Snippet("similar", path, redact(best), best_score))
    scored.sort(key=lambda s: -s.score)
    return scored[:top]


@lru_cache(maxsize=64)
def windows(text: str, window: int, stride: int) -> tuple[tuple[int, str, frozenset[str]], ...]:
    """A document's overlapping line windows (first row, text, identifier set). Cached by text: the
    other open documents rarely change between keystrokes, and tokenizing them was most of a build."""
    lines = text.split("\n")
    starts = list(range(0, max(1, len(lines) - window + 1), stride))
    if starts[-1] + window < len(lines):  # the last lines get a window too
        starts.append(len(lines) - window)
    out = []
    for start in starts:
        chunk = "\n".join(lines[start: start + window])
        t = _tokens(chunk)
        if t:
            out.append((start, chunk, frozenset(t)))
    return tuple(out)


SCOPE_TYPES = frozenset({
    "function_definition", "class_definition", "function_declaration", "method_definition", "class_declaration",
    "function_item", "impl_item", "method_declaration", "generator_function_declaration",
    "interface_declaration", "enum_declaration", "constructor_declaration", "record_declaration",  # Java, TS
    "abstract_class_declaration", "trait_item", "mod_item", "func_literal",  # TS, Rust, Go
    "class_specifier", "struct_specifier", "namespace_definition",  # C++
})


IMPORT_TYPES = frozenset({"import_statement", "import_from_statement", "future_import_statement",
                          "import_declaration", "use_declaration", "preproc_include"})


# how a line holding an import begins (`#include` only: a Python file's comment lines are not candidates)
IMPORT_STARTS = (b"import", b"from", b"use", b"pub", b"#include", b"# include", b"local", b"const", b"var", b"let")
# a declaration that is an import: Lua's `local json = require("json")`, CommonJS `const fs = require('fs')`
REQUIRE_TYPES = frozenset({"variable_declaration", "lexical_declaration"})
REQUIRE = re.compile(rb"=\s*require\s*[(\"'\[]")


def imports_above(tree, data: bytes, window_byte: int, most_chars: int = 600) -> list[str]:
    """The file's top-level import statements that end before the prompt window, the last ones kept
    when they are long (local imports come last by convention, and they name the workspace's code).

    Only statements that begin a line are looked at: the lines that start like an import are found
    with a byte search, and the tree says which of them are top-level imports. Walking every top-level
    node instead cost 12 ms per build in a 20,000-statement file, and this runs on every keystroke."""
    root = tree.root_node
    starts = set()
    for word in IMPORT_STARTS:
        if data.startswith(word):
            starts.add(0)
        needle = b"\n" + word
        at = data.find(needle, 0, window_byte)
        while at >= 0:
            starts.add(at + 1)
            at = data.find(needle, at + 1, window_byte)
    lines: list[str] = []
    seen: set[int] = set()
    for start in sorted(starts):
        node = root.descendant_for_byte_range(start, start)
        while node is not None and node.parent is not None and node.parent != root:
            node = node.parent
        if node is None or node == root or node.start_byte in seen:
            continue
        seen.add(node.start_byte)
        if node.end_byte <= window_byte and _is_import(node, data):
            lines.append(data[node.start_byte: node.end_byte].decode("utf-8", "replace").rstrip())  # C's ends in \n
    kept, used = [], 0
    for line in reversed(lines):
        used += len(line) + 1
        if used > most_chars:
            break
        kept.append(line)
    return kept[::-1]


def _is_import(node, data: bytes) -> bool:
    if node.type in IMPORT_TYPES:
        return True
    return node.type in REQUIRE_TYPES and REQUIRE.search(data, node.start_byte, min(node.end_byte,
                                                                                    node.start_byte + 200)) is not None


def calls_here(text: str, name: str | None, window_start: int, visible_end: int, offset: int,
               limit: int = 3, reach: int = 60_000) -> list[str]:
    """Lines of this document outside the prompt (above `window_start`, or from `visible_end` on) that
    call `name`, the `limit` nearest the cursor, in file order: how this file itself passes that
    function's arguments where the model cannot see it. Comment lines, definitions and lines over
    MAX_CALL_LINE characters are left out, and a line the prompt already shows is not repeated. Only
    `reach` characters on either side are searched (about 2 ms per 100 KB, and this runs in the time box)."""
    if not name or name in COMMON:
        return []
    call = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}\s?\(")
    shown = {ln.strip() for ln in text[window_start:visible_end].split("\n")}
    above_end = text.rfind("\n", 0, window_start) + 1  # whole lines only: a cut line is partly shown
    below = visible_end
    if below > 0 and text[below - 1] != "\n":
        below = text.find("\n", below) + 1 or len(text)
    row = text.count("\n", 0, offset)
    found: dict[str, tuple[int, str]] = {}  # stripped line -> (row, line)
    at, at_row = 0, 0  # rows counted as the matches come, in file order: one pass over the text
    for start, end in ((max(0, above_end - reach), above_end), (below, min(len(text), below + reach))):
        for m in call.finditer(text, start, end):
            line_start = text.rfind("\n", 0, m.start()) + 1
            at_row += text.count("\n", at, line_start)
            at = line_start
            line_end = text.find("\n", m.start())
            line = text[line_start: line_end if line_end >= 0 else len(text)].rstrip()
            body = line.strip()
            if (len(line) > MAX_CALL_LINE or body.startswith(COMMENT_STARTS) or DEFINES.match(body)
                    or body in shown):
                continue
            if body not in found or abs(at_row - row) < abs(found[body][0] - row):  # a repeated line: the nearest
                found[body] = (at_row, line)
    # nearest first: ranking by identifiers shared with the cursor's lines did no better (repo_eval
    # config `filecallsimilar`, commit c5f6b04: 75 of 200 API-call holes either way)
    nearest = sorted(found.values(), key=lambda rl: abs(rl[0] - row))[:limit]
    return [line for _, line in sorted(nearest)]


COMMENT_STARTS = ("#", "//", "--", "*", "/*")


def scopes(tree, text: str, offset: int, window_start: int, imports: bool = True,
           calls: list[str] | None = None) -> list[Snippet]:
    """What the window cut off: the file's imports (`imports`), the lines of `calls_here` (`calls`),
    then the header lines of the definitions enclosing the cursor that start before the prompt window."""
    parts = ("file_calls",) if calls else ()
    if tree is None:
        return [Snippet("scopes", "", redact("\n".join(calls)), parts=parts)] if calls else []
    prefix = text[:offset]
    line = prefix[prefix.rfind("\n") + 1:]
    cursor_indent = len(line) - len(line.lstrip()) if line.strip() else len(line)
    anchor = len(prefix.rstrip())  # trailing blank space belongs to no node: look just before it
    byte = len(text[:anchor].encode("utf-8", "surrogatepass"))
    node = tree.root_node.descendant_for_byte_range(max(0, byte - 1), max(0, byte - 1))
    window_byte = len(text[:window_start].encode("utf-8", "surrogatepass"))
    data = text.encode("utf-8", "surrogatepass")
    headers: list[str] = []
    while node is not None:
        if node.type in SCOPE_TYPES and node.start_byte < window_byte:
            line_end = data.find(b"\n", node.start_byte)
            line_start = data.rfind(b"\n", 0, node.start_byte) + 1
            header = data[line_start: line_end if line_end >= 0 else None].decode("utf-8", "replace")
            if len(header) - len(header.lstrip()) < cursor_indent:  # the cursor is inside it
                headers.append(header)
        node = node.parent
    headers.reverse()
    head = imports_above(tree, data, window_byte) if imports else []
    if head:
        head.append("")  # a blank line between the imports and the code, as in the file
    body = head + (calls or []) + headers
    return [Snippet("scopes", "", redact("\n".join(body)), parts=parts)] if body else []
