"""Offline context benchmark: cut holes in real repositories and complete them (RepoEval, CrossCodeEval).

A repository is read as a workspace from its source tree: one of the pinned packages below
(fetched once as an sdist from PyPI, or packed from npm, and unpacked under the cache folder)
or any checkout (`--repo /path/to/checkout`). Holes of three kinds are cut, seeded and
deterministic (candidates in path order, then sampled):

- `line`: the rest of a line from a random cursor position within it, at least two characters
  (a code line: not blank, not a comment or docstring, not inside a multi-line string);
- `api`: the rest of a line from right after the opening parenthesis of a call to a function or
  class defined in another file of the repository: imported by name (`from .utils import f`,
  `import f from './f.js'`) or called through an imported module (`utils.f(`), and defined at top
  level only in other files (per the workspace index). The callee's name stays visible, so the
  hole measures what cross-file definitions are for: the arguments. Calls without arguments on
  that line are not used;
- `block`: a function body after its header and docstring, 2 to `--block-lines` lines, the cursor
  at the first statement's indentation (as an editor leaves it after Enter and auto-indent).
- `call`: the same calls as `api`, cut CrossCodeEval's way: from the call's first name to the end of
  the line (`utils.f(a, b)` from `utils`), so the model must also write which function it calls.

The text after the hole stays in the document (the model may use it). The hole's ground truth is
never visible to retrieval: the workspace is indexed from a temporary copy, in which the holed file
is rewritten without the hole and re-indexed before the prompt is built (restored afterwards). The
other files given as open documents (`similar`) are 3 to 5 files the holed file imports or is
imported by, else files of its folder.

Each configuration (`prefix`, `suffix`, `crossfile`, `nousages` (`all` without callers' lines),
`noimports` (`all` without the file's imports cut off by the window), `nofilecalls` (`all` without
the lines of the holed file outside the prompt that call the function at the cursor), `all`, `local` (`all` without
other files: suffix, scope headers, imports, file path), `gated` (`all`, with other files only
inside a call of a function another workspace file defines, `context.selective = "call"`), `callee`
(there, that function's definition and callers only); `header` and `scoped` (the bare prefix plus
the file path, or plus the scope headers and imports); `suffix10` and `all10` (ten lines after the
cursor, 800 characters); `nosuffix` and `gatednosuffix` (`all` and `gated` with no text after the
cursor): see `configs()`) builds its prompt with
`context.assemble.build`, as the server does; context build time and prompt tokens are measured
for every hole. The model runs on a seeded subsample (`--holes` per configuration, stratified by
kind), one configuration after the other, holes in file and offset order so consecutive prompts
share their prefix in the KV cache. As in the server, a cursor after nothing but indentation has its
prompt leave out the indentation's last character (the model writes it, and it is taken off its
first line again: `lsp_server.pipeline.indent`), and a cursor inside a word (or after punctuation
or a line's trailing space) has the prompt leave out that word, which the engine must write again
before anything else (token healing: `lsp_server.pipeline.heal`); `prefixraw` and `allraw` are
`prefix` and `all` without token healing, as every round before it; `near` is `all` with other files'
snippets in `context.order = "relevance"` (similar code first, the callee's definition and callers
nearest the cursor); `wide` is `all` with an 800-token snippet budget instead of 400; `repowide` is
`all` with similar code drawn from every file of the workspace but the holed one (the way RepoCoder
and CrossCodeEval retrieve), not from the 3 to 5 open neighbours. The
prefix window is `--prefix-chars` (3,000 by default, where the server's is 8,000: shorter prompts keep a
full run within hours; bench/repo_eval.md measures both). A configuration whose prompt for a hole is the same
as one already run (`gated` outside calls is `local`) takes that run's suggestion (greedy decoding)
and records `same_prompt_as`. Output goes through the server's stop rules: the first line for
line and api holes; block_end, max_lines, stop_at_suffix and repeated_lines for block holes.
Metrics: exact match (trailing whitespace stripped; block holes compare their non-blank lines,
right-stripped) and edit similarity = 1 - Levenshtein distance / max(len) of the same strings.
Api and call holes are also split by where their answer is: whether the whole call is written
anywhere else in the repository (`call_elsewhere`), and whether each configuration's prompt shows it
(`call_in_prompt`: in the window, in the snippets, or absent).

Recent edits (part of `all`) contribute nothing here: an offline hole has no edit history.

    python bench/repo_eval.py --repo requests|click|jinja2|flask|rich|lodash-es|all|PATH
        [--lang python] [--holes 24] [--seed 0] [--configs prefix,suffix,...,all,local,gated,callee]
        [--model NAME] [--no-model] [--prefix-chars 3000] [--pad-files 2000] [--tag NAME] [--only FILE] [--prompts-only]

Writes bench/results/repo_eval-<repo>.json and bench/results/repo_eval-<repo>.png (with `--repo all`,
one pair per repository and the pooled figures in repo_eval-all.*; `--pad-files N` runs are written
as repo_eval-<repo>-padN.*, runs with another `--model` as repo_eval-<repo>-<model>.*, and `--tag NAME`
adds -NAME). `--pad-files 2000 --no-model` is the context-only pass at scale: the
workspace is padded with site-packages sources (packages that vendor an evaluated repository are
left out), holes are still cut in the repository only. `--only FILE` runs the model on the listed
picked holes alone (REPO/HOLE_ID lines): a change that alters few prompts is measured on those, and
`bench/compare_runs.py` fills in the other holes from an earlier run. Every run records the picked
holes' prompts, hashed (`prompt_sha`, per configuration); `--prompts-only` builds them with the model's
tokenizer and predicts nothing, and `bench/changed_prompts.py` lists the holes whose prompt differs
between two such runs (before and after a change): the `--only` file.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tree_sitter import Node, Query, QueryCursor  # noqa: E402

from context import assemble, syntax  # noqa: E402
from context import prompt as prompts  # noqa: E402
from context.index import WorkspaceIndex  # noqa: E402
from context.workspace_files import WorkspaceFiles  # noqa: E402
from lsp_server.pipeline import heal, indent  # noqa: E402
from tuning.metrics import levenshtein, pct  # noqa: E402

RESULTS = ROOT / "bench" / "results"

# name -> (registry, version, language). Pure-Python packages and one pure-JS package.
PINNED: dict[str, tuple[str, str, str]] = {
    "requests": ("pypi", "2.32.3", "python"),
    "click": ("pypi", "8.1.7", "python"),
    "jinja2": ("pypi", "3.1.4", "python"),
    "flask": ("pypi", "3.0.3", "python"),
    "rich": ("pypi", "13.9.4", "python"),
    "lodash-es": ("npm", "4.17.21", "javascript"),
}
ALL = ["requests", "click", "jinja2", "flask", "rich"]

KINDS = ("line", "api", "block", "call")  # new kinds go last: the seeded picks of the others stay as they were
SNIPPET_SOURCES = ("definitions", "usages", "similar", "edits", "scopes", "file_calls")
DEFAULT_CUT = {"line": 100, "api": 80, "block": 60, "call": 80}
CONTEXT_TARGET_P95_MS = 30.0
ASSUMED_PREFILL_TOKENS_PER_S = 40.0  # 2-core CPU, qwen2.5-coder-0.5b; replaced by the measured rate


# Configurations with ten lines after the cursor, where the server takes the rest of the cursor's line only
TEN_LINES = {"suffix_lines": 10, "suffix_chars": 800}
SHAPES = {"suffix10": TEN_LINES, "all10": TEN_LINES}
WORKSPACE_SIMILAR = {"repowide"}  # similar code from every file of the workspace, not the open neighbours
UNHEALED = {"prefixraw", "allraw"}  # configurations whose prompts end where the cursor is (no token healing)


def configs() -> dict[str, assemble.ContextConfig]:
    """The configurations compared, from least to most context."""
    prefix = assemble.ContextConfig.prefix_only()
    suffix = assemble.ContextConfig.prefix_only()
    suffix.suffix = True
    crossfile = assemble.ContextConfig(suffix=True, definitions=True, usages=True, similar=True, edits=False,
                                       scopes=False, path_header=True)
    nousages = assemble.ContextConfig(usages=False)
    noimports = assemble.ContextConfig(imports=False)
    local = assemble.ContextConfig(definitions=False, usages=False, similar=False)
    header = assemble.ContextConfig.prefix_only()
    header.path_header = True
    scoped = assemble.ContextConfig.prefix_only()
    scoped.scopes = True
    return {"prefix": prefix, "suffix": suffix, "crossfile": crossfile, "nousages": nousages,
            "noimports": noimports, "all": assemble.ContextConfig(), "local": local,
            "gated": assemble.ContextConfig(selective="call"), "callee": assemble.ContextConfig(selective="callee"),
            "header": header, "scoped": scoped, "suffix10": suffix, "all10": assemble.ContextConfig(),
            "nosuffix": assemble.ContextConfig(suffix=False),
            "nofilecalls": assemble.ContextConfig(file_calls=False),
            "gatednosuffix": assemble.ContextConfig(suffix=False, selective="call"),
            "prefixraw": assemble.ContextConfig.prefix_only(), "allraw": assemble.ContextConfig(),
            "near": assemble.ContextConfig(order="relevance"),
            "wide": assemble.ContextConfig(budget_tokens=800), "repowide": assemble.ContextConfig()}


# ---- fetching the pinned repositories


def default_cache() -> Path:
    """Where unpacked repositories live: next to the models (~/.cache/tacit/repos)."""
    from lsp_server.models import cache_dir

    return cache_dir().parent / "repos"


def fetch(name: str, cache: Path) -> Path:
    """The source tree of a pinned package, downloaded and unpacked on first use."""
    registry, version, _ = PINNED[name]
    dest = cache / f"{name}-{version}"
    if not (dest / ".complete").exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        with tempfile.TemporaryDirectory(prefix="tacit-fetch-") as tmp:
            if registry == "pypi":
                cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                       f"{name}=={version}", "-d", tmp, "--disable-pip-version-check", "-q"]
            else:
                cmd = ["npm", "pack", f"{name}@{version}", "--pack-destination", tmp, "--silent"]
            print(f"fetching {name} {version}: {' '.join(cmd)}", flush=True)
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            archives = sorted(Path(tmp).iterdir())
            if len(archives) != 1:
                raise SystemExit(f"expected one archive for {name}, got {[a.name for a in archives]}")
            unpack(archives[0], dest)
        (dest / ".complete").write_text(f"{registry} {name} {version}\n")
    tops = [p for p in dest.iterdir() if not p.name.startswith(".")]
    return tops[0] if len(tops) == 1 and tops[0].is_dir() else dest


def unpack(archive: Path, dest: Path) -> None:
    """Unpack an sdist, npm tarball or wheel; archive members may not escape `dest`."""
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z:
            for member in z.namelist():
                if not (dest / member).resolve().is_relative_to(dest.resolve()):
                    raise SystemExit(f"unsafe member {member} in {archive.name}")
            z.extractall(dest)
    else:
        with tarfile.open(archive) as t:
            t.extractall(dest, filter="data")


# ---- the workspace


@dataclass
class Workspace:
    """A temporary copy of a repository, its index, and the texts of the files holes are cut in."""

    name: str
    language: str
    root: Path  # the copy
    index: WorkspaceIndex
    texts: dict[str, str]  # rel path -> text, files of `language` only (not the padding)
    imports: dict[str, set[str]] = field(default_factory=dict)  # rel -> files it imports
    resolver: ImportResolver | None = None
    pad_files: int = 0

    def path(self, rel: str) -> Path:
        return self.root / rel


def copy_workspace(source: Path, dest: Path) -> int:
    """Copy the files the index may read (gitignore respected, secrets never opened)."""
    files = WorkspaceFiles([source])
    n = 0
    for path in files.walk():
        data, _ = files.read(path)
        if data is None:
            continue
        target = dest / files.rel(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.data)
        n += 1
    return n


def pad_workspace(dest: Path, have: int, want: int, exclude: set[str]) -> int:
    """Add whole packages' .py files from site-packages under `_pad/` until `want` files in all.

    Packages that vendor a copy of an evaluated repository (pip vendors requests and rich) are
    left out: their code would leak the ground truth.
    """
    site = Path(sysconfig.get_paths()["purelib"])
    added = 0
    for package in sorted(p for p in site.iterdir() if p.is_dir() and not p.name.endswith(".dist-info")):
        if have + added >= want:
            break
        sources = [p for p in sorted(package.rglob("*.py")) if "__pycache__" not in p.parts]
        names = {part.lower() for p in sources for part in p.relative_to(site).parts}
        if names & exclude:
            continue
        for src in sources:
            target = dest / "_pad" / src.relative_to(site)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            added += 1
    return added


def open_workspace(name: str, source: Path, language: str | None, tmp: Path, pad: int) -> Workspace:
    """Copy `source` to `tmp`, index it, and read the texts of the evaluated language."""
    copied = copy_workspace(source, tmp)
    padded = pad_workspace(tmp, copied, pad, {name.lower(), *ALL}) if pad > copied else 0
    index = WorkspaceIndex([tmp])
    t0 = time.perf_counter()
    index.build()
    print(f"{name}: {copied} files (+{padded} padding), indexed in {time.perf_counter() - t0:.1f} s", flush=True)
    entries = {rel: e for rel, e in index.files.items() if not rel.startswith("_pad/")}
    if language is None:
        counts = Counter(e.language for e in entries.values() if e.language in QUERIES)
        if not counts:
            raise SystemExit(f"no files in a supported language ({', '.join(QUERIES)}) under {source}")
        language = counts.most_common(1)[0][0]
    if language not in QUERIES:
        raise SystemExit(f"--lang {language}: holes can be cut in {', '.join(QUERIES)} only")
    texts = {rel: (tmp / rel).read_text(encoding="utf-8") for rel, e in sorted(entries.items())
             if e.language == language}
    ws = Workspace(name, language, tmp, index, texts, pad_files=padded)
    ws.resolver = ImportResolver(list(texts), language)
    ws.imports = {rel: ws.resolver.resolve(rel, entries[rel].imports) for rel in texts}
    return ws


class ImportResolver:
    """Which workspace files an import names (Python modules, relative JS/TS specifiers)."""

    def __init__(self, paths: list[str], language: str) -> None:
        self.paths = set(paths)
        self.language = language
        self.modules: dict[str, str] = {}  # dotted suffix -> path (shortest path wins)
        if language == "python":
            for p in sorted(paths, key=lambda p: (p.count("/"), p)):
                parts = list(PurePosixPath(p).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                for i in range(len(parts)):
                    self.modules.setdefault(".".join(parts[i:]), p)

    def resolve(self, rel: str, imports: list[str]) -> set[str]:
        found: set[str] = set()
        named = {e.partition(":")[0] for e in imports if ":" in e}
        for entry in imports:
            module, _, symbol = entry.partition(":")
            if not symbol and module in named:
                continue  # `from pkg import util` names pkg/util.py, not pkg/__init__.py
            for candidate in self._candidates(rel, module, symbol):
                if candidate in self.paths and candidate != rel:
                    found.add(candidate)
                    break
        return found

    def _candidates(self, rel: str, module: str, symbol: str) -> Iterator[str]:
        here = PurePosixPath(rel).parent
        if self.language == "python":
            if module.startswith("."):
                dots = len(module) - len(module.lstrip("."))
                base = here
                for _ in range(dots - 1):
                    base = base.parent
                rest = [p for p in module.lstrip(".").split(".") if p]
                names = [*rest, symbol] if symbol and symbol != "*" else rest
                for parts in (names, rest):
                    stem = base.joinpath(*parts) if parts else base
                    yield f"{stem}.py".removeprefix("./")
                    yield f"{stem}/__init__.py".removeprefix("./")
            else:
                for name in ([f"{module}.{symbol}"] if symbol and symbol != "*" else []) + [module]:
                    if name in self.modules:
                        yield self.modules[name]
        elif module.startswith("."):
            stem = os.path.normpath(str(here / module)).removeprefix("./")
            for ext in ("", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", "/index.js", "/index.ts"):
                yield stem + ext


def neighbours(ws: Workspace, rel: str, imports: set[str], most: int = 5, least: int = 3) -> list[str]:
    """The files open beside `rel`: what it imports, what imports it, then files of its folder."""
    importers = sorted(p for p, deps in ws.imports.items() if rel in deps and p != rel)
    folder = str(PurePosixPath(rel).parent)
    same_dir = sorted(p for p in ws.texts if p != rel and str(PurePosixPath(p).parent) == folder)
    chosen: list[str] = []
    for p in [*sorted(imports), *importers]:
        if p not in chosen and p != rel and len(chosen) < most:
            chosen.append(p)
    for p in same_dir:
        if len(chosen) >= least:
            break
        if p not in chosen:
            chosen.append(p)
    return chosen


# ---- cutting holes


@dataclass(frozen=True)
class Hole:
    """A span of a file to be completed: the document is the file without it, the cursor at `start`."""

    kind: str  # line | api | block
    path: str
    start: int  # code-point offsets into the original text
    end: int
    truth: str
    indent: int = 0  # block holes: the body's indentation (where block_end stops)
    callee: str = ""  # api holes: the called name, and a file that defines it
    defined_in: str = ""
    call_start: int = -1  # api and call holes: where the call expression starts (its first name)

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.path}:{self.start}"

    def document(self, text: str) -> str:
        """The file as the model sees it: without the hole."""
        return text[: self.start] + text[self.end:]


@dataclass(frozen=True)
class LangQueries:
    """Tree-sitter patterns for cutting holes in one language."""

    calls: str
    functions: str
    imports: str
    strings: tuple[str, ...]
    comment_prefixes: tuple[str, ...]


_JS = LangQueries(
    calls="""
    (call_expression function: (identifier) @callee arguments: (arguments) @args)
    (call_expression function: (member_expression object: (identifier) @object
        property: (property_identifier) @callee) arguments: (arguments) @args)
    (new_expression constructor: (identifier) @callee arguments: (arguments) @args)
    """,
    functions="""
    (function_declaration body: (statement_block) @body)
    (generator_function_declaration body: (statement_block) @body)
    (function_expression body: (statement_block) @body)
    (arrow_function body: (statement_block) @body)
    (method_definition body: (statement_block) @body)
    """,
    imports="(import_statement) @import",
    strings=("template_string", "string", "comment"),
    comment_prefixes=("//", "/*", "*"),
)

QUERIES: dict[str, LangQueries] = {
    "python": LangQueries(
        calls="""
        (call function: (identifier) @callee arguments: (argument_list) @args)
        (call function: (attribute object: (identifier) @object attribute: (identifier) @callee)
            arguments: (argument_list) @args)
        """,
        functions="(function_definition body: (block) @body)",
        imports="[(import_statement) (import_from_statement)] @import",
        strings=("string",),
        comment_prefixes=("#",),
    ),
    "javascript": _JS,
    "typescript": _JS,
}


class SourceFile:
    """A file's text, bytes and tree, with byte -> code point conversion."""

    def __init__(self, language: str, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8", "surrogatepass")
        self.ascii = len(self.data) == len(text)
        tree = syntax.parse(language, text)
        assert tree is not None, language
        self.root = tree.root_node
        self.line_starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.line_starts.append(i + 1)

    def char(self, byte: int) -> int:
        return byte if self.ascii else len(self.data[:byte].decode("utf-8", "surrogatepass"))

    def line_end(self, offset: int) -> int:
        nl = self.text.find("\n", offset)
        return len(self.text) if nl < 0 else nl

    def captures(self, language: str, pattern: str) -> list[dict[str, list[Node]]]:
        return [caps for _, caps in QueryCursor(_query(language, pattern)).matches(self.root)]


@cache
def _query(language: str, pattern: str) -> Query:
    return Query(syntax.language(language), pattern)


def cut_holes(ws: Workspace, quotas: dict[str, int], seed: int, block_lines: int = 12) -> list[Hole]:
    """Seeded holes of each kind over the workspace's files (at most `quotas[kind]` each)."""
    rng = random.Random(f"repo-eval:{seed}")
    candidates: dict[str, list] = {k: [] for k in KINDS}
    for rel, text in sorted(ws.texts.items()):
        src = SourceFile(ws.language, text)
        candidates["line"].extend((rel, row) for row in line_rows(ws.language, src))
        for hole in api_holes(ws, rel, src):
            candidates[hole.kind].append(hole)
        candidates["block"].extend(block_holes(ws.language, rel, src, block_lines))
    holes: list[Hole] = []
    for kind in KINDS:
        pool = candidates[kind]
        picked = sorted(rng.sample(range(len(pool)), min(quotas.get(kind, 0), len(pool))))
        if kind != "line":
            holes.extend(pool[i] for i in picked)
            continue
        for i in picked:  # a random cursor column within each chosen line
            rel, row = pool[i]
            text = ws.texts[rel]
            start = _line_start(text, row)
            nl = text.find("\n", start)
            line = text[start: nl if nl >= 0 else len(text)].rstrip()
            indent = len(line) - len(line.lstrip())
            col = rng.randrange(indent, len(line) - 1)  # at least two characters to complete
            holes.append(Hole("line", rel, start + col, start + len(line), line[col:]))
    return sorted(holes, key=lambda h: (h.path, h.start, h.kind))


def _line_start(text: str, row: int) -> int:
    pos = 0
    for _ in range(row):
        pos = text.index("\n", pos) + 1
    return pos


def line_rows(language: str, src: SourceFile) -> list[int]:
    """Rows that are code: not blank, not comments, not docstrings, not inside a multi-line string."""
    spec = QUERIES[language]
    covered: set[int] = set()
    pattern = " ".join(f"({t}) @s" for t in spec.strings)
    for caps in src.captures(language, pattern):
        for node in caps["s"]:
            first, last = node.start_point[0], node.end_point[0]
            if node.parent is not None and node.parent.type == "expression_statement":
                covered.update(range(first, last + 1))  # a docstring, or a string as a statement
            elif last > first:
                line = src.data[src.data.rfind(b"\n", 0, node.start_byte) + 1: node.start_byte]
                covered.update(range(first if not line.strip() else first + 1, last + 1))
    rows = []
    for row, start in enumerate(src.line_starts):
        line = src.text[start: src.line_end(start)].strip()
        if len(line) >= 3 and row not in covered and not line.startswith(spec.comment_prefixes):
            rows.append(row)
    return rows


def imported_names(language: str, src: SourceFile) -> tuple[dict[str, str], set[str]]:
    """(local name -> imported name, local names bound to whole modules) of a file's imports."""
    names: dict[str, str] = {}
    modules: set[str] = set()
    for caps in src.captures(language, QUERIES[language].imports):
        for node in caps["import"]:
            if language == "python":
                _python_import(node, names, modules)
            else:
                _js_import(node, names, modules)
    return names, modules


def _text(node: Node | None) -> str:
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""


def _python_import(node: Node, names: dict[str, str], modules: set[str]) -> None:
    module = node.child_by_field_name("module_name")
    for child in node.children_by_field_name("name"):
        if child.type == "aliased_import":
            original, local = _text(child.child_by_field_name("name")), _text(child.child_by_field_name("alias"))
        else:
            original = local = _text(child).split(".")[0]
        if node.type == "import_statement":
            modules.add(local)
        elif module is not None:
            names[local] = original.split(".")[-1]


def _js_import(node: Node, names: dict[str, str], modules: set[str]) -> None:
    for clause in (c for c in node.named_children if c.type == "import_clause"):
        for part in clause.named_children:
            if part.type == "identifier":
                names[_text(part)] = _text(part)
            elif part.type == "namespace_import":
                modules.update(_text(c) for c in part.named_children if c.type == "identifier")
            elif part.type == "named_imports":
                for spec in (s for s in part.named_children if s.type == "import_specifier"):
                    name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                    names[_text(alias or name)] = _text(name)


def _top_level(ws: Workspace, name: str, rel: str, other_files: bool) -> list:
    return [d for d in ws.index.lookup(name) if d.kind in ("function", "class") and not d.container
            and (d.path != rel) == other_files and not d.path.startswith("_pad/")]


def api_holes(ws: Workspace, rel: str, src: SourceFile) -> list[Hole]:
    """Calls (with arguments) to functions or classes that only other files of the repository define:
    an `api` hole after the opening parenthesis and a `call` hole from the call's first name."""
    names, modules = imported_names(ws.language, src)
    holes: list[Hole] = []
    for caps in src.captures(ws.language, QUERIES[ws.language].calls):
        callee, args = _text(caps["callee"][0]), caps["args"][0]
        obj = _text(caps["object"][0]) if "object" in caps else ""
        if obj:  # module.function(...): the object is an imported module, not a repository name
            if not (obj in modules or (obj in names and not ws.index.lookup(names[obj]))):
                continue
            target = callee
        elif callee in names:
            target = names[callee]
        else:
            continue
        defined = _top_level(ws, target, rel, other_files=True)
        if not defined or _top_level(ws, target, rel, other_files=False) or args.named_child_count == 0:
            continue
        start = src.char(args.start_byte) + 1
        end = src.line_end(start)
        truth = src.text[start:end].rstrip()
        if len(truth.strip()) < 2:
            continue  # the arguments start on the next line
        # CrossCodeEval's cut: from the first cross-file name (`utils.f(` from `utils`), so the name is
        # part of what the model must write
        first = src.char((caps["object"] if obj else caps["callee"])[0].start_byte)
        where = dict(callee=target, defined_in=min(d.path for d in defined), call_start=first)
        holes.append(Hole("api", rel, start, start + len(truth), truth, **where))
        holes.append(Hole("call", rel, first, start + len(truth), src.text[first:start] + truth, **where))
    return holes


def block_holes(language: str, rel: str, src: SourceFile, most_lines: int) -> list[Hole]:
    """Function bodies (after the docstring) of 2 to `most_lines` non-blank lines, each on its own lines."""
    holes: list[Hole] = []
    for caps in src.captures(language, QUERIES[language].functions):
        body = caps["body"][0]
        statements = list(body.named_children)
        if language == "python" and statements and _is_docstring(statements[0]):
            statements = statements[1:]
        if not statements:
            continue
        first, last = statements[0], statements[-1]
        start, end = src.char(first.start_byte), src.char(last.end_byte)
        line_start = src.text.rfind("\n", 0, start) + 1
        if src.text[line_start:start].strip() or first.start_point[0] <= body.parent.start_point[0]:
            continue  # the body starts on the header's line
        if language != "python" and "\n" not in src.text[end: src.char(body.end_byte)]:
            continue  # the closing brace shares the last statement's line
        truth = src.text[start:end]
        if not 2 <= len([ln for ln in truth.split("\n") if ln.strip()]) <= most_lines:
            continue
        holes.append(Hole("block", rel, start, end, truth, indent=start - line_start))
    return holes


def _is_docstring(node: Node) -> bool:
    return node.type == "expression_statement" and node.named_child_count == 1 and \
        node.named_children[0].type in ("string", "concatenated_string")


# ---- prompts for holes


@contextmanager
def holed(ws: Workspace, hole: Hole) -> Iterator[str]:
    """The workspace with `hole` cut out of its file (on disk and in the index); yields the document."""
    path = ws.path(hole.path)
    document = hole.document(ws.texts[hole.path])
    path.write_text(document, encoding="utf-8")
    ws.index.update_path(path)
    try:
        yield document
    finally:
        path.write_text(ws.texts[hole.path], encoding="utf-8")
        ws.index.update_path(path)


@dataclass
class Built:
    """One hole's prompt under one configuration, and what it cost to build."""

    prompt: prompts.Prompt | None  # kept only for holes the model runs on
    context_ms: float
    prompt_tokens: int
    sources: list[str]  # the sources that made it into the prompt
    call_in_prompt: str | None = None  # api and call holes: see `call_in_prompt`
    sha: str = ""  # `prompt_sha` of the prompt


def build_prompts(ws: Workspace, holes: list[Hole], cfgs: dict[str, assemble.ContextConfig],
                  template: prompts.Template, opts: prompts.PromptOptions,
                  count_tokens: Callable[[str], int], keep: set[str] | None = None,
                  progress: Callable[[int], None] | None = None) -> Iterator[tuple[Hole, dict[str, Built]]]:
    """Build every hole's prompt in each configuration, in file and offset order.

    Each file's prefix window keeps its anchor from one hole to the next, as it does while a
    developer moves down a file, so consecutive prompts share their prefix. Only `assemble.build`
    is timed: the server keeps trees and open documents current as edits arrive. Prompt objects
    are kept only for holes in `keep` (those the model will run on).
    """
    anchors: dict[tuple[str, str], int] = {}
    for n, hole in enumerate(sorted(holes, key=lambda h: (h.path, h.start, h.kind))):
        with holed(ws, hole) as document:
            # what the holed file imports now (a line hole may have cut an import)
            entry = ws.index.files.get(hole.path)
            imports = ws.resolver.resolve(hole.path, entry.imports) if entry and ws.resolver else set()
            docs = {p: ws.texts[p] for p in neighbours(ws, hole.path, imports)}
            tree = syntax.SyntaxDocument(ws.language, document).tree
            out: dict[str, Built] = {}
            for name, cfg in cfgs.items():
                shown = ({p: t for p, t in ws.texts.items() if p != hole.path} if name in WORKSPACE_SIMILAR
                         else docs)
                src = assemble.Sources(index=ws.index, documents=shown, tree=tree, repo_name=ws.name)
                anchor = anchors.get((name, hole.path))
                t0 = time.perf_counter()
                text, offset, ind = indent.cut(document, hole.start)  # as the server heals indentation
                healed = "" if name in UNHEALED else heal.tail(text, offset)  # and words
                prompt, _ = assemble.build(template, text, offset, hole.path, ws.language, cfg, src,
                                           dataclasses.replace(opts, **SHAPES.get(name, {})), count_tokens,
                                           anchor=anchor, heal=healed)
                prompt = dataclasses.replace(prompt, indent=ind)
                ms = (time.perf_counter() - t0) * 1000
                anchors[(name, hole.path)] = prompt.prefix_start
                out[name] = Built(prompt if keep is None or hole.id in keep else None, ms,
                                  count_tokens(prompt.text), prompt.sources,
                                  call_in_prompt(ws.texts[hole.path], hole, prompt), prompt_sha(prompt))
        if progress is not None:
            progress(n + 1)
        yield hole, out


def prompt_sha(prompt: prompts.Prompt) -> str:
    """What the model is given for a hole, hashed (text, the indentation taken off and the healed
    word): two runs whose hashes agree on a hole give the same greedy prediction, so a change is
    measured on the holes whose hash it changed (`bench/changed_prompts.py`, `--only`)."""
    return hashlib.sha256("\0".join((prompt.text, prompt.indent, prompt.heal)).encode()).hexdigest()[:16]


# ---- metrics


def normalize(text: str, kind: str) -> str:
    """What is compared: trailing whitespace stripped; block holes as their non-blank lines."""
    if kind == "block":
        return "\n".join(ln.rstrip() for ln in text.split("\n") if ln.strip())
    return text.rstrip()


def exact_match(prediction: str, truth: str, kind: str) -> bool:
    return normalize(prediction, kind) == normalize(truth, kind)


def edit_similarity(prediction: str, truth: str, kind: str) -> float:
    """1 - Levenshtein / max(len) of the normalized strings (1.0 for two empty strings)."""
    a, b = normalize(prediction, kind), normalize(truth, kind)
    if not a and not b:
        return 1.0
    return 1 - levenshtein(a, b) / max(len(a), len(b))


# ---- the model


QUALIFIER = re.compile(r"^(?:[A-Za-z_$][A-Za-z0-9_$]*\.)+")


def call_in_prompt(text: str, hole: Hole, prompt: prompts.Prompt) -> str | None:
    """Api and call holes: where the prompt shows the whole call (`f(a, b)` through the line's end, the
    module qualifier left off: `utils.f(` may be `f(` elsewhere): in the current file's `window`, in
    the `snippets` before it, or `absent`. None for other kinds. A model that copied every call it is
    shown would get the first two right: what the context engine put within its reach."""
    if hole.call_start < 0:
        return None
    call = QUALIFIER.sub("", text[hole.call_start: hole.end].rstrip())
    if call in prompt.prefix:
        return "window"
    return "snippets" if call in prompt.text else "absent"


def call_elsewhere(texts: dict[str, str], hole: Hole) -> bool | None:
    """Api and call holes: whether the whole call (`utils.f(a, b)`, up to the line's end) is written
    somewhere else in the repository's files too. None for other kinds. Where it is not, no
    retrieval can show the answer: the split says how much of a score retrieval could move."""
    if hole.call_start < 0:
        return None
    call = texts[hole.path][hole.call_start: hole.end]
    return sum(text.count(call) for text in texts.values()) > 1  # the hole's own line is one


def pick_for_model(holes: list[Hole], n: int | dict[str, int], seed: int) -> set[str]:
    """A seeded subsample of holes, stratified by kind.

    `n` is a total (an even share per kind, the rest in kind order) or a count per kind.
    """
    rng = random.Random(f"repo-eval-model:{seed}")
    by_kind = {k: sorted((h for h in holes if h.kind == k), key=lambda h: h.id) for k in KINDS}
    for pool in by_kind.values():
        rng.shuffle(pool)
    if isinstance(n, dict):
        return {h.id for k in KINDS for h in by_kind[k][len(by_kind[k]) - min(n.get(k, 0), len(by_kind[k])):]}
    chosen: list[Hole] = []
    while len(chosen) < min(n, len(holes)):
        for k in KINDS:
            if by_kind[k] and len(chosen) < n:
                chosen.append(by_kind[k].pop())
    return {h.id for h in chosen}


def complete(engine, template: prompts.Template, prompt: prompts.Prompt, hole: Hole, document: str,
             language: str, max_tokens: int, max_lines: int) -> str:
    """Generate for one hole and apply the server's stop rules for its kind."""
    from lsp_server.engines.base import GenOptions
    from lsp_server.pipeline import filters

    options = GenOptions(max_tokens=max_tokens, stop=list(template.stops), head_chars=prompt.head_chars,
                         heal=prompt.heal)
    pieces = engine.generate(prompt.text, options, threading.Event())
    try:
        stream = indent.strip(filters.lines(filters.stop_strings(pieces, list(template.stops))), prompt.indent)
        if hole.kind != "block":
            return "".join(filters.first_line(stream))
        suffix = document[hole.start:]
        previous = document[: hole.start].rsplit("\n", 2)[-2]
        stream = filters.block_end(stream, hole.indent, language in syntax.INDENT_LANGUAGES)
        stream = filters.max_lines(stream, max_lines)
        stream = filters.stop_at_suffix(stream, suffix)
        return "".join(filters.repeated_lines(stream, previous)).rstrip()
    finally:
        pieces.close()


# ---- one repository


def evaluate(ws: Workspace, holes: list[Hole], args: argparse.Namespace, engine, template: prompts.Template,
             count_tokens: Callable[[str], int]) -> list[dict]:
    """Context metrics for every hole and configuration, then model runs on the subsample."""
    cfgs = {name: configs()[name] for name in args.configs}
    opts = prompts.PromptOptions(prefix_chars=args.prefix_chars, prefix_keep_chars=args.prefix_chars * 2 // 3)
    picked = pick_for_model(holes, args.holes, args.seed)
    keep = picked if engine is not None and not getattr(args, "prompts_only", False) else set()
    if getattr(args, "only", None) is not None:  # e.g. the holes whose prompt a change touched
        keep = {i for i in keep if f"{ws.name}/{i}" in args.only}
    records: list[dict] = []
    kept: dict[tuple[str, str], tuple[Hole, prompts.Prompt]] = {}
    step = max(1, len(holes) // 10)

    def progress(n: int) -> None:
        if n % step == 0 or n == len(holes):
            print(f"  context: {n}/{len(holes)} holes", flush=True)

    for hole, built in build_prompts(ws, holes, cfgs, template, opts, count_tokens, keep, progress):
        elsewhere = call_elsewhere(ws.texts, hole)  # of the hole, not of a configuration
        for name, b in built.items():
            records.append({"id": hole.id, "kind": hole.kind, "config": name, "context_ms": b.context_ms,
                            "prompt_tokens": b.prompt_tokens, "sources": b.sources})
            if elsewhere is not None:
                records[-1]["call_elsewhere"] = elsewhere
            if b.call_in_prompt is not None:
                records[-1]["call_in_prompt"] = b.call_in_prompt
            if hole.id in picked:  # the holes a model run would read: their prompts, hashed
                records[-1]["prompt_sha"] = b.sha
            if b.prompt is not None:
                kept[(name, hole.id)] = (hole, b.prompt)
    if not kept:
        return records
    by_key = {(r["config"], r["id"]): r for r in records}
    total = len(kept)
    done = 0
    # (hole, prompt, indent, heal) -> the run that answered it
    ran: dict[tuple[str, str, str, str], tuple[str, str]] = {}
    for name in cfgs:  # one configuration at a time: prompts of a file in order share their prefix
        for (cfg_name, _), (hole, prompt) in sorted(kept.items(), key=lambda kv: (kv[1][0].path, kv[1][0].start)):
            if cfg_name != name:
                continue
            document = hole.document(ws.texts[hole.path])
            record = by_key[(name, hole.id)]
            done += 1
            same = ran.get((hole.id, prompt.text, prompt.indent, prompt.heal))
            if same is not None:  # greedy decoding: the same prompt gives the same suggestion
                copied = ("prediction", "truth", "exact_match", "edit_similarity")
                record.update({k: by_key[same][k] for k in copied} | {"same_prompt_as": same[0]})
                print(f"  model {done}/{total} [{name} {hole.kind}] same prompt as {same[0]}", flush=True)
                continue
            ran[(hole.id, prompt.text, prompt.indent, prompt.heal)] = (name, hole.id)
            t0 = time.perf_counter()
            limit = args.block_tokens if hole.kind == "block" else args.line_tokens
            prediction = complete(engine, template, prompt, hole, document, ws.language, limit, args.block_lines)
            stats = engine.last_stats
            record.update({
                "prediction": prediction, "truth": hole.truth,
                "exact_match": exact_match(prediction, hole.truth, hole.kind),
                "edit_similarity": round(edit_similarity(prediction, hole.truth, hole.kind), 4),
                "model_ms": round((time.perf_counter() - t0) * 1000, 1),
                "engine_prompt_tokens": stats.prompt_tokens, "reused_tokens": stats.reused_tokens,
                "generated_tokens": stats.generated_tokens, "first_token_ms": round(stats.first_token_ms, 1),
            })
            print(f"  model {done}/{total} [{name} {hole.kind}] {record['model_ms'] / 1000:.1f} s "
                  f"({stats.prompt_tokens} tokens, {stats.reused_tokens} reused) "
                  f"es={record['edit_similarity']:.2f} em={record['exact_match']}", flush=True)
    return records


def summarize(records: list[dict], cfg_names: list[str]) -> dict:
    """Per configuration and hole kind: n, exact_match, edit_similarity, context_ms p50/p95, prompt tokens."""
    out: dict[str, dict] = {}
    for name in cfg_names:
        out[name] = {}
        for kind in [*KINDS, "all"]:
            rows = [r for r in records if r["config"] == name and (kind == "all" or r["kind"] == kind)]
            ran = [r for r in rows if "exact_match" in r]
            ms = [r["context_ms"] for r in rows]
            out[name][kind] = {
                "n": len(rows),
                "model_n": len(ran),
                "exact_match": round(statistics.mean(r["exact_match"] for r in ran), 3) if ran else None,
                "edit_similarity": round(statistics.mean(r["edit_similarity"] for r in ran), 3) if ran else None,
                "context_ms_p50": pct(ms, 0.5),
                "context_ms_p95": pct(ms, 0.95),
                "context_ms_max": round(max(ms), 2) if ms else None,
                "prompt_tokens_mean": round(statistics.mean(r["prompt_tokens"] for r in rows), 1) if rows else None,
                # share of holes whose prompt got snippets from each retrieval source
                "with_source": {src: round(sum(src in r["sources"] for r in rows) / len(rows), 3)
                                for src in SNIPPET_SOURCES if rows and any(src in r["sources"] for r in rows)},
            }
            timed = [r["model_ms"] for r in ran if "model_ms" in r]  # not those answered by an identical prompt
            if timed:
                out[name][kind]["model_ms_mean"] = round(statistics.mean(timed), 1)
            if kind in ("api", "call") and rows and "call_elsewhere" in rows[0]:
                out[name][kind]["call_elsewhere"] = split_elsewhere(rows, ran)
            if kind in ("api", "call") and rows and "call_in_prompt" in rows[0]:
                out[name][kind]["call_in_prompt"] = split_in_prompt(rows, ran)
    return out


def split_elsewhere(rows: list[dict], ran: list[dict]) -> dict:
    """Api and call holes: how many have their whole call written elsewhere in the repository, and the
    exact match of the model runs on those (`yes`) and on the rest (`no`)."""
    out: dict[str, object] = {"share": round(sum(r["call_elsewhere"] for r in rows) / len(rows), 3)}
    for label, flag in (("yes", True), ("no", False)):
        out[label] = _runs([r for r in ran if r["call_elsewhere"] is flag])
    return out


def split_in_prompt(rows: list[dict], ran: list[dict]) -> dict:
    """Api and call holes: the share whose whole call the prompt shows in the window, in the snippets,
    or nowhere, and the exact match of the model runs on each."""
    return {where: {"share": round(sum(r["call_in_prompt"] == where for r in rows) / len(rows), 3),
                    **_runs([r for r in ran if r["call_in_prompt"] == where])}
            for where in ("window", "snippets", "absent")}


def _runs(part: list[dict]) -> dict:
    """How many model runs a part of the holes had, and their exact match (None without runs)."""
    return {"model_n": len(part),
            "exact_match": round(statistics.mean(r["exact_match"] for r in part), 3) if part else None}


def estimate(records: list[dict]) -> dict:
    """How long the model would take on every hole: prompt reading at the measured (or assumed) rate,
    plus the measured mean generation time per kind. KV-cache reuse between holes is ignored."""
    ran = [r for r in records if "model_ms" in r]
    timed = [r for r in ran if r["first_token_ms"] > 0]  # the time to the first token is mostly reading
    read = sum(r["engine_prompt_tokens"] - r["reused_tokens"] for r in timed)
    read_s = sum(r["first_token_ms"] for r in timed) / 1000
    rate = read / read_s if read_s > 0 else ASSUMED_PREFILL_TOKENS_PER_S
    gen_s = {k: statistics.mean((r["model_ms"] - r["first_token_ms"]) / 1000 for r in ran if r["kind"] == k)
             for k in KINDS if any(r["kind"] == k for r in ran)}
    fallback = statistics.mean(gen_s.values()) if gen_s else 2.0
    total = sum(r["prompt_tokens"] / rate + gen_s.get(r["kind"], fallback) for r in records)
    return {"prefill_tokens_per_s": round(rate, 1), "rate_measured": read_s > 0,
            "generation_s_by_kind": {k: round(v, 2) for k, v in gen_s.items()},
            "all_holes_all_configs_s": round(total), "all_holes_all_configs_h": round(total / 3600, 1)}


def plot(summary: dict, title: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary)
    has_model = any(summary[n]["all"]["model_n"] for n in names)
    panels = ([("edit_similarity", "edit similarity"), ("exact_match", "exact match")] if has_model else
              [("context_ms_p95", "context build ms (p95)"), ("prompt_tokens_mean", "prompt tokens (mean)")])
    kinds = [*KINDS, "all"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.8 / max(1, len(names))
    for ax, (key, label) in zip(axes, panels, strict=True):
        for i, name in enumerate(names):
            values = [summary[name][k][key] or 0 for k in kinds]
            xs = [k + (i - (len(names) - 1) / 2) * width for k in range(len(kinds))]
            ax.bar(xs, values, width, label=name)
        ax.set_xticks(range(len(kinds)))
        ax.set_xticklabels([f"{k}\n(n={summary[names[0]][k]['model_n' if has_model else 'n']})" for k in kinds])
        ax.set_ylabel(label)
        if key == "context_ms_p95":
            ax.axhline(CONTEXT_TARGET_P95_MS, color="grey", ls="--", lw=1)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def run_repo(name: str, args: argparse.Namespace, engine, template: prompts.Template,
             count_tokens: Callable[[str], int]) -> tuple[list[dict], dict]:
    """Evaluate one repository (pinned name or path); returns its records and its report."""
    if name in PINNED:
        source, language, label = fetch(name, Path(args.cache)), args.lang or PINNED[name][2], name
        version = PINNED[name][1]
    else:
        source = Path(name).expanduser().resolve()
        if not source.is_dir():
            raise SystemExit(f"--repo {name}: neither a pinned package ({', '.join(PINNED)}, all) nor a folder")
        language, label, version = args.lang, source.name, None
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix=f"tacit-repo-eval-{label}-") as tmp:
        ws = open_workspace(label, source, language, Path(tmp), args.pad_files)
        t0 = time.perf_counter()
        holes = cut_holes(ws, args.cut, args.seed, args.block_lines)
        counts = Counter(h.kind for h in holes)
        print(f"{label}: {len(holes)} holes {dict(counts)} cut in {time.perf_counter() - t0:.1f} s", flush=True)
        records = evaluate(ws, holes, args, engine, template, count_tokens)
        stats = ws.index.stats()
    summary = summarize(records, args.configs)
    report = {
        "repo": label, "version": version, "source": str(source), "language": ws.language,
        "workspace_files": stats["files"], "padding_files": ws.pad_files, "files_with_holes_language": len(ws.texts),
        "seed": args.seed, "holes": {**{k: counts.get(k, 0) for k in KINDS}, "total": len(holes)},
        "holes_with_model_runs_per_config": summary[args.configs[0]]["all"]["model_n"],
        "model": getattr(engine, "model_path", None) and engine.model_path.name,
        "template": template.name, "prefix_chars": args.prefix_chars, "indent_healing": True,
        "token_healing": sorted(set(args.configs) - UNHEALED),
        "api_hole": "rest of the line right after the call's opening parenthesis (the callee is visible)",
        "call_hole": "the same calls from the first name of the call expression (CrossCodeEval's cut)",
        "block_hole": f"function body after header and docstring, 2-{args.block_lines} lines, cursor at its indent",
        "exact_match_rule": "trailing whitespace stripped; block holes: non-blank lines, right-stripped",
        "edit_similarity_rule": "1 - Levenshtein distance / max(len), on the same normalized strings",
        "context_ms_rule": "time of context.assemble.build per hole (index lookups, similar, budget, render)",
        "context_target_p95_ms": CONTEXT_TARGET_P95_MS,
        "configs": summary,
        "estimate_full_model_run": estimate(records),
        "cpu_count": os.cpu_count(),  # other work on the machine skews every timing: see the load
        "load_avg_1m_before": round(load_before, 2), "load_avg_1m_after": round(os.getloadavg()[0], 2),
        "tokens_counted_by": "model" if engine is not None else "len/4",
        # the picked holes' prompts per configuration, hashed: what `bench/changed_prompts.py` compares
        "prompt_sha": {c: {r["id"]: r["prompt_sha"] for r in records if r["config"] == c and "prompt_sha" in r}
                       for c in args.configs},
        "samples": [{k: v for k, v in r.items() if k != "prompt_sha"} for r in records if "prediction" in r],
    }
    return records, report


def write(report: dict, label: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"repo_eval-{label}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    title = f"Tacit repo eval: {label} ({report['holes']['total']} holes"
    title += f", model on {report['holes_with_model_runs_per_config']} per config)" if report.get("model") else \
        ", context only)"
    plot(report["configs"], title, out.with_suffix(".png"))
    return out


def default_model() -> Path | None:
    """The user's default model file, None while it is not assembled."""
    from lsp_server.models import ModelError, resolve_model

    try:
        return resolve_model(None)
    except ModelError:
        return None


def kind_counts(text: str, base: dict[str, int]) -> dict[str, int]:
    """`base` updated with `kind=N,kind=N` pairs."""
    counts = dict(base)
    for part in filter(None, text.split(",")):
        kind, _, n = part.partition("=")
        if kind not in KINDS:
            raise argparse.ArgumentTypeError(f"unknown hole kind {kind!r}")
        counts[kind] = int(n)
    return counts


def parse_cut(text: str) -> dict[str, int]:
    return kind_counts(text, DEFAULT_CUT)


def parse_model_holes(text: str) -> int | dict[str, int]:
    """`24` (a total, shared evenly between kinds) or `api=40,line=10,block=10` (per kind)."""
    return int(text) if "=" not in text else kind_counts(text, dict.fromkeys(KINDS, 0))


def read_ids(path: str) -> set[str]:
    """`--only`: the REPO/HOLE_ID lines of a file."""
    try:
        lines = Path(path).read_text(encoding="utf-8").split("\n")
    except OSError as e:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {e.strerror}") from None
    ids = {ln.strip() for ln in lines if ln.strip()}
    bad = sorted(i for i in ids if "/" not in i or ":" not in i)
    if bad:
        raise argparse.ArgumentTypeError(f"{path}: expected REPO/HOLE_ID lines (e.g. requests/api:models.py:1234), "
                                         f"got {bad[0]!r}")
    return ids


def parse_configs(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [n for n in names if n not in configs()]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"configurations are {', '.join(configs())}; got {text!r}")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", required=True, help="a pinned package, 'all' (the five Python ones) or a folder")
    parser.add_argument("--lang", default=None, help="languageId holes are cut in (default: the repo's main one)")
    parser.add_argument("--holes", type=parse_model_holes, default=24,
                        help="holes with model runs per configuration: a total shared by the kinds (24) "
                             "or a count per kind (api=40,line=10,block=10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--configs", type=parse_configs, default=list(configs()))
    parser.add_argument("--model", default=None, help="model name or GGUF path (default: the user's default)")
    parser.add_argument("--no-model", action="store_true", help="context metrics only; tokens counted as len/4")
    parser.add_argument("--cut", type=parse_cut, default=dict(DEFAULT_CUT),
                        help="holes cut per kind, e.g. line=100,api=80,block=60 (the default)")
    parser.add_argument("--prefix-chars", type=int, default=3000, help="prefix window of the prompt, characters")
    parser.add_argument("--block-lines", type=int, default=12, help="longest block hole (the server's maxLines)")
    parser.add_argument("--line-tokens", type=int, default=48, help="generation budget for line and api holes")
    parser.add_argument("--block-tokens", type=int, default=160, help="generation budget for block holes")
    parser.add_argument("--pad-files", type=int, default=0,
                        help="pad the workspace with site-packages files up to this many (context timing at scale)")
    parser.add_argument("--cache", default=None, help="where pinned repositories are unpacked "
                                                      "(default ~/.cache/tacit/repos)")
    parser.add_argument("--only", type=read_ids, default=None, metavar="FILE",
                        help="run the model only on the picked holes listed in FILE, one REPO/HOLE_ID a line "
                             "(e.g. requests/api:models.py:1234): those whose prompt a change touched")
    parser.add_argument("--prompts-only", action="store_true",
                        help="load the model for its tokenizer, build the picked holes' prompts and record their "
                             "hashes (prompt_sha), run no predictions: the pass `bench/changed_prompts.py` compares")
    parser.add_argument("--tag", default="", type=lambda t: "".join(c for c in t if c.isalnum() or c in "-_."),
                        help="written to repo_eval-<repo>-<tag>.json, beside the default run's file")
    args = parser.parse_args()
    args.cache = args.cache or str(default_cache())
    if args.prompts_only and args.no_model:
        parser.error("--prompts-only counts tokens with the model's tokenizer: it cannot go with --no-model")
    names = ALL if args.repo == "all" else [args.repo]

    engine, family, model_label = None, "qwen2.5-coder", ""
    count_tokens: Callable[[str], int] = lambda text: len(text) // 4  # noqa: E731
    if not args.no_model:
        from lsp_server.engines.llama import LlamaEngine
        from lsp_server.models import family_of, resolve_model

        path = resolve_model(args.model)
        if args.model and path != default_model():  # a run with another model does not replace the default's
            model_label = f"-{path.stem}"
        engine = LlamaEngine(path, family=family_of(path))
        family, count_tokens = engine.family, engine.count_tokens
        print(f"model {path.name} loaded in {engine.load_ms / 1000:.1f} s", flush=True)
    elif args.model:
        from lsp_server.models import load_manifest

        spec = load_manifest().models.get(args.model)
        family = spec.family if spec is not None else family
    template = prompts.template_for(family)

    t0 = time.perf_counter()
    # a padded run does not replace the plain one
    pad_label = (f"-pad{args.pad_files}" if args.pad_files else "") + model_label + (f"-{args.tag}" if args.tag else "")
    pooled: list[dict] = []
    reports = []
    for name in names:
        records, report = run_repo(name, args, engine, template, count_tokens)
        print(f"wrote {write(report, report['repo'] + pad_label)}", flush=True)
        pooled.extend(records)
        reports.append(report)
    if len(names) > 1:
        holes = {k: sum(r["holes"][k] for r in reports) for k in [*KINDS, "total"]}
        combined = {
            "repo": args.repo, "repos": {r["repo"]: {"version": r["version"], "holes": r["holes"],
                                                     "workspace_files": r["workspace_files"]} for r in reports},
            "holes": holes, "seed": args.seed,
            "holes_with_model_runs_per_config": sum(r["holes_with_model_runs_per_config"] for r in reports),
            "model": reports[0]["model"], "template": template.name, "prefix_chars": args.prefix_chars,
            "context_target_p95_ms": CONTEXT_TARGET_P95_MS,
            "configs": summarize(pooled, args.configs),
            "estimate_full_model_run": estimate(pooled),
            "cpu_count": os.cpu_count(),
        }
        print(f"wrote {write(combined, args.repo + pad_label)}", flush=True)
    print(f"done in {time.perf_counter() - t0:.0f} s")
    if engine is not None:
        engine.close()


if __name__ == "__main__":
    main()
