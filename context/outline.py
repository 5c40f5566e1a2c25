"""The outline of one source file: its definitions (with signatures and docs) and its imports.

The workspace index stores these so the prompt can show the model how the symbols used
around the cursor are declared elsewhere. Extraction is query-driven (`context.queries`);
this module turns query matches into `Definition`s: it decides method vs function from
the enclosing type, drops local definitions nested in function bodies, cuts the header
text at the body, and takes the doc from a Python docstring or the comments just above.
Everything stored passes through `secrets.redact`.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from tree_sitter import Language, Node, Parser, Query, QueryCursor

from context import syntax
from context.queries import SPECS, OutlineSpec
from context.secrets import redact

# Definitions and imports nested deeper than this (counted in syntax nodes from the root) are
# not looked for: skipping the deep expression trees inside function bodies halves query time.
MAX_START_DEPTH = 8
MAX_SIGNATURE = 300
MAX_DOC = 300
KINDS = ("function", "class", "method", "constant")
UPPER_NAME = re.compile(r"_*[A-Z][A-Z0-9_]*")
# nodes that wrap a definition without being part of its header (comments sit above them)
WRAPPERS = frozenset({"export_statement", "decorated_definition", "template_declaration", "ambient_declaration"})
# declarations whose single spec is the definition: the header starts at the keyword
SPEC_WRAPPERS = frozenset({"const_declaration", "type_declaration", "var_declaration"})
SKIPPED_SIBLINGS = frozenset({"attribute_item", "decorator", "annotation", "marker_annotation"})
# TypeScript declarations without a body (their `;` is not part of the node)
SIGNATURES_ONLY = frozenset({"method_signature", "abstract_method_signature", "function_signature"})
# what a container node is, where it is not a class (Java/TS interfaces, Rust traits and impls, ...)
CONTAINER_KINDS = {"interface_declaration": "interface", "trait_item": "trait", "impl_item": "impl",
                   "enum_declaration": "enum", "record_declaration": "record", "struct_specifier": "struct",
                   "union_specifier": "union", "variable_declarator": "object"}
COMMENT_MARKERS = ("///", "//!", "//", "#", "---", "--")


@dataclass(frozen=True, slots=True)
class Definition:
    """A named definition: where it is, its header text and the first paragraph of its doc."""

    name: str
    kind: str  # function | class | method | constant
    path: str  # relative posix path of the file
    line: int  # 0-based
    signature: str
    doc: str = ""
    container: str = ""  # the enclosing class (or type, for Go/Rust methods), "" at top level
    container_kind: str = ""  # what encloses it: class, interface, trait, impl, enum, struct, ...


@dataclass
class Outline:
    """What a file defines and what it imports (`module`, or `module:symbol` for named imports)."""

    definitions: list[Definition] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)


# Names too common to be worth looking up or showing callers of: keywords, builtins, language words
COMMON = frozenset(keyword.kwlist) | frozenset({
    "self", "cls", "None", "True", "False", "print", "len", "str", "int", "float", "dict", "list", "set",
    "tuple", "range", "isinstance", "super", "object", "const", "let", "var", "function", "return",
    "this", "new", "null", "undefined", "true", "false", "func", "fn", "pub", "impl", "mut", "use",
    "local", "end", "then", "void", "static", "public", "private", "struct", "type", "interface",
})

# `name(` at a call, not at a definition; a line longer than MAX_CALL_LINE is not kept
CALL = re.compile(rb"(?<![A-Za-z0-9_])(?<!def )(?<!function )(?<!func )(?<!fn )(?<!class )"
                  rb"([A-Za-z_][A-Za-z0-9_]*)\s?\(")
COMMON_BYTES = frozenset(n.encode("ascii") for n in COMMON)
CALL_TEXT = re.compile(CALL.pattern.decode("ascii"), re.ASCII)  # the same over the lines `call_lines` keeps
MAX_CALL_LINE = 160
CALLS_PER_NAME = 2
SPACE = re.compile(rb"\s+")
HEADER_LINES = 4  # how far below a definition's start its `name(` is looked for


def call_lines(source: bytes, definitions: Iterable[Definition] = ()) -> tuple[str, tuple[str, ...]]:
    """The lines `usages` may show from `source`, and the names they call. For each called name the
    first `CALLS_PER_NAME` distinct lines that call it are kept, stripped, in file order, joined by
    newlines into one string: a file's call lines cost one object, not one per line and list per
    name (`calls_in` finds a name's lines again). A regex, not a parse: it runs on every indexed
    file, and a stray match only costs a line. The header of each of the file's `definitions` does
    not call the name it defines (`name(` in a Java or C method, a Lua `function M.name(`, a Go
    method, a JavaScript class method; the regex knows only `def`, `function`, `func`, `fn` and
    `class`). Not redacted here (that is per line, and slow): `retrieval.usages` redacts what it
    hands out."""
    lines = source.split(b"\n")
    defined = _header_lines(lines, definitions)
    found: dict[bytes, list[bytes]] = {}
    kept: list[bytes] = []
    for number, raw in enumerate(lines):
        if b"(" not in raw:
            continue
        line = raw.strip()
        if len(line) > MAX_CALL_LINE or line.startswith((b"#", b"//", b"--", b"*")):
            continue
        keep = False
        for raw_name in CALL.findall(line):
            if raw_name in COMMON_BYTES or raw_name in defined.get(number, ()):
                continue  # `usages` never shows callers of `print` or `len`, nor a definition as a call
            calls = found.setdefault(raw_name, [])
            if len(calls) < CALLS_PER_NAME and line not in calls:
                calls.append(line)
                keep = True
        if keep:
            kept.append(line)
    # a name repeats across thousands of files: one string for all
    names = tuple(sys.intern(n.decode("ascii")) for n in found)
    return b"\n".join(kept).decode("utf-8", "replace"), names


def _header_lines(lines: list[bytes], definitions: Iterable[Definition]) -> dict[int, set[bytes]]:
    """Line number -> the names defined there: for each definition, the first line from its start
    (annotations, decorators and template lines come first) where `name(` is part of its header (a
    `class Foo:` has none; the `Foo()` below it is a call). The search stops at a line too long
    for `call_lines` to keep: there is nothing to mark on it, and a minified file's one line holds
    thousands of definitions (reading it whole for each took a minute for 600 KB)."""
    defined: dict[int, set[bytes]] = {}
    too_long: dict[int, bool] = {}
    for d in definitions:
        if not d.name.isascii():
            continue
        name = d.name.encode("ascii")
        for number in range(d.line, min(d.line + HEADER_LINES, len(lines))):
            line = lines[number]
            if len(line) > MAX_CALL_LINE:
                if number not in too_long:
                    too_long[number] = len(line.strip()) > MAX_CALL_LINE
                if too_long[number]:
                    break
            end = _name_call_end(line, name)
            if end >= 0:
                if SPACE.sub(b"", line[:end]) in SPACE.sub(b"", d.signature.encode("utf-8")):
                    defined.setdefault(number, set()).add(name)
                break
    return defined


def _name_call_end(line: bytes, name: bytes) -> int:
    """Where the first `name(` (or `name (`) of `line` ends, -1 if none. Plain `find`s, not a regex
    per name: this runs for every definition of every file indexed."""
    at = line.find(name)
    while at >= 0:
        end = at + len(name)
        if at == 0 or not (line[at - 1:at].isalnum() or line[at - 1] == 95):  # 95: "_"
            if line[end:end + 1] == b"(":
                return end + 1
            if line[end:end + 2] == b" (":
                return end + 2
        at = line.find(name, end)
    return -1


def calls_in(text: str, name: str) -> list[str]:
    """The lines of `text` (from `call_lines`) that call `name`: the first `CALLS_PER_NAME` distinct
    lines of the file that do."""
    found: list[str] = []
    for line in text.split("\n"):
        if name in line and name in CALL_TEXT.findall(line) and line not in found:
            found.append(line)
            if len(found) == CALLS_PER_NAME:
                break
    return found


@cache
def _query(language_id: str) -> tuple[OutlineSpec, Language, Query] | None:
    """One query for definitions and imports: a single pass over the tree finds both."""
    spec, lang = SPECS.get(language_id), syntax.language(language_id)
    if spec is None or lang is None:
        return None
    return spec, lang, Query(lang, spec.definitions + spec.imports)


def outline(language_id: str, source: bytes, path: str = "") -> Outline:
    """Parse `source` and extract its definitions and imports (empty for unknown languages)."""
    compiled = _query(language_id)
    if compiled is None:
        return Outline()
    spec, lang, query = compiled
    root = Parser(lang).parse(source).root_node
    cursor = QueryCursor(query)
    cursor.set_max_start_depth(MAX_START_DEPTH)
    result = Outline()
    seen: set[tuple[int, str]] = set()
    imports: dict[str, None] = {}  # an ordered set
    for _, caps in cursor.matches(root):
        if "module" in caps:
            _add_import(imports, caps)
            continue
        definition = _match_definition(spec, caps, source, path)
        if definition is not None and (definition.line, definition.name) not in seen:
            seen.add((definition.line, definition.name))
            result.definitions.append(definition)
    result.imports = list(imports)
    return result


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _match_definition(spec: OutlineSpec, caps: dict[str, list[Node]], source: bytes,
                      path: str) -> Definition | None:
    kind = next((k for k in KINDS if f"definition.{k}" in caps), None)
    if kind is None or "name" not in caps:
        return None
    return _definition(spec, kind, caps[f"definition.{kind}"][0], caps, source, path)


def _definition(spec: OutlineSpec, kind: str, node: Node, caps: dict[str, list[Node]], source: bytes,
                path: str) -> Definition | None:
    name, owner = _split_qualified(_text(caps["name"][0]))
    if kind == "constant" and not spec.all_constants and not UPPER_NAME.fullmatch(name):
        return None
    found = _enclosing(spec, node)
    if found is None:
        return None
    enclosing, enclosing_kind = found
    owner = owner or enclosing
    if kind == "function" and owner:
        kind = "method"  # defined in a class body, or C++ `Klass::name` out of line
    # an explicit @container (Go receivers, Lua `function M.f`) names the owner but keeps the kind
    container = _text(caps["container"][0]) if "container" in caps else owner
    signature = redact(_signature(node, caps, kind, source))
    doc = redact(_doc(spec, node, caps))
    container_kind = enclosing_kind if container and container == enclosing else ""
    return Definition(sys.intern(name), kind, path, node.start_point[0], signature, doc, sys.intern(container),
                      container_kind)


def _split_qualified(name: str) -> tuple[str, str]:
    """`ns::Klass::method` -> ("method", "Klass"); plain names have no container."""
    if "::" not in name:
        return name, ""
    parts = name.split("::")
    return parts[-1], parts[-2]


def _enclosing(spec: OutlineSpec, node: Node) -> tuple[str, str] | None:
    """The enclosing class's name and kind (`interface`, `trait`, ...; "" and "" at top level), or
    None for a definition local to a function."""
    container, kind = "", ""
    parent = node.parent
    while parent is not None:
        if parent.type in spec.scopes:
            return None
        if not container and parent.type in spec.containers:
            name_node = parent.child_by_field_name(spec.containers[parent.type])
            container = _text(name_node).split("<", 1)[0].strip() if name_node is not None else ""
            kind = kind or CONTAINER_KINDS.get(parent.type, "class")  # `const W = class {`: a class named W
        parent = parent.parent
    return container, kind


def _signature(node: Node, caps: dict[str, list[Node]], kind: str, source: bytes) -> str:
    """The header text: from the definition's start up to its body, joined onto one line."""
    parent, sole = node.parent, _sole_spec(node)
    start = parent.start_byte if sole else node.start_byte
    text = source[start:_header_end(node, caps)].decode("utf-8", "replace")
    if kind == "constant":
        text = text.split("\n", 1)[0]
    elif node.type in SIGNATURES_ONLY and not text.rstrip().endswith(";"):
        text = text.rstrip() + ";"  # no body: `fetch(url: string): Promise<Response>;`
    if not sole and parent is not None and parent.type in SPEC_WRAPPERS and parent.child_count:
        text = f"{_text(parent.children[0])} {text}"  # one of a `const ( )` group: `const Max = 5`
    return _clip(join_lines(text), MAX_SIGNATURE)


def _sole_spec(node: Node) -> bool:
    """`const X = 1` / `type T struct`: the declaration's one spec, not in a `( )` group (its header
    starts at the keyword; `type (` would start a group's)."""
    parent = node.parent
    return (parent is not None and parent.type in SPEC_WRAPPERS and parent.named_child_count == 1
            and not any(c.type == "(" for c in parent.children))


def _header_end(node: Node, caps: dict[str, list[Node]]) -> int:
    """Where the header ends: at the body, after `@header_end`, or before a comment after the name."""
    if "body" in caps:
        end = caps["body"][0].start_byte
    elif "header_end" in caps:
        end = caps["header_end"][0].end_byte
    else:
        end = node.end_byte
    after_name = caps["name"][0].end_byte
    for child in node.children:
        if "comment" in child.type and after_name <= child.start_byte < end:
            return child.start_byte
    return end


def join_lines(text: str) -> str:
    """Join a multi-line header onto one line: `f(\\n    a,\\n)` -> `f(a)`."""
    out = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith(("(", "[", "{", "<")):
            out += line
        elif line.startswith((")", "]", "}", ">")):
            out = out.rstrip(",") + line
        else:
            out += " " + line
    return out


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _doc(spec: OutlineSpec, node: Node, caps: dict[str, list[Node]]) -> str:
    """The first paragraph of the docstring, else of the comments right above the definition."""
    if spec.docstrings and "body" in caps:
        doc = _python_docstring(caps["body"][0])
        if doc:
            return doc
    return first_paragraph(_leading_comments(node))


def _python_docstring(body: Node) -> str:
    first = body.named_children[0] if body.named_child_count else None
    if first is None or first.type != "expression_statement" or first.named_child_count != 1:
        return ""
    string = first.named_children[0]
    if string.type != "string":
        return ""
    content = "".join(_text(c) for c in string.named_children if c.type == "string_content")
    return first_paragraph(content)


def _leading_comments(node: Node) -> str:
    anchor = node
    while anchor.parent is not None and (anchor.parent.type in WRAPPERS or _sole_spec(anchor)):
        anchor = anchor.parent
    row = anchor.start_point[0]
    comments: list[str] = []
    sibling = anchor.prev_sibling
    while sibling is not None and sibling.end_point[0] >= row - 1:
        if sibling.type in SKIPPED_SIBLINGS:
            row = sibling.start_point[0]
        elif "comment" in sibling.type and not _trailing(sibling):
            comments.append(_clean_comment(_text(sibling)))
            row = sibling.start_point[0]
        else:
            break
        sibling = sibling.prev_sibling
    return "\n".join(reversed(comments))


def _trailing(comment: Node) -> bool:
    """A comment at the end of a line of code belongs to that code, not to what follows. (A
    preprocessor line's node ends at column 0 of the next line: that is not the comment's line.)"""
    before = comment.prev_sibling
    return (before is not None and "comment" not in before.type and before.end_point[0] == comment.start_point[0]
            and before.end_point[1] > 0)


def _clean_comment(text: str) -> str:
    text = text.strip()
    if text.startswith("/*"):
        text = text[2:].removesuffix("*/").lstrip("*!")
        return "\n".join(line.strip().removeprefix("*").strip() for line in text.splitlines())
    if text.startswith("--[["):
        return text[4:].removesuffix("]]").strip()
    lines = []
    for line in text.splitlines():
        line = line.strip()
        marker = next((m for m in COMMENT_MARKERS if line.startswith(m)), "")
        lines.append(line[len(marker):].strip())
    return "\n".join(lines)


def first_paragraph(text: str) -> str:
    """The first paragraph of a doc comment on one line, stopping at JSDoc-style `@tags`."""
    lines: list[str] = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        if not line or line.startswith("@"):
            break
        lines.append(line)
    return _clip(" ".join(lines), MAX_DOC)


def _add_import(names: dict[str, None], caps: dict[str, list[Node]]) -> None:
    module = _module_name(caps["module"][0])
    if not module:
        return
    names[module] = None
    for symbol in caps.get("symbol", []):
        names[f"{module}:{_text(symbol)}"] = None


def _module_name(node: Node) -> str:
    return " ".join(_text(node).split()).strip("\"'`<>")
