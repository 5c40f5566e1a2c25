"""Signal bookkeeping: decisions, inferred rejections, partial accepts, retention of accepted text."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lsp_server.signals import SignalError, Signals, shift
from tuning.store import EventStore


@pytest.fixture
def docs() -> dict[str, str]:
    return {"file:///a.py": "def f(x):\n    return \n"}


@pytest.fixture
def signals(tmp_path: Path, docs: dict[str, str]):
    s = Signals(EventStore(tmp_path / "e.db"), docs.get, retention_s=())
    yield s
    s.store.close()


def kinds(s: Signals, sid: str | None = None) -> list[tuple]:
    assert s.store.flush()
    return [(e["id"], e["kind"], e["acceptedLength"], e["inferred"]) for e in s.store.signals(sid)]


def returned(s: Signals, sid: str, text: str = "x + 1", uri: str = "file:///a.py", offset: int = 21) -> None:
    s.returned(sid, uri, offset, text, {"created": 0.0, "workspace": "", "path": "a.py", "language": "python",
                                        "mode": "line", "line_prefix": "    return ", "sources": [], "model": "m",
                                        "features": {}})


def test_shown_then_accepted_once(signals: Signals) -> None:
    returned(signals, "a")
    assert signals.signal("a", "shown")
    assert not signals.signal("a", "shown")  # shown again as it streams: one event
    assert signals.signal("a", "accepted")
    assert not signals.signal("a", "accepted")
    assert not signals.signal("a", "dismissed")  # decided already
    assert kinds(signals) == [("a", "shown", None, False), ("a", "accepted", 5, False)]
    assert signals.recent_accept_rate() == 1.0


def test_a_replaced_suggestion_is_an_inferred_rejection(signals: Signals) -> None:
    returned(signals, "a")
    signals.signal("a", "shown")
    returned(signals, "b")
    signals.signal("b", "shown")
    signals.signal("b", "dismissed")
    assert kinds(signals) == [("a", "shown", None, False), ("a", "rejected", None, True),
                              ("b", "shown", None, False), ("b", "dismissed", None, False)]
    assert signals.recent_accept_rate() == 0.0


def test_partial_accepts_grow_and_end_without_another_event(signals: Signals) -> None:
    returned(signals, "a", text="foo(bar, baz)")
    signals.signal("a", "shown")
    assert signals.signal("a", "partiallyAccepted", 4)
    assert not signals.signal("a", "partiallyAccepted", 3)  # not more than before
    assert signals.signal("a", "partiallyAccepted", 99)  # clamped to the suggestion
    signals.closed("file:///a.py")  # abandoned after a partial accept: no rejection recorded
    assert kinds(signals) == [("a", "shown", None, False), ("a", "partiallyAccepted", 4, False),
                              ("a", "partiallyAccepted", 13, False)]
    assert signals.recent_accept_rate() == 1.0


def test_closing_a_document_rejects_what_was_on_screen(signals: Signals) -> None:
    returned(signals, "a")
    signals.signal("a", "shown")
    signals.closed("file:///a.py")
    assert kinds(signals)[-1] == ("a", "rejected", None, True)


@pytest.mark.parametrize("sid,kind,length", [
    (None, "shown", None), ("", "shown", None), (7, "shown", None), ("a", "clicked", None),
    ("a", "partiallyAccepted", -1), ("a", "partiallyAccepted", "3"), ("a", "accepted", True),
    ("x" * 300, "shown", None),
])
def test_bad_signals_raise(signals: Signals, sid, kind, length) -> None:
    returned(signals, "a")
    with pytest.raises(SignalError):
        signals.signal(sid, kind, length)


def test_unknown_ids_are_ignored(signals: Signals) -> None:
    assert not signals.signal("never-returned", "accepted")
    assert kinds(signals) == []


@pytest.mark.parametrize("region,edit,expected", [
    ((10, 20), (0, 0, 3), (13, 23)),     # typed before it
    ((10, 20), (10, 10, 2), (12, 22)),   # typed at its very start
    ((10, 20), (20, 20, 2), (10, 20)),   # typed right after it
    ((10, 20), (25, 30, 0), (10, 20)),   # deleted after it
    ((10, 20), (12, 15, 1), (10, 18)),   # rewritten inside it
    ((10, 20), (5, 12, 0), (5, 13)),     # deleted across its start
    ((10, 20), (0, 30, 4), (0, 4)),      # replaced with all around it
])
def test_shift(region, edit, expected) -> None:
    assert shift(region, *edit) == expected


async def test_retention_follows_the_accepted_text_through_edits(tmp_path: Path) -> None:
    uri = "file:///a.py"
    docs = {uri: "def f(x):\n    return \n"}
    s = Signals(EventStore(tmp_path / "e.db"), docs.get, retention_s=(0.05, 0.3))
    returned(s, "a", text="x + 1", offset=21)
    s.signal("a", "shown")
    docs[uri] = "def f(x):\n    return x + 1\n"  # the client inserted it
    s.signal("a", "accepted")
    docs[uri] = "# hi\ndef f(x):\n    return x + 1\n"
    s.changed(uri, 0, 0, "# hi\n")
    await asyncio.sleep(0.15)
    docs[uri] = "# hi\ndef f(x):\n    return x + 2\n"  # the developer changed the accepted text
    s.changed(uri, 30, 31, "2")
    await asyncio.sleep(0.3)
    assert s.store.flush()
    rows = [tuple(r) for r in s.store._reader().__enter__().execute(
        "SELECT after_s, similarity, chars FROM retention ORDER BY after_s")]
    assert rows == [(0.05, 1.0, 5), (0.3, 0.8, 5)]
    s.store.close()
