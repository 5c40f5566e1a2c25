"""Client positions (UTF-16, UTF-8 or UTF-32 units) and offsets into a document, at C speed.

pygls converts a position by walking its line one character at a time in Python: 200 ms for the
cursor at the end of a 600 KB minified line, and it ran twice per keystroke, so no suggestion was
ever shown there. `FastPositionCodec` gives pygls' own results (quirks included: they must agree
with the text pygls keeps) from whole-string encodes and slices.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from itertools import accumulate
from typing import NamedTuple

from lsprotocol import types
from pygls.workspace import PositionCodec, ServerTextPosition, TextDocument, Workspace
from pygls.workspace.position_codec import Utf8, Utf32

log = logging.getLogger(__name__)

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


class Lines(NamedTuple):
    lines: tuple[str, ...]  # `text.splitlines(True)`: the line breaks pygls reads positions with
    starts: list[int]  # line_starts(lines)


_LINES: dict[int, tuple[str, Lines]] = {}  # id(text) -> (text, its lines): the text kept, so no id is reused
_LINES_LOCK = threading.Lock()
LINES_KEPT = 4


def lines_of(text: str) -> Lines:
    """`text`'s lines and where they start, split once per text however often they are asked for.

    A keystroke asked for the same document's lines five times (pygls applying the change, the
    syntax edit, the request's position, the suggestion's two positions): 2 ms each for a 900 KB file.
    """
    with _LINES_LOCK:
        hit = _LINES.get(id(text))
        if hit is not None and hit[0] is text:
            return hit[1]
    lines = tuple(text.splitlines(True))
    found = Lines(lines, line_starts(lines))
    with _LINES_LOCK:
        _LINES[id(text)] = (text, found)
        while len(_LINES) > LINES_KEPT:
            del _LINES[next(iter(_LINES))]
    return found


class FastTextDocument(TextDocument):
    """pygls' document, its text changed by slicing instead of rewriting it a line at a time."""

    @property
    def lines(self) -> tuple[str, ...]:
        return lines_of(self.source).lines

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        # pygls' result for every range its codec can give (out of range, reversed, past a line's end):
        # lines before the range's first line and after its last are kept; the first line's head and the
        # last line's tail (each only when the range starts or ends on a line of the text) surround the
        # new text; with the range starting one line past the end, the text is appended
        source = self.source
        lines, starts = lines_of(source)
        rng = self._position_codec.range_from_client_units(lines, change.range)
        first, last = rng.start.line, rng.end.line
        if first == len(lines):
            self._source = source + change.text
            return
        low, high = max(first, 0), min(last, len(lines) - 1)
        if low > high:  # no line of the text is inside the range (it is reversed, or past the end)
            self._source = source
            return
        head = lines[first][: rng.start.character] + change.text if first >= 0 else ""
        tail = lines[last][rng.end.character:] if last < len(lines) else ""
        self._source = source[: starts[low]] + head + tail + source[starts[high + 1]:]


def install(workspace: Workspace) -> None:
    """Give a pygls workspace our codec and documents (pygls 2.1.1's private names; pygls is pinned)."""
    if not all(hasattr(workspace, name) for name in ("_position_codec", "_create_text_document", "_sync_kind")):
        log.warning("pygls' workspace has changed: its own position codec and documents are used")
        return
    workspace._position_codec = FastPositionCodec(workspace.position_encoding)

    def create(doc_uri: str, source: str | None = None, version: int | None = None,
               language_id: str | None = None) -> TextDocument:
        return FastTextDocument(doc_uri, source=source, version=version, language_id=language_id,
                                sync_kind=workspace._sync_kind, position_codec=workspace._position_codec)

    workspace._create_text_document = create
