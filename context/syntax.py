"""Tree-sitter parsing and cursor classification.

The cursor's syntactic position decides whether a suggestion is one line (mid-statement,
inside a string or comment) or a block (a blank line, right after a block header), and
which stop rules apply. Grammars come from the per-language wheels only.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from tree_sitter import Language, Node, Parser, Tree

# languageId -> (module, attribute of the language function)
GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "javascriptreact": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "typescriptreact": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "lua": ("tree_sitter_lua", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}

EXTENSIONS = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascriptreact", ".ts": "typescript", ".tsx": "typescriptreact", ".go": "go",
    ".rs": "rust", ".lua": "lua", ".java": "java", ".c": "c", ".h": "c", ".cc": "cpp",
    ".cpp": "cpp", ".hpp": "cpp", ".cxx": "cpp",
}

INDENT_LANGUAGES = {"python"}
HEADER_TYPES = {
    "function_definition", "class_definition", "if_statement", "elif_clause", "else_clause",
    "for_statement", "while_statement", "with_statement", "try_statement", "except_clause",
    "finally_clause", "match_statement", "case_clause", "decorated_definition",
}


@cache
def language(language_id: str) -> Language | None:
    """The tree-sitter Language for an LSP languageId, or None when we have no grammar."""
    spec = GRAMMARS.get(language_id)
    if spec is None:
        return None
    module = importlib.import_module(spec[0])
    return Language(getattr(module, spec[1])())


def language_for_path(path: str) -> str | None:
    """Guess the languageId of a file from its extension."""
    for ext, lang in EXTENSIONS.items():
        if path.endswith(ext):
            return lang
    return None


def parse(language_id: str, text: str, old_tree: Tree | None = None) -> Tree | None:
    """Parse `text`; pass `old_tree` (already `.edit()`ed) to reparse incrementally."""
    lang = language(language_id)
    if lang is None:
        return None
    parser = Parser(lang)
    data = text.encode("utf-8", "surrogatepass")
    return parser.parse(data, old_tree) if old_tree is not None else parser.parse(data)


@dataclass(frozen=True)
class CursorContext:
    """Where the cursor sits, as far as suggestion shape is concerned."""

    mode: str  # "line" or "block"
    in_comment: bool = False
    in_string: bool = False
    after_header: bool = False
    blank_line: bool = False
    mid_line: bool = False
    base_indent: int = 0  # lines indented less than this end a block suggestion
    node_type: str = ""


HEADER_KEYWORDS = {"def", "class", "if", "elif", "else", "for", "while", "with", "try", "except",
                   "finally", "async", "match", "case"}


def _open_brackets(text: str) -> int:
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _ancestors(node: Node | None):
    while node is not None:
        yield node
        node = node.parent


def classify(language_id: str, tree: Tree | None, line_text: str, col_chars: int,
             row: int, col_bytes: int, indent_unit: int = 4) -> CursorContext:
    """Classify the cursor at (row, col) given the current line's text."""
    before, after = line_text[:col_chars], line_text[col_chars:]
    blank = before.strip() == ""
    mid = after.strip() not in ("", ")", "]", "}", '"', "'", ");", "):", "];", "};", ",")
    stripped = before.rstrip()
    header = stripped.endswith(":") if language_id in INDENT_LANGUAGES else stripped.endswith("{")
    in_comment = in_string = False
    node_type = ""
    if tree is not None:
        point = (row, max(0, col_bytes - 1)) if col_bytes > 0 else (row, 0)
        node = tree.root_node.descendant_for_point_range(point, point)
        node_type = node.type if node is not None else ""
        for anc in _ancestors(node):
            if "comment" in anc.type:
                in_comment = anc.end_point[0] > row or anc.end_point[1] >= col_bytes
                break
            if anc.type in ("string", "template_string", "raw_string_literal",
                            "string_literal", "interpreted_string_literal"):
                # the closing quote right before the cursor is outside the string
                in_string = anc.end_byte > anc.start_byte and (
                    anc.end_point[0] > row or anc.end_point[1] > col_bytes
                    or (anc.end_point == (row, col_bytes) and anc.has_error))
                break
        if header and language_id in INDENT_LANGUAGES and node is not None:
            # a ':' that is a dict/slice/lambda/annotation colon is not a block header
            keyword = before.lstrip().split(" ", 1)[0].rstrip(":")
            header = _open_brackets(before) <= 0 and (
                keyword in HEADER_KEYWORDS or any(a.type in HEADER_TYPES for a in _ancestors(node)))
    base = _indent(line_text)
    if header:
        base = _indent(line_text) + indent_unit
    elif blank:
        base = len(before)
    if in_comment or in_string or mid:
        mode = "line"
    elif header or blank:
        mode = "block"
    else:
        mode = "line"
    return CursorContext(mode=mode, in_comment=in_comment, in_string=in_string, after_header=header,
                         blank_line=blank, mid_line=mid, base_indent=base, node_type=node_type)


def _utf8(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def tree_edit(old: str, start: int, end: int, new_text: str) -> dict[str, int | tuple[int, int]]:
    """`Tree.edit`'s arguments (bytes, and (row, byte column) points) for replacing code points
    [start, end) of `old` with `new_text`: the text is counted through once, not once per point."""
    start_byte = start if old.isascii() else _utf8(old[:start])
    row = old.count("\n", 0, start)
    line_start = old.rfind("\n", 0, start) + 1
    start_point = (row, _utf8(old[line_start:start]))

    def after(text: str) -> tuple[int, int]:  # the point at the end of `text` inserted at `start`
        breaks = text.count("\n")
        if not breaks:
            return row, start_point[1] + _utf8(text)
        return row + breaks, _utf8(text[text.rindex("\n") + 1:])

    return {"start_byte": start_byte, "old_end_byte": start_byte + _utf8(old[start:end]),
            "new_end_byte": start_byte + _utf8(new_text), "start_point": start_point,
            "old_end_point": after(old[start:end]), "new_end_point": after(new_text)}


class SyntaxDocument:
    """A document's text and tree-sitter tree, kept in step with incremental edits.

    Each edit is applied with `Tree.edit`; the tree is re-parsed lazily (incrementally,
    reusing the old tree) the next time it is asked for, so a burst of keystrokes costs
    one reparse.
    """

    def __init__(self, language_id: str, text: str) -> None:
        self.language_id = language_id
        self.text = text
        self._lang = language(language_id)
        self._parser = Parser(self._lang) if self._lang is not None else None
        self._tree: Tree | None = self._parse(None)
        self._dirty = False

    def _parse(self, old: Tree | None) -> Tree | None:
        if self._parser is None:
            return None
        data = self.text.encode("utf-8", "surrogatepass")
        return self._parser.parse(data, old) if old is not None else self._parser.parse(data)

    def apply(self, start: int, end: int, new_text: str) -> None:
        """Replace code points [start, end) of the text with `new_text`."""
        old = self.text
        if not 0 <= start <= end <= len(old):
            raise ValueError(f"edit [{start}, {end}) outside a document of {len(old)} characters")
        self.text = old[:start] + new_text + old[end:]
        if self._tree is not None:
            self._tree.edit(**tree_edit(old, start, end, new_text))
            self._dirty = True

    def replace_all(self, text: str) -> None:
        """A full-text change: parse from scratch."""
        self.text = text
        self._tree = self._parse(None)
        self._dirty = False

    @property
    def tree(self) -> Tree | None:
        """The up-to-date tree (None when we have no grammar for the language)."""
        if self._dirty:
            self._tree = self._parse(self._tree)
            self._dirty = False
        return self._tree
