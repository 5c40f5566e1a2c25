"""A typing storm: many documents, thousands of edits and completion requests a second, then checks.

Used by tests/reliability/test_storm.py (bounded) and bench/soak.py (longer). Edits are random
inserts and deletes (non-ASCII and astral characters included) sent as incremental didChange in
UTF-16 positions; a reference copy of every document is kept here and compared with what the
server holds afterwards (`tacit/getDocument`).
"""

from __future__ import annotations

import hashlib
import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from .rpc import Peer

ALPHABET = "abcdefghij (){}[]:=.,\n    \té€😀"


def utf16_pos(text: str, offset: int) -> dict:
    line_start = text.rfind("\n", 0, offset) + 1
    return {"line": text.count("\n", 0, offset), "character": len(text[line_start:offset].encode("utf-16-le")) // 2}


@dataclass
class StormResult:
    seconds: float
    edits: int = 0
    requests: int = 0
    cancels: int = 0
    answered: int = 0
    unanswered: int = 0
    errors: int = 0
    cancelled: int = 0  # answered with LSP's RequestCancelled, as they should be
    suggestions: int = 0
    peak_rss_mb: float = 0.0
    storm_latency_ms: list[float] = field(default_factory=list)
    after_latency_ms: list[float] = field(default_factory=list)
    documents_match: bool = False

    def figures(self) -> dict:
        def p99(values: list[float]) -> float | None:
            return round(statistics.quantiles(values, n=100)[98], 1) if len(values) >= 2 else None
        return {"seconds": self.seconds, "edits": self.edits, "requests": self.requests, "cancels": self.cancels,
                "answered": self.answered, "unanswered": self.unanswered, "errors": self.errors,
                "cancelled": self.cancelled,
                "suggestions": self.suggestions, "requests_per_s": round(self.requests / self.seconds, 1),
                "edits_per_s": round(self.edits / self.seconds, 1), "peak_rss_mb": round(self.peak_rss_mb, 1),
                "p99_ms_during": p99(self.storm_latency_ms), "p99_ms_after": p99(self.after_latency_ms),
                "documents_match": self.documents_match}


def storm(peer: Peer, ws: Path, seconds: float, docs: int = 4, seed: int = 0, pace_s: float = 0.0005,
          answer_timeout: float = 300) -> StormResult:
    """Run the storm against an initialized, ready peer; return what was measured."""
    rng = random.Random(seed)
    texts: dict[str, str] = {}
    versions: dict[str, int] = {}
    for i in range(docs):
        uri = (ws / f"storm_{i}.py").as_uri()
        texts[uri] = f"def f{i}(x):\n    return x\n\n\nclass C{i}:\n    pass\n"
        versions[uri] = 1
        peer.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                              "text": texts[uri]}})
    result = StormResult(seconds=seconds)
    sent_at: dict[int, float] = {}
    pending: dict[str, int] = {}
    proc = psutil.Process(peer.proc.pid)
    stop = threading.Event()

    def sample_rss() -> None:
        while not stop.is_set():
            try:
                result.peak_rss_mb = max(result.peak_rss_mb, proc.memory_info().rss / 2**20)
            except psutil.Error:
                return
            stop.wait(0.05)

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        uri = rng.choice(list(texts))
        text = texts[uri]
        if rng.random() < 0.7 or len(text) < 20:  # type a few characters
            at = rng.randrange(len(text) + 1)
            new = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 3)))
            start, stop_at = at, at
        else:  # delete a little
            start = rng.randrange(len(text))
            stop_at = min(len(text), start + rng.randint(1, 6))
            new = ""
        rng_ = {"start": utf16_pos(text, start), "end": utf16_pos(text, stop_at)}
        texts[uri] = text[:start] + new + text[stop_at:]
        versions[uri] += 1
        peer.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": versions[uri]},
                                               "contentChanges": [{"range": rng_, "text": new}]})
        result.edits += 1
        if uri in pending and rng.random() < 0.8:  # editors cancel what the keystroke superseded
            peer.notify("$/cancelRequest", {"id": pending[uri]})
            result.cancels += 1
        rid = next(peer.ids)
        cursor = start + len(new)
        peer.send({"id": rid, "method": "textDocument/inlineCompletion", "params": {
            "textDocument": {"uri": uri}, "position": utf16_pos(texts[uri], cursor),
            "context": {"triggerKind": 2}}})
        sent_at[rid] = time.monotonic()
        pending[uri] = rid
        result.requests += 1
        if pace_s:
            time.sleep(pace_s)
    deadline = time.monotonic() + answer_timeout
    for rid, t in sent_at.items():
        try:
            reply = peer.wait(rid, timeout=max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            result.unanswered += 1
            continue
        result.answered += 1
        if "error" in reply:
            if reply["error"].get("code") == -32800:
                result.cancelled += 1
            else:
                result.errors += 1
        elif (reply.get("result") or {}).get("items"):
            result.suggestions += 1
        result.storm_latency_ms.append((reply["_received"] - t) * 1000)
    for _ in range(20):  # a calm keystroke-sized request after the storm
        t = time.monotonic()
        peer.request("tacit/getStatus", None, timeout=30)
        result.after_latency_ms.append((time.monotonic() - t) * 1000)
    stop.set()
    sampler.join()
    match = True
    for uri, text in texts.items():
        got = peer.request("tacit/getDocument", {"uri": uri}, timeout=30)["result"]
        want = hashlib.sha256(text.encode("utf-8")).hexdigest()
        match = match and got["sha256"] == want and got["syntaxSha256"] == want and got["version"] == versions[uri]
    result.documents_match = match
    return result
