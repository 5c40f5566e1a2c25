"""The client goes away: the server exits within a bound and leaves nothing running."""

from __future__ import annotations

import subprocess
import time

import psutil
import pytest

from .rpc import Peer


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text("def f(x):\n    return x\n")
    return ws


def start(tmp_path, ws, **kw) -> Peer:
    peer = Peer(env={"TACIT_CONFIG": str(tmp_path), "TACIT_DATA": str(tmp_path)})
    peer.initialize(ws, {"context": {"watch": True}}, **kw)
    assert peer.wait_ready() == "ready"
    return peer


def gone_within(proc: subprocess.Popen, seconds: float) -> bool:
    try:
        proc.wait(seconds)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        return False


def test_stdin_closed_mid_generation(tmp_path, workspace):
    peer = start(tmp_path, workspace)
    children = psutil.Process(peer.proc.pid).children(recursive=True)
    uri = (workspace / "a.py").as_uri()
    peer.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                          "text": "def f(x):\n    return x\n\n\ndef g(y):\n    "}})
    peer.send({"id": 99, "method": "textDocument/inlineCompletion", "params": {
        "textDocument": {"uri": uri}, "position": {"line": 5, "character": 4}, "context": {"triggerKind": 1}}})
    time.sleep(0.5)
    peer.proc.stdin.close()
    assert gone_within(peer.proc, 20), "the server outlived its client"
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def test_parent_editor_dies(tmp_path, workspace):
    editor = subprocess.Popen(["sleep", "600"])
    peer = start(tmp_path, workspace, process_id=editor.pid)
    editor.kill()
    editor.wait()
    assert gone_within(peer.proc, 20), "the server outlived the editor that started it"


def test_requests_during_model_loading_are_answered(tmp_path, workspace):
    """llama.cpp silences stdout while it loads a model: the protocol must not go through fd 1."""
    peer = Peer(env={"TACIT_CONFIG": str(tmp_path), "TACIT_DATA": str(tmp_path)})
    peer.initialize(workspace, {"context": {"index": False}})
    states = []
    while not states or states[-1] in ("starting", "loading"):
        states.append(peer.request("tacit/getStatus", timeout=15)["result"]["state"])  # raises if one is lost
        time.sleep(0.01)
    assert "loading" in states and states[-1] == "ready", states
    assert peer.close() == 0
