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
