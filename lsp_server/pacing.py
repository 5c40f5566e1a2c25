"""Background work that gives way to the model.

Indexing a large workspace takes the server's Python for a minute or more, and a Python thread that
computes holds the GIL. llama-cpp-python's token loop takes the GIL between its C calls, several
times a token, and each time may wait for the indexing thread to let go. On two cores, in the first
45 s of typing while 10,000 files were indexed, decoding fell from 20 to 2.7 tokens/s and 2 of 124
keystrokes got a suggestion, against 102 of 189 with the index idle; giving way, 19.4 tokens/s and
96 of 187 (`bench/typing_while_indexing.py`).

So a generation marks the model busy (`busy`), and background indexing calls `pace` after each
file: while the model is busy it waits, until the model is idle or for long enough that indexing
keeps `share` of the time (so that typing without a pause still lets the index grow).

The wait can only come between files: py-tree-sitter holds the GIL while it parses (a thread
spinning beside a 0.25 s parse of 2.8 MB got 5% of its usual turns), so one file's parse is never
interrupted. `context.maxFileBytes` (1 MB by default) bounds that: about a tenth of a second.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class Pacer:
    """Counts running generations; lets background work wait for them."""

    def __init__(self, share: float = 0.1, longest_wait_s: float = 0.5) -> None:
        self.share = share  # of the time background work may take while the model is busy
        self.longest_wait_s = longest_wait_s  # one wait, whatever the file took
        self._busy = 0
        self._cond = threading.Condition()

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Mark the model busy for the block (a generation, prefill included)."""
        with self._cond:
            self._busy += 1
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                if not self._busy:
                    self._cond.notify_all()

    @property
    def is_busy(self) -> bool:
        return self._busy > 0

    def pace(self, worked_s: float) -> None:
        """Called by background work after a piece of work that took `worked_s`: while the model is
        busy, wait until it is idle, or at most long enough to keep the work to `share` of the time."""
        wait = min(self.longest_wait_s, max(0.0, worked_s) * (1 - self.share) / self.share)
        with self._cond:
            if self._busy and wait > 0:
                self._cond.wait_for(lambda: not self._busy, timeout=wait)
