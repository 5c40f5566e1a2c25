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
