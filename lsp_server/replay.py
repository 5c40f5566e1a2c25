"""Replay a recorded typing session against a running server, the way an editor would.

Each keystroke is a didChange at the cursor, a $/cancelRequest for any request still
pending, and a new textDocument/inlineCompletion. When the server announces that more
of the shown suggestion is ready (`tacit/completionUpdated`), we re-request like the
clients do. Used by `tacit demo`, `bench/latency.py` and the e2e tests.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types

from .client import TacitClient

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


@dataclass
class Session:
    """A recorded session: a file with a region cut out, and the keystrokes that re-type it."""

    name: str
    path: Path
    language: str
    cut: tuple[int, int]
    events: list[dict]

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def initial_text(self) -> str:
        src = self.source
        return src[: self.cut[0]] + src[self.cut[1]:]


def load_session(path: Path) -> Session:
    """Read a session file (format: seeds/README.md)."""
    lines = [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
    header, events = lines[0], lines[1:]
    file = Path(header["file"])
    if not file.is_absolute():
        file = path.parent.parent / file if (path.parent.parent / file).exists() else SEEDS / file
    return Session(header.get("name", path.stem), file, header.get("language", "python"),
                   tuple(header["cut"]), events)  # type: ignore[arg-type]


def sessions_in(folder: Path) -> list[Session]:
    """Every session file (*.jsonl) in a folder, sorted by name."""
    return [load_session(p) for p in sorted(folder.glob("*.jsonl"))]


@dataclass
class Keystroke:
    """What one keystroke got."""

    index: int
    key: str
    offset: int
    sent: float
    first_ms: float | None = None
    full_ms: float | None = None
    text: str | None = None
    full_text: str | None = None
    suggestion_id: str | None = None
    cached: bool | None = None
    complete: bool | None = None
    outcome: str = "pending"  # shown, empty, superseded, error


@dataclass
class ReplayResult:
    session: str
    keystrokes: list[Keystroke] = field(default_factory=list)
    final_text: str = ""
    warmup_ms: float | None = None


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1)
    return line, col


def _meta(item: types.InlineCompletionItem) -> dict:
    args = item.command.arguments if item.command and item.command.arguments else []
    meta = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
    return {"id": args[0] if args else None, **meta}


async def replay(client: TacitClient, session: Session, speed: float = 1.0, uri: str | None = None,
                 on_suggestion: Callable[[Keystroke, bool], None] | None = None,
                 max_keys: int | None = None, settle: float = 3.0, warmup: bool = False,
                 on_warm: Callable[[float], None] | None = None) -> ReplayResult:
    """Type `session` into the server; return per-keystroke results.

    With `warmup`, first ask for a suggestion at the cursor and wait for it, like a developer
    who opens the file and pauses before typing: the server reads the file's context once.
    """
    uri = uri or session.path.resolve().as_uri()
    text = session.initial_text()
    offset = session.cut[0]
    client.open(uri, text, session.language)
    result = ReplayResult(session.name)
    if warmup:
        t0 = time.perf_counter()
        line, col = _position(text, offset)
        await client.inline(uri, line, col, invoked=True)
        result.warmup_ms = (time.perf_counter() - t0) * 1000
        if on_warm is not None:
            on_warm(result.warmup_ms)
    pending: dict[str, tuple[asyncio.Future, Keystroke]] = {}
    current: list[Keystroke] = []

    def request(ks: Keystroke, full: bool) -> None:
        line, col = _position(text, ks.offset)
        msg_id = f"ic-{uuid.uuid4().hex[:10]}"
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=col),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))
        fut = asyncio.ensure_future(client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id))
        pending[msg_id] = (fut, ks)
        fut.add_done_callback(lambda f: answered(msg_id, ks, f, full))

    def answered(msg_id: str, ks: Keystroke, fut: asyncio.Future, full: bool) -> None:
        pending.pop(msg_id, None)
        now = time.perf_counter()
        if fut.cancelled() or fut.exception() is not None:
            if not full:
                ks.outcome = "superseded" if ks.outcome == "cancelling" else "error"
            return
        res = fut.result()
        items = res.items if res is not None and hasattr(res, "items") else []
        if not items:
            if not full:
                ks.outcome = "empty"
            return
        item = items[0]
        meta = _meta(item)
        insert = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
        if full:
            ks.full_ms, ks.full_text, ks.complete = (now - ks.sent) * 1000, insert, True
        else:
            ks.first_ms, ks.text, ks.outcome = (now - ks.sent) * 1000, insert, "shown"
            ks.suggestion_id, ks.cached = meta.get("id"), meta.get("cached")
            ks.complete = bool(meta.get("complete"))
            if ks.complete:
                ks.full_ms, ks.full_text = ks.first_ms, insert
        if on_suggestion is not None:
            on_suggestion(ks, full)

    async def watch_updates() -> None:
        while True:
            upd = await client.updates.get()
            ks = current[-1] if current else None
            if ks and ks.suggestion_id == upd.get("id") and ks.full_ms is None and ks.outcome == "shown":
                request(ks, full=True)

    watcher = asyncio.create_task(watch_updates())
    start = time.perf_counter()
    due = start
    try:
        for i, event in enumerate(session.events[:max_keys]):
            due += event["dt_ms"] / 1000 / speed
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            key = event["text"]
            line, col = _position(text, offset)
            client.insert(uri, line, col, key)
            text = text[:offset] + key + text[offset:]
            offset += len(key)
            for msg_id, (fut, ks) in list(pending.items()):
                if not fut.done():
                    ks.outcome = "cancelling" if ks.outcome == "pending" else ks.outcome
                    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
            ks = Keystroke(i, key, offset, time.perf_counter())
            current.append(ks)
            result.keystrokes.append(ks)
            request(ks, full=False)
        deadline = time.perf_counter() + settle
        while pending and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
    finally:
        watcher.cancel()
    result.final_text = text
    return result
