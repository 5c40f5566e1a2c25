"""The event store: exact schema from the migrations, writes, pruning, a killed writer, an unwritable disk."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tuning.store import EventStore, connect, migrate

EXPECTED_SCHEMA = {
    "migrations": ["name TEXT", "applied REAL"],
    "suggestions": ["id TEXT", "created REAL", "workspace TEXT", "path TEXT", "language TEXT", "mode TEXT",
                    "line_prefix TEXT", "offset INTEGER", "prompt TEXT", "sources TEXT", "model TEXT",
                    "adapter TEXT", "latency_ms REAL", "text TEXT", "features TEXT"],
    "signals": ["seq INTEGER", "id TEXT", "created REAL", "kind TEXT", "accepted_length INTEGER", "inferred INTEGER"],
    "retention": ["id TEXT", "created REAL", "after_s REAL", "similarity REAL", "chars INTEGER"],
}


def schema(conn: sqlite3.Connection) -> dict[str, list[str]]:
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    return {t: [f"{r[1]} {r[2]}" for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}


def suggestion(sid: str, created: float | None = None, **extra) -> dict:
    return {"id": sid, "created": created or time.time(), "workspace": "/w", "path": "a.py", "language": "python",
            "mode": "line", "line_prefix": "x = ", "offset": 10, "prompt": "p", "sources": ["prefix"],
            "model": "m", "adapter": None, "latency_ms": 1.0, "text": "1", "features": {}, **extra}


def test_migrations_produce_the_exact_schema(tmp_path: Path) -> None:
    conn = connect(tmp_path / "e.db")
    assert schema(conn) == EXPECTED_SCHEMA
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL")}
    assert indexes == {"suggestions_workspace", "signals_id"}
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert migrate(conn) == []  # idempotent
    assert [r[0] for r in conn.execute("SELECT name FROM migrations")] == ["001_events"]


def test_writes_round_trip_and_upsert_keeps_the_streamed_text(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "e.db")
    store.suggestion(suggestion("a", text="foo("))
    store.suggestion(suggestion("a", text="foo(bar)"))  # the same suggestion, streamed further
    store.suggestion(suggestion("a", text="bar)", offset=14))  # typed through: a new place, not a new text
    store.signal("a", "shown")
    store.signal("a", "accepted", 8)
    store.retention("a", 15, 0.9, 8)
    assert store.flush()
    assert [(s["kind"], s["acceptedLength"]) for s in store.signals()] == [("shown", None), ("accepted", 8)]
    conn = connect(store.path, readonly=True)
    assert [tuple(r) for r in conn.execute("SELECT text, offset FROM suggestions")] == [("foo(bar)", 10)]
    assert conn.execute("SELECT similarity FROM retention").fetchone()[0] == 0.9
    store.close()


def test_secrets_are_redacted_before_writing(tmp_path: Path) -> None:
    key = "AKIA" + "Q3EXAMPLE7KEY2ZZ"
    store = EventStore(tmp_path / "e.db")
    store.suggestion(suggestion("s", prompt=f'aws_key = "{key}"', text=f'"{key}"'))
    assert store.flush()
    store.close()
    assert key.encode() not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


def test_pruning_bounds_the_store(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "e.db", max_suggestions=5, max_days=1)
    store.suggestion(suggestion("old", created=time.time() - 3 * 86400))
    store.signal("old", "shown")
    for i in range(8):
        store.suggestion(suggestion(f"s{i}", created=time.time() + i))
    assert store.flush()
    store._prune(store._conn)
    ids = [r[0] for r in connect(store.path, readonly=True).execute("SELECT id FROM suggestions ORDER BY created")]
    assert ids == ["s3", "s4", "s5", "s6", "s7"]
    assert store.signals("old") == []
    store.close()


WRITER = textwrap.dedent("""
    import sys, time
    from tuning.store import EventStore
    store = EventStore(sys.argv[1])
    n = 0
    while True:
        for _ in range(50):
            store.signal(f"id{n}", "shown")
            n += 1
        if store.flush():
            print(n, flush=True)  # acknowledged: everything up to n is committed
""")


def test_a_killed_writer_loses_no_acknowledged_event(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    acknowledged = 0
    try:
        while acknowledged < 2000:
            line = proc.stdout.readline()
            assert line, "the writer died"
            acknowledged = int(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # mid-write: it never stops writing
        proc.wait()
    conn = connect(db)  # opens (and recovers the WAL) cleanly
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ids = {r[0] for r in conn.execute("SELECT id FROM signals")}
    assert {f"id{i}" for i in range(acknowledged)} <= ids


def test_a_locked_database_holds_events_and_reports_once(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    connect(db).close()
    errors: list[str] = []
    store = EventStore(db, on_error=errors.append)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    store.signal("a", "shown")
    assert not store.flush(timeout=20)
    store.signal("b", "shown")
    assert not store.flush(timeout=20)
    assert len(errors) == 1 and "cannot write" in errors[0]
    other.execute("ROLLBACK")
    other.close()
    assert store.flush(timeout=20)
    assert [s["id"] for s in store.signals()] == ["a", "b"]
    assert store.lost == 0
    store.close()


def test_an_unwritable_location_does_not_raise(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    errors: list[str] = []
    store = EventStore(blocker / "events.db", on_error=errors.append)
    store.signal("a", "shown")
    assert not store.flush(timeout=5)
    assert errors
    store.close(timeout=2)
