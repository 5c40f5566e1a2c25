"""Privacy and confinement: a full session under strace opens no network socket, reads nothing outside the
workspace or from secret files, and no planted key reaches a prompt, a log, the event store or an export."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .rpc import ROOT, Peer

# Fake credentials, built at run time so no scanner flags this file.
KEYS = {
    "aws": "AKIA" + "Z7Q4EXAMPLE2KEYW",
    "github": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "env": "sk_live_" + "51HqZx7Yq8vN3mKpL0rT6wB2",
    "ssh": "b3BlbnNzaC1rZXktdjEAAAAA" + "BG5vbmUAAAAEbm9uZQ",
    "outside": "OUTSIDE_" + "MARKER_7731",
}


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.py").write_text(f'SECRET_PLAN = "{KEYS["outside"]}"\n\ndef leak():\n    return 1\n')
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".env").write_text(f"STRIPE_KEY={KEYS['env']}\n")
    (ws / "id_rsa").write_text(
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{KEYS['ssh']}\n-----END OPENSSH PRIVATE KEY-----\n")
    (ws / "settings.py").write_text(
        f'GITHUB_TOKEN = "{KEYS["github"]}"\n\n\ndef connect(host, port, token=GITHUB_TOKEN):\n'
        '    """Open a connection to the API."""\n    return (host, port, token)\n')
    (ws / "link.py").symlink_to(outside / "private.py")
    (ws / "linkdir").symlink_to(outside)
    return ws


def test_a_full_session_leaks_nothing(planted: Path, tmp_path: Path) -> None:
    strace = shutil.which("strace")
    assert strace, "strace is missing: `make test` installs it"
    trace = tmp_path / "strace.txt"
    log = tmp_path / "requests.jsonl"
    data = tmp_path / "data"
    argv = [strace, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,bind,openat,open,execve", "-o", str(trace),
            sys.executable, "-m", "lsp_server", "serve"]
    peer = Peer(env={"TACIT_CONFIG": str(tmp_path), "TACIT_DATA": str(data)}, argv=argv)
    peer.initialize(planted, {"logFile": str(log), "logPrompts": True, "completion": {"maxTokens": 24},
                              "signals": {"retentionSeconds": [1]}})
    assert peer.wait_ready(timeout=300) == "ready"
    deadline = time.monotonic() + 120  # the index is built in the background
    while time.monotonic() < deadline and not peer.request("tacit/getStatus")["result"].get("index"):
        time.sleep(0.5)
    uri = (planted / "app.py").as_uri()
    text = (f'from settings import connect\n\nAWS_KEY = "{KEYS["aws"]}"\n\n\ndef open_api():\n'
            '    """Connect to the API with the default token."""\n    return connect(')
    peer.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                          "text": text}})
    lines = text.split("\n")
    reply = peer.request("textDocument/inlineCompletion", {
        "textDocument": {"uri": uri}, "position": {"line": len(lines) - 1, "character": len(lines[-1])},
        "context": {"triggerKind": 1}}, timeout=240)
    items = (reply.get("result") or {}).get("items") or []
    explained = peer.request("tacit/explain", {"uri": uri}, timeout=30)
    if items:
        sid = items[0]["command"]["arguments"][0]
        peer.notify("tacit/signal", {"id": sid, "kind": "shown"})
        peer.notify("tacit/signal", {"id": sid, "kind": "accepted"})
    # A document named by a URI outside the workspace, and one through `..`: the server reads neither.
    for other in ((tmp_path / "outside" / "private.py").as_uri(), planted.as_uri() + "/../outside/private.py"):
        peer.notify("textDocument/didOpen", {"textDocument": {"uri": other, "languageId": "python", "version": 1,
                                                              "text": "x = 1\n"}})
        peer.request("textDocument/inlineCompletion", {"textDocument": {"uri": other},
                                                       "position": {"line": 1, "character": 0},
                                                       "context": {"triggerKind": 1}}, timeout=240)
    time.sleep(1.5)  # let a retention check run
    assert peer.request("tacit/getSignals", {})["result"]["flushed"]
    assert peer.close() == 0
    export = tmp_path / "export.jsonl"
    subprocess.run([sys.executable, "-m", "lsp_server", "events", "--db", str(data / "events.db"), "--export",
                    str(export)], check=True, cwd=ROOT, capture_output=True)

    assert explained.get("result") and explained["result"]["prompt"], explained
    assert "<redacted>" in explained["result"]["prompt"]  # the in-document key was there to redact
    outputs = {"log": log.read_bytes(), "stderr": bytes(peer.stderr), "explain": json.dumps(explained).encode(),
               "export": export.read_bytes()}
    outputs.update({p.name: p.read_bytes() for p in data.iterdir()})
    for where, blob in outputs.items():
        for name, key in KEYS.items():
            assert key.encode() not in blob, f"the {name} key reached {where}"

    calls = trace.read_text(errors="replace")
    network = [ln for ln in calls.splitlines()
               if re.search(r"\b(connect|sendto|sendmsg|bind)\(", ln) and re.search(r"AF_INET6?\b", ln)]
    assert not network, "network traffic:\n" + "\n".join(network[:20])
    opened = re.findall(r'open(?:at)?\([^"]*"([^"]+)"', calls)
    outside = str(tmp_path / "outside")
    assert not [p for p in opened if p.startswith(outside)], "read a file outside the workspace"
    for secret_file in (".env", "id_rsa"):
        assert not [p for p in opened if Path(p).name == secret_file], f"opened {secret_file}"
    assert [p for p in opened if p.endswith("settings.py")], "the workspace was not indexed under strace"
