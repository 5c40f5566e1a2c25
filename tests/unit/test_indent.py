"""Indentation healing: the prompt leaves out the indentation's last character, the model writes it."""

import pytest

from lsp_server.pipeline import indent


def split(marked: str) -> tuple[str, int]:
    return marked.replace("<CURSOR>", ""), marked.index("<CURSOR>")


@pytest.mark.parametrize("marked,expected", [
    ("def f():\n    <CURSOR>\n", "    "),
    ("def f():\n\t\t<CURSOR>\n", "\t\t"),
    ("def f():\n    <CURSOR>  \n", "    "),  # only whitespace after the cursor
    ("def f():\n    <CURSOR>return 1\n", ""),  # text after the cursor on its line: left alone
    ("def f():\n    <CURSOR>    # comment\n", ""),
    ("    <CURSOR>", "    "),  # first line of the file
    ("def f():\n    x<CURSOR>\n", ""),  # code before the cursor
    ("def f():\n<CURSOR>\n", ""),  # nothing before the cursor
    ("a = 1\n  b <CURSOR>", ""),
])
def test_before_is_the_indentation_only_when_nothing_else_precedes_the_cursor(marked, expected):
    text, offset = split(marked)
    assert indent.before(text, offset) == expected


def test_cut_leaves_out_the_last_indentation_character():
    text, offset = split("class A:\n    def f(self):\n        <CURSOR>\n    pass\n")
    new_text, new_offset, cut = indent.cut(text, offset)
    assert cut == " "
    assert new_text == "class A:\n    def f(self):\n       \n    pass\n"  # seven spaces: ` pass` is a token
    assert new_offset == offset - 1 and new_text[new_offset:].startswith("\n    pass")
    assert indent.cut("x = 1\nfoo", 9) == ("x = 1\nfoo", 9, "")
    assert indent.cut("if x:\n\t\t", 8) == ("if x:\n\t", 7, "\t")


@pytest.mark.parametrize("lines,cut,expected", [
    ([" return x\n", "    y\n"], " ", ["return x\n", "    y\n"]),  # the cut character comes off
    (["     x = 1\n"], " ", ["    x = 1\n"]),  # deeper: the extra stays
    (["\tif x:\n"], "\t", ["if x:\n"]),
    (["return x"], " ", ["return x"]),  # no space first: the content, at the cursor
    (["\t return x\n"], " ", ["return x\n"]),
    (["\n", "    x\n"], " ", []),  # an empty first line: nothing to show on this line
    (["    x\n"], "", ["    x\n"]),  # nothing was cut: unchanged
    ([], " ", []),
])
def test_strip_makes_the_first_line_start_at_the_cursor(lines, cut, expected):
    assert list(indent.strip(iter(lines), cut)) == expected


def test_strip_is_lazy():
    pulled = []

    def source():
        for line in [" a\n", "b\n", "c\n"]:
            pulled.append(line)
            yield line

    stream = indent.strip(source(), " ")
    assert next(stream) == "a\n" and pulled == [" a\n"]
