"""Hostile JSON-RPC against the real server: every request is answered and the server keeps serving."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .fuzz import BROKEN, OPEN_URI, message
from .rpc import Peer

TRIED = {"messages": 0, "broken_frames": 0}


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    ws = tmp / "ws"
    ws.mkdir()
    p = Peer(env={"TACIT_CONFIG": str(tmp), "TACIT_DATA": str(tmp)})
    p.initialize(ws, {"completion": {"maxTokens": 4}, "context": {"index": False}})
    assert p.wait_ready() == "ready", bytes(p.stderr[-3000:]).decode(errors="replace")
    yield p
    assert p.close() == 0
    Path(tmp / "tried.json").write_text(json.dumps(TRIED))


def still_serving(peer: Peer) -> None:
    reply = peer.request("tacit/getStatus", None, timeout=30)
    assert "result" in reply, reply


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          phases=[Phase.explicit, Phase.generate])  # no shrinking: a failure costs a timeout
@given(st.lists(message(), min_size=1, max_size=6))
def test_structured_garbage(peer: Peer, batch) -> None:
    peer.notify("textDocument/didOpen", {"textDocument": {"uri": OPEN_URI, "languageId": "python", "version": 1,
                                                          "text": "def f(x):\n    return x\n"}})
    waiting = []
    for _, body, request in batch:
        TRIED["messages"] += 1
        if request:
            rid = next(peer.ids)
            body = body.replace(b'"id": "fuzz"', f'"id": {rid}'.encode())
            waiting.append(rid)
        peer.raw(body)
    for rid in waiting:  # every request gets a result or a JSON-RPC error
        reply = peer.wait(rid, timeout=30)
        assert ("result" in reply) != ("error" in reply), reply
    still_serving(peer)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          phases=[Phase.explicit, Phase.generate])  # no shrinking: a failure costs a timeout
@given(BROKEN)
def test_broken_frames(peer: Peer, body: bytes) -> None:
    TRIED["broken_frames"] += 1
    peer.raw(body)
    still_serving(peer)
