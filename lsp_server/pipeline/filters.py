"""Stream filters over model output, composed as generators.

pieces -> stop_strings -> lines -> (first_line | block_end, max_lines) -> stop_at_suffix -> stop_at_prefix_header
-> repeated_lines. Each stage pulls lazily, so when one decides to stop, the model stops
too (the engine's iterator is closed by the caller).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {v: k for k, v in OPENERS.items()}


def stop_strings(pieces: Iterable[str], stops: list[str]) -> Iterator[str]:
    """Cut the stream before the first stop string, even one split across pieces. Only an end that
    may still become a stop string is held back: holding back as many characters as the longest
    stop has kept a finished line (`foo()\n`) waiting for 13 more characters, 3 to 4 tokens."""
    if not stops:
        yield from pieces
        return
    buf = ""
    for piece in pieces:
        buf += piece
        cut = min((i for s in stops if (i := buf.find(s)) >= 0), default=-1)
        if cut >= 0:
            if cut:
                yield buf[:cut]
            return
        hold = _stop_begins(buf, stops)
        if len(buf) > hold:
            emit, buf = buf[: len(buf) - hold], buf[len(buf) - hold:]
            yield emit
    if buf:
        yield buf


def _stop_begins(text: str, stops: list[str]) -> int:
    """How many characters at the end of `text` are the beginning of a stop string (0: none)."""
    for k in range(min(len(text), max(len(s) for s in stops) - 1), 0, -1):
        tail = text[-k:]
        if any(s.startswith(tail) for s in stops):
            return k
    return 0


def lines(pieces: Iterable[str], statements_after: int = 0) -> Iterator[str]:
    """Regroup pieces into lines, each ending in '\\n' except possibly the last. With
    `statements_after`, a line that has reached that many characters is also cut after its last
    `;` or `}` so far (minified code: the model's line would not end before it stops)."""
    buf = ""
    for piece in pieces:
        buf += piece
        while (nl := buf.find("\n")) >= 0:
            yield buf[: nl + 1]
            buf = buf[nl + 1:]
        if statements_after and len(buf) >= statements_after:
            cut = max(buf.rfind(";"), buf.rfind("}"))
            if cut >= 0:
                yield buf[: cut + 1]
                buf = buf[cut + 1:]
    if buf:
        yield buf


def first_line(lines_in: Iterable[str]) -> Iterator[str]:
    """Keep only the first line (single-line mode); a leading empty line is skipped."""
    for line in lines_in:
        if line.strip() == "" and line.endswith("\n"):
            # A bare newline first: the model wants to start a new line; no one-line suggestion.
            return
        yield line.rstrip("\n")
        return


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def block_end(lines_in: Iterable[str], base_indent: int, indent_language: bool) -> Iterator[str]:
    """Stop at the end of the current block: a dedent below `base_indent`, or an unmatched closer.

    A line that closes the block after a statement of its own (`return d; }`, and every statement of
    minified code) keeps that statement, cut before the closer."""
    depth = 0
    for n, line in enumerate(lines_in):
        body = line.strip()
        if indent_language:
            if n > 0 and body and _indent(line) < base_indent:
                return
        else:
            closer, depth = _brackets(line, depth)
            if n > 0 and body and closer is not None:
                if line[:closer].strip():
                    yield line[:closer].rstrip()
                return
        yield line


def _brackets(line: str, depth: int) -> tuple[int | None, int]:
    """Where `line`, starting `depth` brackets deep, first closes a bracket it did not open (None: it
    does not), and how deep it ends."""
    closer = None
    for i, ch in enumerate(line):
        if ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth -= 1
            if depth < 0 and closer is None:
                closer = i
    return closer, depth


def max_lines(lines_in: Iterable[str], limit: int) -> Iterator[str]:
    """At most `limit` lines."""
    for n, line in enumerate(lines_in):
        if n >= limit:
            return
        yield line


def stop_at_suffix(lines_in: Iterable[str], suffix: str) -> Iterator[str]:
    """Stop before a generated line that repeats the next non-blank line after the cursor."""
    following = [ln.strip() for ln in suffix.splitlines()[1:] if ln.strip()]
    target = following[0] if following else None
    for n, line in enumerate(lines_in):
        if n > 0 and target is not None and line.strip() == target and len(target) > 1:
            return
        yield line


HEADER = re.compile(r"\s*(async\s+def|def|class|function|func|fn|pub\s+fn|local\s+function)\b")


def stop_at_prefix_header(lines_in: Iterable[str], prefix: str, window: int = 200) -> Iterator[str]:
    """Stop before a generated definition header that already stands in the recent prefix: the model has
    started copying the code above the cursor (a whole function again) instead of continuing it."""
    headers = {ln.strip() for ln in prefix.splitlines()[-window:] if HEADER.match(ln) and len(ln.strip()) > 6}
    for n, line in enumerate(lines_in):
        if n > 0 and line.strip() in headers:
            return
        yield line


def repeated_lines(lines_in: Iterable[str], previous_line: str = "", times: int = 3) -> Iterator[str]:
    """Stop when a non-trivial line repeats `times` times in a row, or first repeats the line above."""
    last, run = None, 0
    for n, line in enumerate(lines_in):
        body = line.strip()
        if n == 0 and len(body) > 3 and previous_line.strip() == body:
            return
        run = run + 1 if body == last else 1
        last = body
        if run >= times and len(body) > 1:
            return
        yield line
