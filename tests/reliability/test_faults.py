"""The engine fails: reported once, every request still answered, and service comes back by itself."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lsp_server.models import is_verified, load_manifest, model_file

from .rpc import Peer

TEXT = "def add(a, b):\n    return "


def open_doc(peer: Peer, ws: Path) -> str:
    uri = (ws / "a.py").as_uri()
    peer.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                          "text": TEXT}})
    return uri


def complete(peer: Peer, uri: str, timeout: float = 60) -> list:
    reply = peer.request("textDocument/inlineCompletion", {
        "textDocument": {"uri": uri}, "position": {"line": 1, "character": 11}, "context": {"triggerKind": 1}},
        timeout=timeout)
    assert "result" in reply, reply
    return (reply["result"] or {}).get("items") or []


def messages(peer: Peer) -> list[str]:
    return [n["params"]["message"] for n in peer.notifications if n["method"] == "window/showMessage"]


def states(peer: Peer) -> list[str]:
    return [n["params"]["state"] for n in peer.notifications if n["method"] == "tacit/status"]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    d = tmp_path / "ws"
    d.mkdir()
    return d


@pytest.mark.parametrize("content", [None, b"hello, not a model", "truncated"])
def test_a_bad_model_file_is_reported_once_and_recovers_when_fixed(tmp_path, ws, content):
    spec = load_manifest().get(load_manifest().default)
    assert is_verified(spec), "run `make model`"
    real = model_file(spec)
    bad = tmp_path / "model.gguf"
    if content == "truncated":
        with open(real, "rb") as src:
            bad.write_bytes(src.read(2_000_000))
    elif content is not None:
        bad.write_bytes(content)
    peer = Peer(env={"TACIT_CONFIG": str(tmp_path), "TACIT_DATA": str(tmp_path)})
    peer.initialize(ws, {"context": {"index": False}, "model": {"path": str(bad)}, "completion": {"maxTokens": 8}})
    assert peer.wait_ready() == "error"
    uri = open_doc(peer, ws)
    for _ in range(3):
        assert complete(peer, uri) == []
    assert len(messages(peer)) == 1, messages(peer)
    # The user fixes the file; the next requests find the model without a restart.
    bad.unlink(missing_ok=True)
    bad.symlink_to(real)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and states(peer)[-1] != "ready":
        complete(peer, uri)
        time.sleep(1)
    assert states(peer)[-1] == "ready", states(peer)
    assert len(messages(peer)) == 1
    assert peer.close() == 0


class Backend(BaseHTTPRequestHandler):
    """An OpenAI-compatible completions endpoint that fails in the way `mode` says."""

    mode = "down"

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        try:
            self._answer()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (the slow case): expected
            pass

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        mode = Backend.mode
        if mode == "slow":
            time.sleep(3)
        if mode == "http500":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"internal error")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if mode == "garbage":
            self.wfile.write(b"data: {not json at all\n\n")
        elif mode == "midstream":
            self.wfile.write(b'data: {"choices": [{"text": "a +"}]}\n\n')
            self.wfile.flush()
            self.connection.shutdown(2)
        elif mode in ("ok", "slow"):
            for piece in ("a", " +", " b", "\n"):
                self.wfile.write(f"data: {json.dumps({'choices': [{'text': piece}]})}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")


def test_a_failing_remote_engine(tmp_path, ws):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    port = server.server_address[1]
    server.server_close()  # down: nothing listens on the port yet
    peer = Peer(env={"TACIT_CONFIG": str(tmp_path), "TACIT_DATA": str(tmp_path)})
    peer.initialize(ws, {"context": {"index": False}, "engine": "remote",
                         "remote": {"url": f"http://127.0.0.1:{port}/v1", "timeoutMs": 1000}})
    assert peer.wait_ready() == "ready"
    uri = open_doc(peer, ws)
    assert complete(peer, uri) == [] and complete(peer, uri) == []
    assert states(peer)[-1] == "error" and len(messages(peer)) == 1
    server = ThreadingHTTPServer(("127.0.0.1", port), Backend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for mode in ("slow", "http500", "garbage", "midstream"):
            Backend.mode = mode
            shown_before = len(messages(peer))
            assert complete(peer, uri) == [], mode
            assert complete(peer, uri) == [], mode
            assert states(peer)[-1] == "error", (mode, states(peer)[-3:])
            assert len(messages(peer)) <= shown_before + 1, mode  # one message per kind of fault
        Backend.mode = "ok"  # it comes back: suggestions come back, with no restart
        items = complete(peer, uri)
        assert items and items[0]["insertText"].startswith("a + b"), items
        # The answer comes with the first line; the stream may still be finishing, so wait for it to settle.
        assert peer.wait_ready(timeout=30) == "ready", states(peer)[-3:]
        assert peer.request("tacit/getStatus")["result"]["state"] == "ready"
    finally:
        server.shutdown()
    assert peer.close() == 0


def test_an_unwritable_or_locked_event_store_never_blocks_completions(tmp_path, ws):
    import sqlite3

    db = tmp_path / "events.db"
    from tuning.store import connect

    connect(db).close()
    locker = sqlite3.connect(db, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the database
    peer = Peer(env={"TACIT_CONFIG": str(tmp_path), "TACIT_DATA": str(tmp_path)})
    peer.initialize(ws, {"context": {"index": False}, "completion": {"maxTokens": 8},
                         "signals": {"database": str(db)}})
    assert peer.wait_ready() == "ready"
    uri = open_doc(peer, ws)
    items = complete(peer, uri)
    assert items, "no suggestion while the store was locked"
    peer.notify("tacit/signal", {"id": items[0]["command"]["arguments"][0], "kind": "shown"})
    reply = peer.request("tacit/getSignals", {}, timeout=60)["result"]
    assert reply["flushed"] is False  # not written yet, and the server says so
    assert any("cannot write the signal store" in m for m in messages(peer)), messages(peer)
    locker.execute("ROLLBACK")
    locker.close()
    reply = peer.request("tacit/getSignals", {}, timeout=60)["result"]
    assert reply["flushed"] and [s["kind"] for s in reply["signals"]] == ["shown"]  # held, then written
    assert peer.close() == 0
