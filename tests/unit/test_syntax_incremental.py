"""Incremental parsing equals a full parse after any sequence of edits (property-based)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from context import syntax

BASE = '''import os


class Store:
    """Keeps things."""

    def get(self, key: str) -> str:
        return self.data.get(key, "")  # default


def main():
    s = Store()
    print(s.get("héllo"))
'''

edit = st.tuples(st.floats(0, 1), st.floats(0, 1), st.text(
    alphabet=st.sampled_from(list("abc xyz_():\n\t'\"#{}[]=é😀")), max_size=12))


def full_parse(language: str, text: str) -> str:
    return str(syntax.parse(language, text).root_node)


@settings(max_examples=60, deadline=None)
@given(st.lists(edit, min_size=1, max_size=12), st.sampled_from(["python", "javascript", "rust"]))
def test_incremental_equals_full_parse(edits, language):
    doc = syntax.SyntaxDocument(language, BASE)
    for a, b, text in edits:
        n = len(doc.text)
        start = int(a * n)
        end = start + int(b * (n - start) * 0.2)
        doc.apply(start, end, text)
    assert str(doc.tree.root_node) == full_parse(language, doc.text)


def test_edit_outside_the_document_is_refused():
    doc = syntax.SyntaxDocument("python", "x = 1\n")
    try:
        doc.apply(3, 99, "y")
    except ValueError:
        pass
    else:
        raise AssertionError("expected ValueError")
    assert doc.text == "x = 1\n"


def test_unknown_language_keeps_text_without_tree():
    doc = syntax.SyntaxDocument("plaintext", "hello")
    doc.apply(5, 5, " world")
    assert doc.text == "hello world" and doc.tree is None


def _reference_point(text: str, offset: int) -> tuple[int, int]:
    row = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return row, len(text[line_start:offset].encode("utf-8", "surrogatepass"))


pieces = st.text(alphabet=st.sampled_from([*"ab \n\r\té中😀", "\ud83d"]), max_size=30)


@settings(max_examples=300, deadline=None)
@given(pieces, st.floats(0, 1), st.floats(0, 1), pieces)
def test_tree_edit_arguments_are_the_bytes_and_points_of_the_edit(old, a, b, new_text):
    start = int(a * len(old))
    end = start + int(b * (len(old) - start))
    new = old[:start] + new_text + old[end:]

    def size(text: str) -> int:
        return len(text.encode("utf-8", "surrogatepass"))

    assert syntax.tree_edit(old, start, end, new_text) == {
        "start_byte": size(old[:start]), "old_end_byte": size(old[:end]),
        "new_end_byte": size(new[:start + len(new_text)]), "start_point": _reference_point(old, start),
        "old_end_point": _reference_point(old, end), "new_end_point": _reference_point(new, start + len(new_text))}
