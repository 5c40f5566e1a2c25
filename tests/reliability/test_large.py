"""Large inputs get bounded behaviour: answered quickly with a reason, never a hang."""

from __future__ import annotations

import json
import time

import pytest

from .rpc import Peer


def read_log(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("large")
    ws = tmp / "ws"
    ws.mkdir()
    for i in range(20_000):  # a workspace of 20,000 files
        sub = ws / f"pkg{i // 500}"
        sub.mkdir(exist_ok=True)
        (sub / f"m{i}.py").write_text(f"def f{i}(x):\n    return x + {i}\n")
    log = tmp / "requests.jsonl"
    p = Peer(env={"TACIT_CONFIG": str(tmp), "TACIT_DATA": str(tmp)})
    p.initialize(ws, {"logFile": str(log), "completion": {"maxTokens": 8}})
    assert p.wait_ready() == "ready"
    p.ws, p.log = ws, log
    yield p
    assert p.close() == 0


CASES = {
    "20MB file": ("x = 1  # padding padding padding\n" * 600_000) + "def f(a):\n    return ",
    "100,000 lines": "".join(f"v{i % 10}=1\n" for i in range(100_000)) + "def g(a):\n    return ",
    "1MB line": "s = '" + "a" * 1_000_000 + "'\ndef h(a):\n    return ",
}


@pytest.mark.parametrize("name", list(CASES))
def test_large_document(peer: Peer, name: str) -> None:
    text = CASES[name]
    uri = (peer.ws / f"{name.replace(' ', '_').replace(',', '')}.py").as_uri()
    t0 = time.monotonic()
    peer.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                          "text": text}})
    lines = text.split("\n")
    pos = {"line": len(lines) - 1, "character": len(lines[-1])}
    for version in range(2, 6):  # keep typing at the end
        peer.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                               "contentChanges": [{"range": {"start": pos, "end": pos},
                                                                   "text": "a"}]})
        pos = {"line": pos["line"], "character": pos["character"] + 1}
        reply = peer.request("textDocument/inlineCompletion", {"textDocument": {"uri": uri}, "position": pos,
                                                               "context": {"triggerKind": 1}}, timeout=120)
        assert "result" in reply, reply
    assert time.monotonic() - t0 < 300  # bounded, never a hang (a slow CPU took 123 s here)
    mine = [e for e in read_log(peer.log) if e.get("event") == "request" and e.get("uri") == uri]
    assert len(mine) >= 4, mine
    if len(text) > 1_000_000:  # over the size limit: skipped, with the reason in the log
        assert all(e["outcome"] == "skipped" and "larger than" in e["reason"] for e in mine), mine
    else:
        assert not [e for e in mine if e["outcome"] == "skipped"], mine
    assert "result" in peer.request("tacit/getStatus", timeout=30)
    peer.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_workspace_of_20000_files_is_indexed_in_the_background_up_to_max_files(peer: Peer) -> None:
    deadline = time.monotonic() + 240
    index = None
    while time.monotonic() < deadline:
        index = peer.request("tacit/getStatus", timeout=30)["result"].get("index")
        if index and index.get("complete"):
            break
        time.sleep(1)
    # the default context.maxFiles bounds the index (and its memory); the build found every file
    assert index and index["complete"] and index["files"] == 10_000 and index["eligible"] == 20_000, index
