"""Keeping the workspace index current with changes made outside the editor.

A `git checkout`, a code generator or a formatter rewrites files without the editor
telling us, so `IndexWatcher` listens to the file system (watchdog, recursive) and applies
creates, edits, moves and deletes to the index. Events come in bursts (an atomic save is
create + write + rename; a checkout touches hundreds of files), so they are collected
per path and applied by a worker thread once the burst has been quiet for `debounce_s`
(or has gone on for `max_delay_s`), never on the observer's or the event loop's thread.
On Linux the observer puts no watch on the folders the index skips or `.gitignore` ignores
(`context/inotify_watch.py`); a `.gitignore` edited, created or deleted re-reads the rules,
moves the watches to match, then brings the index in line, in that order, so that nothing
written in a folder just un-ignored is missed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver

from context import inotify_watch
from context.index import WorkspaceIndex
from context.workspace_files import SKIP_DIRS

log = logging.getLogger(__name__)

UPDATE, REMOVE = "update", "remove"


class IndexWatcher:
    """Applies file-system changes under the index's roots to the index."""

    def __init__(self, index: WorkspaceIndex, on_change: Callable[[str], None] | None = None,
                 debounce_s: float = 0.075, max_delay_s: float = 0.5):
        self.index = index
        self.on_change = on_change  # called from the worker thread with the changed path
        self.debounce_s = debounce_s
        self.max_delay_s = max_delay_s
        self._pending: dict[str, str] = {}  # absolute path -> UPDATE | REMOVE, oldest first
        self._first_at = 0.0
        self._last_at = 0.0
        self._cond = threading.Condition()
        self._stopping = False
        self._observer: BaseObserver | None = None
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        """Start watching every root; idempotent."""
        if self._observer is not None:
            return
        self._stopping = False
        self._worker = threading.Thread(target=self._run, name="tacit-index-watch", daemon=True)
        self._worker.start()
        observer = inotify_watch.observer(self._skip)
        handler = _Handler(self._queue)
        for root in self.index.roots:
            observer.schedule(handler, str(root), recursive=True)
        observer.start()
        self._observer = observer

    def stop(self) -> None:
        """Stop watching; pending changes are dropped."""
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join()
        with self._cond:
            self._stopping = True
            self._pending.clear()
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join()
            self._worker = None

    def _queue(self, path: str, action: str) -> None:
        root = self.index.workspace.root_of(Path(path))
        if root is None or any(part in SKIP_DIRS for part in Path(path).relative_to(root).parts):
            return  # .git/objects churn, node_modules installs: never indexed anyway
        now = time.monotonic()
        with self._cond:
            if not self._pending:
                self._first_at = now
            self._pending.pop(path, None)
            self._pending[path] = action
            self._last_at = now
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            for path, action in batch:  # a checkout can change thousands: the index paces each file it reads
                self._apply(path, action)

    def _next_batch(self) -> list[tuple[str, str]] | None:
        """Wait for a burst of events to settle, then take all of them."""
        with self._cond:
            while not self._stopping:
                if not self._pending:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                quiet_until = self._last_at + self.debounce_s
                latest = self._first_at + self.max_delay_s
                if now >= quiet_until or now >= latest:
                    batch = list(self._pending.items())
                    self._pending.clear()
                    return batch
                self._cond.wait(min(quiet_until, latest) - now)
            return None

    def _skip(self, folder: bytes) -> bool:
        """No watch for a folder the index never reads (called on the observer's threads)."""
        return self.index.workspace.is_ignored(Path(os.fsdecode(folder)), is_dir=True)

    def _apply(self, path: str, action: str) -> None:
        try:
            if Path(path).name == ".gitignore":  # edited, created or deleted: the rules below it change
                folder = Path(path).parent
                self.index.workspace.invalidate_ignores(folder)
                if self._observer is not None:
                    inotify_watch.rewatch(self._observer, str(folder))
                changed = self.index.update_path(path)
            else:
                changed = self.index.remove_path(path) if action == REMOVE else self.index.update_path(path)
        except Exception:  # one bad path must not stop the watcher
            log.exception("could not apply %s to %s", action, path)
            return
        if changed and self.on_change is not None:
            self.on_change(self._key(path))

    def _key(self, path: str) -> str:
        try:
            return self.index.workspace.rel(Path(path))
        except ValueError:
            return path


class _Handler(FileSystemEventHandler):
    """Turns watchdog events into (path, action) pairs."""

    def __init__(self, queue: Callable[[str, str], None]):
        super().__init__()
        self._queue = queue

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        src = _str(event.src_path)
        if kind == "moved":
            self._queue(src, REMOVE)
            self._queue(_str(event.dest_path), UPDATE)
        elif kind == "deleted":
            self._queue(src, REMOVE)
        elif kind in ("created", "closed") or (kind == "modified" and not event.is_directory):
            self._queue(src, UPDATE)


def _str(path: str | bytes) -> str:
    return path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else path
