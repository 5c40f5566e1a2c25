"""Owns the workspace index: builds it in the background on initialize (with `$/progress`), and
again when the workspace folders or the index's settings change; keeps it current with a file
watcher, and stops both on shutdown."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types

from context.index import WorkspaceIndex
from context.index_watch import IndexWatcher

log = logging.getLogger(__name__)


def workspace_roots(folders: list[str], root_uri: str | None = None) -> list[Path]:
    """Local folders of the workspace from its folders' URIs, or its root URI when there are no
    folders (file: URIs only), deduplicated, existing ones only (a path no file system can hold, with
    a NUL byte, is not one)."""
    roots: list[Path] = []
    for uri in folders or ([root_uri] if root_uri else []):
        parsed = urlparse(uri)
        if parsed.scheme != "file" or "\x00" in unquote(parsed.path):
            continue
        path = Path(unquote(parsed.path)).resolve()
        if path.is_dir() and path not in roots:
            roots.append(path)
    return roots


class IndexHost:
    """The index and its watcher for one server."""

    def __init__(self, server) -> None:
        self.server = server
        self.index: WorkspaceIndex | None = None  # what retrieval reads
        self.watcher: IndexWatcher | None = None  # keeps `index` current
        self.ready = threading.Event()
        self._stop = threading.Event()  # the newest build's
        self._pending_watcher: IndexWatcher | None = None  # a replacement's, until it takes over
        self._lock = threading.Lock()  # watchers are set on the indexing thread, taken on the event loop

    def start(self, roots: list[Path], max_file_bytes: int, report_progress: bool, watch: bool = True,
              max_files: int = 0, on_current: Callable[[], None] | None = None) -> None:
        """Index `roots` in the background; report progress when the client supports it. `on_current`
        runs on the event loop once the new index is the one retrieval reads.

        Without a complete index, the new one is read as it builds (something to retrieve from the
        first files on). An index already complete (workspace folders or settings changed) keeps
        serving, and its watcher keeping it current, until its replacement is complete: a half-built
        index would miss definitions for the seconds a rebuild takes. Only the files of a folder
        removed from the workspace leave it at once, and its watcher no longer brings them back. A
        replacement still building is stopped by the next one."""
        if not roots:
            self.stop()
            if on_current is not None:
                on_current()
            return
        keep = self.index is not None and self.index.complete
        if keep:  # a folder removed from the workspace is gone from what retrieval reads at once
            for root in [r for r in self.index.roots if r not in roots]:
                self.index.withdraw(root)
        self._retire(keep_current=keep)
        with self._lock:
            self._stop = stop = threading.Event()
        self.ready.clear()
        index = WorkspaceIndex(roots, max_file_bytes=max_file_bytes, max_files=max_files)
        index.pace = self._pace
        if not keep:
            self.index = index
            if on_current is not None:
                on_current()
        loop = asyncio.get_running_loop()
        token = f"tacit-index-{uuid.uuid4().hex[:8]}"
        progress = self.server.work_done_progress if report_progress else None
        if progress is not None:
            progress.create(token)
            progress.begin(token, types.WorkDoneProgressBegin(title="Tacit: indexing workspace", percentage=0,
                                                              cancellable=False))

        def on_progress(done: int, total: int) -> None:
            if progress is not None and total:
                pct = int(done * 100 / total)
                loop.call_soon_threadsafe(progress.report, token, types.WorkDoneProgressReport(
                    message=f"{done}/{total} files", percentage=pct))

        def on_done(complete: bool) -> None:
            stats = index.stats()
            log.info("index %s: %s", "built" if complete else "stopped", stats)
            if progress is not None:
                files, found = stats.get("files", 0), stats.get("eligible", 0)
                limited = f" of {found} (context.maxFiles)" if 0 < max_files < found else ""
                message = f"{files} file{'' if files == 1 else 's'} indexed{limited}"
                loop.call_soon_threadsafe(progress.end, token, types.WorkDoneProgressEnd(
                    message="stopped" if stop.is_set() else message))  # replaced, or shut down
            if keep and complete and not stop.is_set():
                loop.call_soon_threadsafe(self._take_over, index, stop, on_current)
            elif not keep:
                with self._lock:
                    if stop is self._stop:  # not replaced meanwhile: its successor says when it is ready
                        self.ready.set()

        def run() -> None:
            # The watcher starts before the build: a file changed while the workspace is being indexed
            # (or right after the index reports complete) is re-read, not missed. Both run on this
            # thread: setting up the watches walks every folder, which must not hold up the event loop.
            if watch:
                self._start_watcher(index, stop, pending=keep)
            on_done(index.build(on_progress, stop.is_set))

        threading.Thread(target=run, name="tacit-index", daemon=True).start()

    def _take_over(self, index: WorkspaceIndex, stop: threading.Event,
                   on_current: Callable[[], None] | None) -> None:
        """On the event loop: a complete replacement becomes the index retrieval reads, its watcher the
        one that runs; the old watcher stops. Nothing if it was replaced or stopped meanwhile."""
        with self._lock:
            if stop is not self._stop or stop.is_set():
                return
            old, self.watcher, self._pending_watcher = self.watcher, self._pending_watcher, None
            self.index = index
        self._stop_watchers([old], wait=False)
        if on_current is not None:
            on_current()
        self.ready.set()

    def stop(self) -> None:
        """Stop indexing and watching, and drop the index (`context.index` turned off)."""
        self._retire()
        self.index = None
        self.ready.set()

    def _retire(self, wait: bool = False, keep_current: bool = False) -> None:
        """Stop the newest build and its watcher, and unless `keep_current` the watcher of the index
        being read. Unless `wait`, watchers stop on a thread of their own: a replacement runs on the
        server's event loop, and a watcher's worker may be waiting for the model to finish
        (`context.yieldToModel`)."""
        with self._lock:
            self._stop.set()
            watchers, self._pending_watcher = [self._pending_watcher], None
            if not keep_current:
                watchers.append(self.watcher)
                self.watcher = None
        self._stop_watchers(watchers, wait)

    @staticmethod
    def _stop_watchers(watchers: list[IndexWatcher | None], wait: bool) -> None:
        for watcher in watchers:
            if watcher is not None and wait:
                watcher.stop()
            elif watcher is not None:
                threading.Thread(target=watcher.stop, name="tacit-index-retire", daemon=True).start()

    def _pace(self, worked_s: float) -> None:
        """After each file indexed: wait while the model generates (`context.yieldToModel`, read live)."""
        pacer = getattr(self.server, "pacer", None)
        if pacer is not None and self.server.options.context.yield_to_model:
            pacer.pace(worked_s)

    def _start_watcher(self, index: WorkspaceIndex, stop: threading.Event, pending: bool) -> None:
        watcher = IndexWatcher(index)
        try:
            watcher.start()
        except Exception as exc:  # e.g. inotify limits; the index is built all the same
            log.warning("file watching unavailable: %s", exc)
            return
        with self._lock:
            if not stop.is_set() and pending:
                self._pending_watcher, watcher = watcher, None
            elif not stop.is_set():
                self.watcher, watcher = watcher, None
        if watcher is not None:  # shut down or replaced meanwhile
            watcher.stop()

    def shutdown(self) -> None:
        """Stop indexing and watching (the server is exiting: the watcher is stopped before this returns)."""
        self._retire(wait=True)
