"""Soak: the typing storm for longer, fuzzed input, injected faults, and killed writers, with figures.

Runs against the real server and the real default model:
1. a typing storm (`--seconds`, several documents, edits and completion requests as fast as the pipe
   takes them, most superseded requests cancelled the way editors do), then calm requests;
2. `--fuzz` hostile JSON-RPC messages and broken frames (the strategies of tests/reliability/fuzz.py);
3. faults: a remote engine that is down, slow, failing, garbled and cut mid-stream, then healthy;
4. `--kills` SIGKILLs of a process writing signals to a real SQLite file, counting acknowledged
   events that did not survive (must be 0).

    python bench/soak.py [--seconds 120] [--fuzz 3000] [--kills 5]

Writes bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from tests.reliability.fuzz import BROKEN, OPEN_URI, message  # noqa: E402
from tests.reliability.rpc import Peer  # noqa: E402
from tests.reliability.storm import storm  # noqa: E402
from tests.reliability.test_faults import Backend, complete, open_doc  # noqa: E402
from tests.unit.test_store import WRITER  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def start(tmp: Path, options: dict) -> tuple[Peer, Path]:
    ws = tmp / "ws"
    ws.mkdir(exist_ok=True)
    peer = Peer(env={"TACIT_CONFIG": str(tmp), "TACIT_DATA": str(tmp)})
    peer.initialize(ws, options)
    return peer, ws


def fuzz(peer: Peer, n: int) -> dict:
    counts = {"messages": 0, "broken_frames": 0, "unanswered": 0}

    @settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              phases=[Phase.generate])
    @given(message())
    def one(msg) -> None:
        _, body, request = msg
        counts["messages"] += 1
        if request:
            rid = next(peer.ids)
            peer.raw(body.replace(b'"id": "fuzz"', f'"id": {rid}'.encode()))
            try:
                peer.wait(rid, timeout=60)
            except TimeoutError:
                counts["unanswered"] += 1
        else:
            peer.raw(body)

    @settings(max_examples=max(20, n // 20), deadline=None, suppress_health_check=list(HealthCheck),
              database=None, phases=[Phase.generate])
    @given(BROKEN)
    def broken(body: bytes) -> None:
        counts["broken_frames"] += 1
        peer.raw(body)

    peer.notify("textDocument/didOpen", {"textDocument": {"uri": OPEN_URI, "languageId": "python", "version": 1,
                                                          "text": "def f(x):\n    return x\n"}})
    one()
    broken()
    counts["still_serving"] = "result" in peer.request("tacit/getStatus", timeout=60)
    return counts


def faults(tmp: Path) -> dict:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    port = server.server_address[1]
    server.server_close()
    peer, ws = start(tmp, {"context": {"index": False}, "engine": "remote",
                           "remote": {"url": f"http://127.0.0.1:{port}/v1", "timeoutMs": 1000}})
    peer.wait_ready()
    uri = open_doc(peer, ws)
    injected, answered = 0, 0
    for _ in range(3):
        injected += 1
        answered += complete(peer, uri) == []
    server = ThreadingHTTPServer(("127.0.0.1", port), Backend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for mode in ("slow", "http500", "garbage", "midstream") * 3:
        Backend.mode = mode
        injected += 1
        answered += complete(peer, uri) == []
    Backend.mode = "ok"
    recovered = bool(complete(peer, uri))
    messages = [n for n in peer.notifications if n["method"] == "window/showMessage"]
    server.shutdown()
    peer.close()
    return {"faults_injected": injected, "answered_without_suggestion": answered, "recovered": recovered,
            "messages_shown": len(messages)}


def kills(tmp: Path, n: int) -> dict:
    lost = acknowledged_total = 0
    for i in range(n):
        db = tmp / f"kill{i}.db"
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        acknowledged = 0
        target = 500 + 700 * i
        while acknowledged < target:
            line = proc.stdout.readline()
            if not line:
                break
            acknowledged = int(line)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        conn = sqlite3.connect(db)
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        have = {r[0] for r in conn.execute("SELECT id FROM signals")}
        lost += sum(1 for k in range(acknowledged) if f"id{k}" not in have) + (0 if ok else 1)
        acknowledged_total += acknowledged
    return {"kills": n, "acknowledged_events": acknowledged_total, "events_lost": lost}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--fuzz", type=int, default=3000)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out: dict = {"machine": {"cpus": os.cpu_count()}}
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        print(f"storm for {args.seconds:.0f} s ...", flush=True)
        (tmp / "storm").mkdir()
        peer, ws = start(tmp / "storm", {"context": {"index": False}})
        assert peer.wait_ready() == "ready"
        out["storm"] = storm(peer, ws, seconds=args.seconds, docs=6, seed=args.seed, pace_s=0).figures()
        print(json.dumps(out["storm"]), flush=True)
        print(f"fuzzing {args.fuzz} messages ...", flush=True)
        out["fuzz"] = fuzz(peer, args.fuzz)
        out["storm"]["exit_code"] = peer.close()
        print(json.dumps(out["fuzz"]), flush=True)
        (tmp / "faults").mkdir()
        out["faults"] = faults(tmp / "faults")
        print(json.dumps(out["faults"]), flush=True)
        (tmp / "kills").mkdir()
        out["kills"] = kills(tmp / "kills", args.kills)
        print(json.dumps(out["kills"]), flush=True)
    s = out["storm"]
    out["summary"] = {
        "requests_served": s["answered"], "requests_unanswered": s["unanswered"] + out["fuzz"]["unanswered"],
        "peak_rss_mb": s["peak_rss_mb"], "p99_ms_during_storm": s["p99_ms_during"],
        "p99_ms_after_storm": s["p99_ms_after"], "documents_in_sync": s["documents_match"],
        "inputs_fuzzed": out["fuzz"]["messages"] + out["fuzz"]["broken_frames"],
        "faults_injected": out["faults"]["faults_injected"] + out["kills"]["kills"],
        "events_lost": out["kills"]["events_lost"]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out["summary"], indent=2))
    return 0 if out["summary"]["events_lost"] == 0 and out["summary"]["requests_unanswered"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
