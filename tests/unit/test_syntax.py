"""Cursor classification: table-driven cases with a <CURSOR> marker."""

import pytest

from context import syntax

CASES = [
    # (language, source with <CURSOR>, mode, extra expectations)
    ("python", "def f(x):<CURSOR>", "block", {"after_header": True, "base_indent": 4}),
    ("python", "def f(x):\n    <CURSOR>", "block", {"blank_line": True, "base_indent": 4}),
    ("python", "x = foo(<CURSOR>)", "line", {}),
    ("python", "x = compute(a, b<CURSOR>", "line", {}),
    ("python", "# a comment about <CURSOR>", "line", {"in_comment": True}),
    ("python", "s = 'hello <CURSOR>'", "line", {"in_string": True}),
    ("python", "d = {'a':<CURSOR>", "line", {"after_header": False}),
    ("python", "if ready:<CURSOR>\n    pass", "block", {"after_header": True}),
    ("python", "total = price * <CURSOR>", "line", {}),
    ("javascript", "function f() {<CURSOR>", "block", {"after_header": True}),
    ("javascript", "const x = 'abc<CURSOR>';", "line", {"in_string": True}),
    ("go", "func main() {\n\t<CURSOR>\n}", "block", {"blank_line": True}),
    ("rust", "fn main() {<CURSOR>", "block", {"after_header": True}),
    ("lua", "-- note <CURSOR>", "line", {"in_comment": True}),
    ("typescript", "let n: number = <CURSOR>", "line", {}),
    ("cpp", "int main() {<CURSOR>", "block", {}),
]


def classify(language, marked):
    offset = marked.index("<CURSOR>")
    text = marked.replace("<CURSOR>", "")
    row = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_text = text[line_start: line_end if line_end >= 0 else len(text)]
    col = offset - line_start
    tree = syntax.parse(language, text)
    return syntax.classify(language, tree, line_text, col, row, len(line_text[:col].encode()))


@pytest.mark.parametrize("language,marked,mode,extra", CASES)
def test_classify(language, marked, mode, extra):
    ctx = classify(language, marked)
    assert ctx.mode == mode
    for key, value in extra.items():
        assert getattr(ctx, key) == value, key


@pytest.mark.parametrize("language", sorted(syntax.GRAMMARS))
def test_every_grammar_loads_from_its_wheel(language):
    tree = syntax.parse(language, "x\n")
    assert tree is not None and tree.root_node is not None


def test_unknown_language_has_no_tree():
    assert syntax.parse("cobol", "x") is None
    assert syntax.language_for_path("a/b.rs") == "rust"
