"""FastPositionCodec gives pygls' own answers, for every encoding and any text."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace import PositionCodec

from lsp_server.positions import FastPositionCodec, line_starts

ENCODINGS = [types.PositionEncodingKind.Utf16, types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf32]
# ASCII, accented, CJK, astral (emoji), line breaks of every kind, and lone surrogates
chars = st.sampled_from([*"ab (\t", "é", "中", "😋", "𝔘", "\n", "\r\n", "\r", "\u2028", "\ud83d", "\ude0b"])
texts = st.lists(chars, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(ENCODINGS), st.integers(0, 12), st.integers(0, 90))
def test_the_same_answers_as_pygls(text, encoding, line, character):
    lines = text.splitlines(True)
    slow, fast = PositionCodec(encoding), FastPositionCodec(encoding)
    asked_slow = types.Position(line=line, character=character)
    asked_fast = copy.copy(asked_slow)
    assert fast.position_from_client_units(lines, asked_fast) == slow.position_from_client_units(lines, asked_slow)
    assert asked_fast == asked_slow  # pygls clamps the caller's position: so must we
    server = types.Position(line=line, character=character)
    assert fast.position_to_client_units(lines, server) == slow.position_to_client_units(lines, server)
    assert fast.client_num_units(text) == slow.client_num_units(text)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_long_minified_line_is_not_walked_a_character_at_a_time(encoding, monkeypatch):
    line = "function f(a){return a+'é'};" * 20_000 + "😋x"
    fast = FastPositionCodec(encoding)
    monkeypatch.setattr(type(fast.impl), "code_units_for_char", lambda self, c: pytest.fail("walked"))
    end = fast.position_to_client_units([line], types.Position(line=0, character=len(line)))
    assert fast.position_from_client_units([line], end).character == len(line)
    assert fast.position_from_client_units([line], types.Position(line=0, character=end.character - 1)).character \
        == len(line) - 1  # before the "x"


def test_line_starts():
    assert line_starts("ab\nc\r\n\nd".splitlines(True)) == [0, 3, 6, 7, 8]
    assert line_starts([]) == [0]


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(ENCODINGS), st.integers(0, 60))
def test_an_offset_and_its_client_position_map_back_and_forth(text, encoding, offset):
    # the server answers at offsets; the client reads them as positions, and asks at positions
    from lsp_server.handlers.inline_completion import client_position

    offset = min(offset, len(text))
    lines = text.splitlines(True)
    codec = FastPositionCodec(encoding)
    position = client_position(text, offset, codec)
    back = codec.position_from_client_units(lines, position) if position.line < len(lines) else position
    assert line_starts(lines)[position.line] + back.character == offset


@settings(max_examples=400, deadline=None)
@given(texts, st.sampled_from(ENCODINGS), st.lists(st.tuples(st.integers(0, 14), st.integers(0, 50),
                                                            st.integers(0, 14), st.integers(0, 50),
                                                            st.sampled_from(["", "x", "é\n", "😋", "\r\n", "a\nb"])),
                                                  min_size=1, max_size=6))
def test_a_document_changes_as_pygls_changes_it(text, encoding, changes):
    # every range a client may send, out of range, reversed and past a line's end included
    from pygls.workspace import TextDocument

    from lsp_server.positions import FastTextDocument

    slow = TextDocument("file:///a.py", text, position_codec=PositionCodec(encoding))
    fast = FastTextDocument("file:///a.py", text, position_codec=FastPositionCodec(encoding))
    for line, character, end_line, end_character, new in changes:
        rng = types.Range(types.Position(line=line, character=character),
                          types.Position(line=end_line, character=end_character))
        slow.apply_change(types.TextDocumentContentChangePartial(range=rng, text=new))
        fast.apply_change(types.TextDocumentContentChangePartial(range=copy.deepcopy(rng), text=new))
        assert fast.source == slow.source
        assert fast.lines == slow.lines


def test_a_change_does_not_split_or_rewrite_the_text_line_by_line(monkeypatch):
    import io

    from lsp_server.positions import FastTextDocument

    text = "def f(a):\n    return a\n" * 40_000
    doc = FastTextDocument("file:///big.py", text, position_codec=FastPositionCodec(types.PositionEncodingKind.Utf16))
    assert len(doc.lines) == 80_000  # split once, when the text is new
    monkeypatch.setattr(io, "StringIO", lambda *a: pytest.fail("rewritten line by line"))
    rng = types.Range(types.Position(line=50_001, character=4), types.Position(line=50_001, character=10))
    doc.apply_change(types.TextDocumentContentChangePartial(range=rng, text="yield"))
    assert doc.lines[50_001] == "    yield a\n" and len(doc.source) == len(text) - 1
    assert doc.lines is doc.lines  # the new text split once however often it is asked for


def test_lines_of_one_text_are_split_once_and_of_another_anew():
    from lsp_server.positions import LINES_KEPT, lines_of

    text = "a\nbc\r\nd"
    first = lines_of(text)
    assert first.lines == tuple(text.splitlines(True)) and first.starts == [0, 2, 6, 7]
    assert lines_of(text) is first
    equal = "".join(["a\nbc", "\r\nd"])  # the same characters, another string
    assert lines_of(equal) == first and lines_of(equal) is not first
    for i in range(LINES_KEPT + 1):
        lines_of(f"other {i}\n")
    assert lines_of(text) is not first and lines_of(text) == first  # forgotten, split again


def test_the_server_workspace_opens_fast_documents():
    from pygls.workspace import Workspace

    from lsp_server.positions import FastTextDocument, install

    workspace = Workspace(None, position_encoding=types.PositionEncodingKind.Utf8)
    install(workspace)
    workspace.put_text_document(types.TextDocumentItem(uri="file:///a.py", language_id="python", version=1,
                                                       text="x = 'é'\n"))
    doc = workspace.get_text_document("file:///a.py")
    assert isinstance(doc, FastTextDocument) and isinstance(doc.position_codec, FastPositionCodec)
    assert doc.position_codec is workspace.position_codec
    assert doc.position_codec.position_from_client_units(doc.lines, types.Position(line=0, character=7)).character == 6
