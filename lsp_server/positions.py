"""Client positions (UTF-16, UTF-8 or UTF-32 units) and offsets into a document, at C speed.

pygls converts a position by walking its line one character at a time in Python: 200 ms for the
cursor at the end of a 600 KB minified line, and it ran twice per keystroke, so no suggestion was
ever shown there. `FastPositionCodec` gives pygls' own results (quirks included: they must agree
with the text pygls keeps) from whole-string encodes and slices.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import accumulate

from lsprotocol import types
from pygls.workspace import PositionCodec, ServerTextPosition
from pygls.workspace.position_codec import Utf8, Utf32

SURROGATE = re.compile("[\ud800-\udfff]")  # a lone surrogate (JSON can carry one): pygls' slow path


class FastPositionCodec(PositionCodec):
    """pygls' `PositionCodec`, the same answers, without a Python loop per character."""

    def units(self, text: str) -> int:
        """How many client units `text` takes (exact for any string, lone surrogates included)."""
        if text.isascii() or isinstance(self.impl, Utf32):
            return len(text)
        if isinstance(self.impl, Utf8):
            return len(text.encode("utf-8", "surrogatepass"))
        return len(text.encode("utf-16-le", "surrogatepass")) // 2

    def client_num_units(self, string: str) -> int:
        return self.units(string)

    def position_from_client_units(self, lines: Sequence[str], position: types.Position) -> ServerTextPosition:
        if len(lines) == 0:
            return ServerTextPosition(0, 0)
        if position.line >= len(lines):
            return ServerTextPosition(len(lines) - 1, self.units(lines[-1]))
        line = lines[position.line].replace("\r\n", "\n")
        client_len = self.units(line)
        if client_len == 0:
            return ServerTextPosition(position.line, 0)
        if position.character > client_len:
            position.character = client_len - 1  # as pygls does (it changes the caller's position too)
        character = max(0, position.character)
        if client_len == len(line):  # one unit per character
            return ServerTextPosition(position.line, min(character, len(line)))
        if SURROGATE.search(line):
            return super().position_from_client_units(lines, position)
        return ServerTextPosition(position.line, self._code_points(line, character))

    def _code_points(self, line: str, character: int) -> int:
        """The characters of `line` within its first `character` units; one cut in two counts whole."""
        if isinstance(self.impl, Utf8):
            data = line.encode("utf-8")
            split = character < len(data) and 0x80 <= data[character] < 0xC0  # a continuation byte
            return len(data[:character].decode("utf-8", "ignore")) + split
        data = line.encode("utf-16-le")
        head = data[: 2 * character]
        if len(head) >= 2 and 0xD8 <= head[-1] <= 0xDB:  # ends on the first half of a pair
            return len(head[:-2].decode("utf-16-le")) + 1
        return len(head.decode("utf-16-le"))

    def position_to_client_units(self, lines: Sequence[str], position: ServerTextPosition | types.Position
                                 ) -> types.Position:
        try:
            return types.Position(line=position.line, character=self.units(lines[position.line][: position.character]))
        except IndexError:
            return types.Position(line=len(lines), character=0)


def line_starts(lines: Sequence[str]) -> list[int]:
    """The offset where each line starts, and the text's length last."""
    return [0, *accumulate(map(len, lines))]
