"""What happened to each suggestion: recorded as it is returned, then as the client reports on it.

Clients send `tacit/signal` {id, kind, acceptedLength?}. This module keeps the little state that
signals need (which suggestion is on screen in each document, which are decided, where accepted
text now lives), infers a rejection when a shown suggestion is replaced without a word, measures
retention of accepted text at fixed times after the accept, and hands every event to the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tuning.metrics import similarity
from tuning.store import KINDS, EventStore

log = logging.getLogger(__name__)

CLIENT_KINDS = ("shown", "accepted", "partiallyAccepted", "dismissed", "typedOver")
TERMINAL = ("accepted", "dismissed", "typedOver", "rejected")
MAX_TRACKED = 2000


class SignalError(ValueError):
    """A signal that cannot be recorded (unknown kind, bad id or length)."""


@dataclass
class Tracked:
    """A suggestion the server returned, as far as signals need it."""

    id: str
    uri: str
    offset: int  # where its text starts in the document, in code points
    text: str
    shown: bool = False
    decided: str | None = None
    accepted_length: int = 0
    region: tuple[int, int] | None = None  # where the accepted text is now, once found
    accepted_text: str = ""
    checks: list[asyncio.TimerHandle] = field(default_factory=list)


class Signals:
    """Per-session signal bookkeeping in front of the event store."""

    def __init__(self, store: EventStore | None, text_of: Callable[[str], str | None],
                 retention_s: tuple[float, ...] = (15, 30, 120, 300, 600)) -> None:
        self.store = store
        self.text_of = text_of  # uri -> the document's current text (None when closed)
        self.retention_s = retention_s
        self.tracked: OrderedDict[str, Tracked] = OrderedDict()
        self.on_screen: dict[str, str] = {}  # uri -> id shown last
        self.recent: list[int] = []  # 1 accepted / 0 not, for the last decided suggestions
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- from the server

    def returned(self, sid: str, uri: str, offset: int, text: str, row: dict[str, Any]) -> None:
        """A suggestion went out (again, as it streams): remember it and store it."""
        item = self.tracked.get(sid)
        if item is None:
            item = self.tracked[sid] = Tracked(sid, uri, offset, text)
            while len(self.tracked) > MAX_TRACKED:
                _, old = self.tracked.popitem(last=False)
                self._cancel_checks(old)
        elif item.offset == offset and item.decided is None:
            item.text = text
        if self.store is not None:
            self.store.suggestion({"id": sid, "offset": offset, "text": text, **row})

    def recent_accept_rate(self) -> float | None:
        return sum(self.recent) / len(self.recent) if self.recent else None

    # -- from the client

    def signal(self, sid: Any, kind: Any, accepted_length: Any = None) -> bool:
        """Record one client signal; False when it is ignored (unknown id, already decided)."""
        if not isinstance(sid, str) or not sid or len(sid) > 200:
            raise SignalError(f"signal id must be a non-empty string, got {sid!r}")
        if kind not in CLIENT_KINDS:
            raise SignalError(f"unknown signal kind {kind!r}; expected one of {', '.join(CLIENT_KINDS)}")
        if accepted_length is not None and (type(accepted_length) is not int or not 0 <= accepted_length < 10**7):
            raise SignalError(f"acceptedLength must be a non-negative integer, got {accepted_length!r}")
        item = self.tracked.get(sid)
        if item is None:
            log.info("signal %s for unknown suggestion %s ignored", kind, sid)
            return False
        if kind == "shown":
            if item.shown:
                return False
            self._abandon_previous(item)
            item.shown = True
            self.on_screen[item.uri] = sid
            self._record(sid, "shown")
            return True
        if item.decided is not None:
            return False
        if kind == "partiallyAccepted":
            length = min(accepted_length or 0, len(item.text))
            if length <= item.accepted_length:
                return False
            item.accepted_length = length
            self._record(sid, kind, length)
            self._track_acceptance(item, item.text[:length])
            return True
        length = len(item.text) if kind == "accepted" else item.accepted_length or None
        if kind == "accepted" and accepted_length is not None:
            length = min(accepted_length, len(item.text))
        self._decide(item, kind, length)
        if kind == "accepted":
            self._track_acceptance(item, item.text[:length])
        return True

    def closed(self, uri: str) -> None:
        """The document closed: what was on screen is abandoned, retention checks end."""
        sid = self.on_screen.pop(uri, None)
        if sid and sid in self.tracked:
            self._abandon(self.tracked[sid])
        for item in self.tracked.values():
            if item.uri == uri:
                self._cancel_checks(item)
                item.region = None

    def changed(self, uri: str, start: int, end: int, new_text: str | None) -> None:
        """A document edit (offsets in code points; new_text None: the whole text was replaced)."""
        for item in self.tracked.values():
            if item.uri != uri or not item.checks:
                continue
            if new_text is None or item.region is None:
                item.region = self._locate(item)
                continue
            item.region = shift(item.region, start, end, len(new_text))

    # -- internals

    def _abandon_previous(self, item: Tracked) -> None:
        prev = self.on_screen.get(item.uri)
        if prev and prev != item.id and prev in self.tracked:
            self._abandon(self.tracked[prev])

    def _abandon(self, item: Tracked) -> None:
        """A shown suggestion left with no decision: rejected, unless part of it was accepted."""
        if item.decided is None:
            self._decide(item, "partiallyAccepted" if item.accepted_length else "rejected", None, inferred=True)

    def _decide(self, item: Tracked, kind: str, length: int | None, inferred: bool = False) -> None:
        item.decided = kind
        if self.on_screen.get(item.uri) == item.id:
            del self.on_screen[item.uri]
        accepted = kind == "accepted" or (length or item.accepted_length) > 0
        self.recent = [*self.recent, int(accepted)][-50:]
        if kind != "partiallyAccepted":  # an inferred end of a partial accept has been recorded already
            self._record(item.id, kind, length, inferred)

    def _record(self, sid: str, kind: str, length: int | None = None, inferred: bool = False) -> None:
        assert kind in KINDS
        if self.store is not None:
            self.store.signal(sid, kind, length, inferred)

    def _track_acceptance(self, item: Tracked, text: str) -> None:
        if not text.strip() or not self.retention_s:
            return
        item.accepted_text = text
        item.region = self._locate(item)
        self._cancel_checks(item)
        try:
            loop = self.loop or asyncio.get_running_loop()
        except RuntimeError:
            return
        item.checks = [loop.call_later(after, self._check, item.id, after) for after in self.retention_s]

    def _locate(self, item: Tracked) -> tuple[int, int] | None:
        """Where the accepted text is in the document: nearest occurrence to where it was suggested."""
        text = self.text_of(item.uri)
        if text is None or not item.accepted_text:
            return None
        lo = max(0, item.offset - 2000)
        best = None
        pos = text.find(item.accepted_text, lo, item.offset + 2000 + len(item.accepted_text))
        while pos >= 0:
            if best is None or abs(pos - item.offset) < abs(best - item.offset):
                best = pos
            pos = text.find(item.accepted_text, pos + 1, item.offset + 2000 + len(item.accepted_text))
        return (best, best + len(item.accepted_text)) if best is not None else None

    def _check(self, sid: str, after: float) -> None:
        item = self.tracked.get(sid)
        if item is None:
            return
        text = self.text_of(item.uri)
        if text is None:
            return
        region = item.region
        now = text[region[0]: region[1]] if region else ""
        if self.store is not None:
            self.store.retention(sid, after, similarity(item.accepted_text, now), len(item.accepted_text))

    @staticmethod
    def _cancel_checks(item: Tracked) -> None:
        for handle in item.checks:
            handle.cancel()
        item.checks = []

    def stop(self) -> None:
        for item in self.tracked.values():
            self._cancel_checks(item)


def shift(region: tuple[int, int], start: int, end: int, inserted: int) -> tuple[int, int]:
    """Where a region of a document is after replacing [start, end) with `inserted` characters."""
    rs, re_ = region
    delta = inserted - (end - start)
    if end <= rs:  # wholly before it (typing at its very start goes before it too)
        return rs + delta, re_ + delta
    if start >= re_:  # wholly after it
        return rs, re_
    return min(rs, start), max(re_ + delta, start + inserted)
