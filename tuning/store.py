"""The event store: every suggestion the server returned and every signal about it, in SQLite.

One file in the user's data directory with a `workspace` column; WAL mode; schema changes as
named, append-only migrations. Writes go through one writer thread so a completion never waits
for the disk. An event is *acknowledged* once `flush()` has returned True after it was put:
it is committed, and a killed process cannot lose it. When the disk is full or another process
holds the lock, events wait in memory (bounded) and the writer retries; the loss, if any, is
counted and reported once through `on_error`.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from context.secrets import redact

log = logging.getLogger(__name__)

MIGRATIONS: list[tuple[str, str]] = [
    ("001_events", """
        CREATE TABLE suggestions (
            id TEXT PRIMARY KEY,
            created REAL NOT NULL,
            workspace TEXT NOT NULL,
            path TEXT NOT NULL,
            language TEXT NOT NULL,
            mode TEXT NOT NULL,
            line_prefix TEXT NOT NULL,
            offset INTEGER NOT NULL,
            prompt TEXT,
            sources TEXT NOT NULL,
            model TEXT NOT NULL,
            adapter TEXT,
            latency_ms REAL,
            text TEXT NOT NULL,
            features TEXT NOT NULL
        );
        CREATE INDEX suggestions_workspace ON suggestions (workspace, created);
        CREATE TABLE signals (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL,
            created REAL NOT NULL,
            kind TEXT NOT NULL,
            accepted_length INTEGER,
            inferred INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX signals_id ON signals (id);
        CREATE TABLE retention (
            id TEXT NOT NULL,
            created REAL NOT NULL,
            after_s REAL NOT NULL,
            similarity REAL NOT NULL,
            chars INTEGER NOT NULL,
            PRIMARY KEY (id, after_s)
        );
    """),
]

KINDS = ("shown", "accepted", "partiallyAccepted", "dismissed", "typedOver", "rejected")
MAX_PENDING = 20_000  # events held in memory while the database cannot be written


def data_dir() -> Path:
    """The user's Tacit data directory (`TACIT_DATA` overrides it): event store, filter, adapters."""
    return Path(os.environ.get("TACIT_DATA") or platformdirs.user_data_dir("tacit"))


def default_path() -> Path:
    """`events.db` in the user's data directory."""
    return data_dir() / "events.db"


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with Tacit's settings; creates and migrates the file unless read-only."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5, check_same_thread=False)
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=5, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # in WAL mode: durable across a killed process
        migrate(conn)
    conn.row_factory = sqlite3.Row
    return conn


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the migrations not applied yet, each in its own transaction; return their names."""
    conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied REAL NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
    applied = []
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in filter(str.strip, sql.split(";")):
                conn.execute(statement)
            conn.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


@dataclass
class Event:
    table: str  # suggestions | signals | retention
    row: dict[str, Any]


@dataclass
class _Flush:
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False


class EventStore:
    """Writes events in a background thread; reads on the caller's thread."""

    def __init__(self, path: Path | str | None = None, *, max_days: float = 90, max_suggestions: int = 100_000,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self.max_days = max_days
        self.max_suggestions = max_suggestions
        self.on_error = on_error or (lambda message: log.warning("%s", message))
        self.lost = 0
        self.written = 0
        self._queue: queue.Queue[Event | _Flush | None] = queue.Queue()
        self._pending: list[Event] = []
        self._reported = False
        self._conn: sqlite3.Connection | None = None
        self._thread = threading.Thread(target=self._run, name="tacit-events", daemon=True)
        self._thread.start()

    # -- writing (any thread, never blocks)

    def put(self, table: str, row: dict[str, Any]) -> None:
        self._queue.put(Event(table, row))

    def suggestion(self, row: dict[str, Any]) -> None:
        for key in ("prompt", "text", "line_prefix"):
            if row.get(key):
                row[key] = redact(row[key])
        self.put("suggestions", row)

    def signal(self, sid: str, kind: str, accepted_length: int | None = None, inferred: bool = False,
               created: float | None = None) -> None:
        self.put("signals", {"id": sid, "created": created or time.time(), "kind": kind,
                             "accepted_length": accepted_length, "inferred": int(inferred)})

    def retention(self, sid: str, after_s: float, similarity: float, chars: int) -> None:
        self.put("retention", {"id": sid, "created": time.time(), "after_s": after_s,
                               "similarity": round(similarity, 4), "chars": chars})

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything put so far is committed; False if it could not be (yet)."""
        marker = _Flush()
        self._queue.put(marker)
        marker.done.wait(timeout)
        return marker.ok

    def close(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        self._queue.put(None)
        self._thread.join(timeout)

    # -- reading

    def signals(self, sid: str | None = None) -> list[dict[str, Any]]:
        """Recorded signals, oldest first (all, or those of one suggestion)."""
        sql = "SELECT id, kind, accepted_length, inferred, created FROM signals"
        args: tuple = ()
        if sid:
            sql, args = sql + " WHERE id = ?", (sid,)
        with self._reader() as conn:
            return [{"id": r["id"], "kind": r["kind"], "acceptedLength": r["accepted_length"],
                     "inferred": bool(r["inferred"]), "t": r["created"]}
                    for r in conn.execute(sql + " ORDER BY seq", args)]

    def _reader(self):
        return _Reader(self.path)

    # -- the writer thread

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            batch: list[Event] = []
            flushes: list[_Flush] = []
            while True:
                if isinstance(item, _Flush):
                    flushes.append(item)
                elif isinstance(item, Event):
                    batch.append(item)
                if len(batch) >= 500:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
            ok = self._write(batch)
            for marker in flushes:
                marker.ok = ok
                marker.done.set()
            if not ok:
                time.sleep(0.5)  # the disk or the lock: retry with the next batch
        if self._conn is not None:
            self._conn.close()

    def _write(self, batch: list[Event]) -> bool:
        events = self._pending + batch
        self._pending = []
        if not events:
            return True
        try:
            if self._conn is None:
                self._conn = connect(self.path)
                self._prune(self._conn)
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                for event in events:
                    self._insert(conn, event)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except (sqlite3.Error, OSError) as exc:
            keep = events[-MAX_PENDING:]
            self.lost += len(events) - len(keep)
            self._pending = keep
            self._report(f"cannot write the signal store {self.path}: {exc}; {len(keep)} events held in "
                         f"memory, {self.lost} lost so far")
            return False
        before = self.written
        self.written += len(events)
        if before // 1000 != self.written // 1000:
            self._prune(conn)
        if self._reported:
            self._reported = False
            log.info("signal store writable again: %d events written", len(events))
        return True

    @staticmethod
    def _insert(conn: sqlite3.Connection, event: Event) -> None:
        row = event.row
        if event.table == "suggestions":
            row = {**row, "sources": json.dumps(row.get("sources", [])),
                   "features": json.dumps(row.get("features", {}))}
            cols = ("id", "created", "workspace", "path", "language", "mode", "line_prefix", "offset", "prompt",
                    "sources", "model", "adapter", "latency_ms", "text", "features")
            values = tuple(row.get(c) for c in cols)
            # The same id comes back as it streams (longer text, same place): keep the newest at that place.
            conn.execute(f"INSERT INTO suggestions ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                         "ON CONFLICT(id) DO UPDATE SET text = excluded.text, latency_ms = excluded.latency_ms "
                         "WHERE excluded.offset = suggestions.offset", values)
        elif event.table == "signals":
            conn.execute("INSERT INTO signals (id, created, kind, accepted_length, inferred) VALUES (?, ?, ?, ?, ?)",
                         (row["id"], row["created"], row["kind"], row.get("accepted_length"), row.get("inferred", 0)))
        elif event.table == "retention":
            conn.execute("INSERT OR REPLACE INTO retention VALUES (?, ?, ?, ?, ?)",
                         (row["id"], row["created"], row["after_s"], row["similarity"], row["chars"]))

    def _prune(self, conn: sqlite3.Connection) -> None:
        """Retention policy: drop suggestions older than max_days or beyond max_suggestions, with their signals."""
        cutoff = time.time() - self.max_days * 86400
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (id TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM doomed")
            conn.execute("INSERT OR IGNORE INTO doomed SELECT id FROM suggestions WHERE created < ?", (cutoff,))
            conn.execute("INSERT OR IGNORE INTO doomed SELECT id FROM suggestions ORDER BY created DESC "
                         "LIMIT -1 OFFSET ?", (self.max_suggestions,))
            for table in ("signals", "retention", "suggestions"):
                conn.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM doomed)")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _report(self, message: str) -> None:
        if not self._reported:
            self._reported = True
            self.on_error(message)


class _Reader:
    """A short-lived read connection (the writer keeps its own)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None

    def __enter__(self) -> sqlite3.Connection:
        if not self.path.exists():
            self.conn = sqlite3.connect(":memory:")
            migrate(self.conn)
        else:
            self.conn = connect(self.path, readonly=True)
        self.conn.row_factory = sqlite3.Row
        return self.conn

    def __exit__(self, *exc) -> None:
        if self.conn is not None:
            self.conn.close()


def rows(path: Path | str, sql: str, args: tuple = ()) -> Iterator[sqlite3.Row]:
    """Read-only query helper for the CLI and the tuning steps."""
    with _Reader(Path(path)) as conn:
        yield from conn.execute(sql, args)
