"""The workspace index: every definition and import in the workspace, kept current.

Completions get better when the prompt shows how the symbols near the cursor are declared
elsewhere in the project. The index holds, per file, the outline that `context.outline`
extracts, and a by-name table over all of them for `lookup`. It is built once in the
background (`build`, with progress and a stop flag) and then kept current one path at a
time (`update_path`, `remove_path`), by the editor's notifications or by `IndexWatcher`
for changes made outside the editor. Only files `WorkspaceFiles` allows are ever read.

All methods are thread-safe: parsing happens outside the lock, so lookups are answered
while a build runs. A path updated while a build runs keeps the update's result.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from context import syntax
from context.outline import Definition, call_lines, calls_in, outline
from context.workspace_files import WorkspaceFiles

__all__ = ["Definition", "FileEntry", "WorkspaceIndex"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class FileEntry:
    """One indexed file. `imports` holds `module` and `module:symbol` for named imports."""

    path: str  # relative posix path, the index key
    language: str
    definitions: list[Definition] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    mtime: float = 0.0
    size: int = 0
    calls: str = ""  # the lines `usages` may show, one per line (`outline.call_lines`)
    called: tuple[str, ...] = ()  # the names those lines call


class Postings:
    """name -> {file: value}, in the order the files came. Most names occur in one file only: those
    hold a (file, value) pair, not a dict of one (a third of the size). Adding and dropping a file
    cost the same however many files hold a name (a checkout that rewrites thousands of files)."""

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, object] | dict[str, object]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, name: str, path: str, value: object) -> None:
        row = self._rows.get(name)
        if row is None:
            self._rows[name] = (path, value)
        elif isinstance(row, tuple):
            self._rows[name] = {row[0]: row[1], path: value}
        else:
            row[path] = value

    def discard(self, name: str, path: str) -> None:
        row = self._rows.get(name)
        if isinstance(row, tuple):
            if row[0] == path:
                del self._rows[name]
        elif row is not None:
            row.pop(path, None)
            if not row:
                del self._rows[name]

    def get(self, name: str) -> list[tuple[str, object]]:
        row = self._rows.get(name)
        if row is None:
            return []
        return [row] if isinstance(row, tuple) else list(row.items())


class WorkspaceIndex:
    """Definitions and imports of every eligible source file under `roots`."""

    def __init__(self, roots: list[Path], max_file_bytes: int = 1_000_000, max_files: int = 0):
        self.workspace = WorkspaceFiles(roots, max_file_bytes)
        self.max_files = max_files  # 0: no limit; else the index never holds more files than this
        self._eligible = 0  # files the last build found
        self._files: dict[str, FileEntry] = {}
        self._by_name = Postings()  # name -> file -> its definition, or a tuple when several
        self._calls = Postings()  # callee name -> files whose call lines call it (value None)
        self._lock = threading.RLock()  # guards the tables below; never held while parsing
        self._build_lock = threading.Lock()  # one build at a time
        self._touched: set[str] = set()  # paths updated since the running build started
        self._open: set[str] = set()  # paths indexed from an editor's buffer (`update_text`), not from disk
        self._skipped: Counter[str] = Counter()
        self._build_seconds = 0.0
        self._complete = False
        # called with the seconds a file took, after each file the index reads (build, rescan, update):
        # the server waits there while the model generates (`lsp_server.pacing`); None: no waiting
        self.pace: Callable[[float], None] | None = None

    @property
    def roots(self) -> list[Path]:
        """The workspace folders, symlinks resolved."""
        return self.workspace.roots

    @property
    def files(self) -> dict[str, FileEntry]:
        """A snapshot of the indexed files by relative path."""
        with self._lock:
            return dict(self._files)

    # ---- building

    def build(self, progress: Progress | None = None, should_stop: Callable[[], bool] | None = None,
              deadline: float | None = None) -> bool:
        """Index every eligible file (at most `max_files`); False when stopped early (by `should_stop` or the
        `time.monotonic()` `deadline`), leaving what was indexed so far."""
        with self._build_lock:
            started = time.monotonic()
            with self._lock:
                self._touched.clear()
                self._skipped.clear()
            paths = self._preferred(list(self.workspace.walk()))
            step = max(1, len(paths) // 100)
            _report(progress, 0, len(paths))
            seen: set[str] = set()
            for done, path in enumerate(paths, 1):
                if (should_stop is not None and should_stop()) or (
                        deadline is not None and time.monotonic() > deadline):
                    self._finish_build(started, complete=False)
                    return False
                seen.add(self.workspace.rel(path))
                self._index_one(path, from_build=True)
                if done % step == 0 or done == len(paths):
                    _report(progress, done, len(paths))
            self._drop_unseen(seen)
            self._finish_build(started, complete=True)
            return True

    def _preferred(self, paths: list[Path]) -> list[Path]:
        """`paths`, or `max_files` of them when there are more: first the files changed in the last
        day, then the day before and so on; within a day the shallower first, then by path (a fresh
        clone is all one day: its top folders first)."""
        with self._lock:
            self._eligible = len(paths)
        if not self.max_files or len(paths) <= self.max_files:
            return paths
        now = time.time()

        def key(path: Path) -> tuple[int, int, str]:
            try:
                age_days = int((now - path.stat().st_mtime) // 86400)
            except OSError:
                age_days = 1 << 30
            rel = self.workspace.rel(path)  # depth within its root: several roots compare fairly
            return (age_days, rel.count("/"), rel)

        log.warning("the workspace has %d files to index; indexing %d of them (context.maxFiles)",
                    len(paths), self.max_files)
        return sorted(paths, key=key)[: self.max_files]

    @property
    def complete(self) -> bool:
        """The last build read every file it found (it was not stopped)."""
        return self._complete

    def _finish_build(self, started: float, complete: bool) -> None:
        with self._lock:
            self._build_seconds = time.monotonic() - started
            self._complete = complete

    def _drop_unseen(self, seen: set[str]) -> None:
        with self._lock:
            for rel in [r for r in self._files if r not in seen and r not in self._touched and r not in self._open]:
                self._store(rel, None)

    # ---- keeping current

    def update_path(self, path: Path | str, paced: bool = True) -> bool:
        """Re-index one file (or rescan a folder, or re-read a `.gitignore`); a path that is gone
        or no longer eligible is removed. True when the index changed. `paced=False`: a file read
        does not wait for the model (`pace`), for callers on the server's event loop."""
        located = self.workspace.locate(path)
        if located is None:
            return False
        if not self.workspace.inside(located):
            return self.remove_path(located)  # reached through a link out of the workspace
        if located.name == ".gitignore":
            self.workspace.invalidate_ignores(located.parent)
            return self._rescan(located.parent)
        if located.is_dir():
            return self._rescan(located)
        if not located.is_file() or not self.workspace.is_candidate(located):
            return self.remove_path(located)
        return self._index_one(located, from_build=False, paced=paced)

    def remove_path(self, path: Path | str) -> bool:
        """Drop a file, or everything under a folder, from the index. True when anything went."""
        located = self.workspace.locate(path)
        if located is None:
            return False
        rel, prefix = self._key(located), self._prefix(located)
        with self._lock:
            self._touched.add(rel)
            gone = [r for r in self._files if (r == rel or r.startswith(prefix)) and r not in self._open]
            for r in gone:
                self._touched.add(r)
                self._store(r, None)
        return bool(gone)

    def withdraw(self, root: Path) -> bool:
        """A folder left the workspace: every file under it leaves the index (an open document's
        buffer too), and nothing there comes back while this index serves: not through its watcher,
        a rescan or a buffer. True when anything went."""
        root = Path(os.path.realpath(root))
        if root not in self.roots:
            return False
        prefix = self._prefix(root)
        self.workspace.withdraw(root)
        with self._lock:
            gone = [r for r in self._files if r.startswith(prefix)]
            for r in gone:
                self._touched.add(r)
                self._open.discard(r)
                self._store(r, None)
        return bool(gone)

    # ---- what the editor holds

    def update_text(self, path: Path | str, text: str) -> bool:
        """Index an open document's text in place of its file on disk, so that unsaved work counts (a
        function written in another tab is found before it is saved). The file keeps its buffer's
        entry while it is open: watcher events, rescans and builds leave it alone until `release_text`.
        Refused (False, nothing stored) for a document the index would not read from disk either:
        outside the workspace or reached through a link out of it, ignored, secret, over the size
        limit, or in no known language. True when the index now holds the text."""
        buffer = self._buffer(path, text)
        if buffer is None:
            return False
        located, data = buffer
        if len(data) > self.workspace.max_file_bytes:
            self.release_text(located)  # an earlier buffer's entry is not kept either
            return False
        rel = self.workspace.rel(located)
        with self._lock:
            if self._no_room(rel):
                return False
        entry = _entry(rel, syntax.language_for_path(located.name), data, 0.0)
        with self._lock:
            if entry is None or self._no_room(rel):
                return False
            self._touched.add(rel)
            self._open.add(rel)
            self._store(rel, entry)
        return True

    def differs_from_disk(self, path: Path | str, text: str) -> bool:
        """True when `update_text(path, text)` would hold something the disk does not: the buffer of a
        file the index may hold differs from the file, or the file is not there yet. Nothing is read
        for a file the index would refuse (secret, ignored, outside, over the size limit), and only a
        size check when the sizes differ."""
        buffer = self._buffer(path, text)
        if buffer is None or len(buffer[1]) > self.workspace.max_file_bytes:
            return False
        located, data = buffer
        try:
            return located.stat().st_size != len(data) or located.read_bytes() != data
        except OSError:  # not saved yet, or unreadable: the buffer is all there is
            return True

    def _buffer(self, path: Path | str, text: str) -> tuple[Path, bytes] | None:
        """An editor buffer's path located in the workspace and its bytes; None for a document the
        index would not read from disk either (outside or through a link out, ignored, secret, no
        known language). The size limit is the caller's to apply."""
        located = self.workspace.locate(path)
        if located is None or not self.workspace.may_hold(located):
            return None
        return located, text.encode("utf-8", "replace")

    def release_text(self, path: Path | str) -> bool:
        """The document is closed: its file is indexed from disk again (or dropped, if it is gone).
        True when the index changed."""
        located = self.workspace.locate(path)
        if located is None:
            return False
        rel = self.workspace.rel(located)
        with self._lock:
            if rel not in self._open:
                return False
            self._open.discard(rel)
        return self.update_path(located, paced=False)  # on the server's event loop: never wait for the model

    def _key(self, path: Path) -> str:
        return self.workspace.rel(path) if path not in self.roots else ""

    def _prefix(self, directory: Path) -> str:
        """What the keys of files under `directory` start with."""
        if directory in self.roots:
            return f"{directory.name}/" if len(self.roots) > 1 else ""
        return self.workspace.rel(directory) + "/"

    def _rescan(self, directory: Path) -> bool:
        """Bring everything under `directory` up to date: new files in, ignored or gone files out,
        files whose size and mtime changed re-parsed."""
        if self.workspace.is_ignored(directory, is_dir=True) and directory not in self.roots:
            return self.remove_path(directory)
        prefix = self._prefix(directory)
        changed, seen = False, set()
        for path in self.workspace.walk(directory):
            rel = self.workspace.rel(path)
            seen.add(rel)
            if not self._unchanged(rel, path):
                changed = self._index_one(path, from_build=False) or changed
        with self._lock:
            stale = [r for r in self._files if r.startswith(prefix) and r not in seen and r not in self._open]
            for rel in stale:
                self._touched.add(rel)
                self._store(rel, None)
        return changed or bool(stale)

    def _unchanged(self, rel: str, path: Path) -> bool:
        with self._lock:
            entry = self._files.get(rel)
        try:
            info = path.stat()
        except OSError:
            return False
        return entry is not None and entry.mtime == info.st_mtime and entry.size == info.st_size

    # ---- one file

    def _index_one(self, path: Path, from_build: bool, paced: bool = True) -> bool:
        """`_read_and_store`, then `pace` with the time it took (unless `paced` is False)."""
        started = time.perf_counter()
        changed = self._read_and_store(path, from_build)
        if paced and self.pace is not None:
            self.pace(time.perf_counter() - started)
        return changed

    def _read_and_store(self, path: Path, from_build: bool) -> bool:
        """Parse one file outside the lock and store the result; True when the index changed."""
        rel = self.workspace.rel(path)
        with self._lock:
            if rel in self._open:
                return False  # the editor's buffer is newer than the disk while the document is open
            if self._no_room(rel):  # not parsed at all: a checkout of thousands of files costs nothing
                return False
        entry = self._load(path, rel)
        with self._lock:
            if rel in self._open or (from_build and rel in self._touched):
                return False  # updated while this one was parsed: the update is newer
            before = rel in self._files
            if entry is not None and self._no_room(rel):  # filled up while this one was parsed
                return False
            if not from_build:
                self._touched.add(rel)
            self._store(rel, entry)
        return before or entry is not None

    def _no_room(self, rel: str) -> bool:
        """True (and counted) when `rel` is not indexed and the index is full: the limit holds for
        files added after the build too. Call with the lock held."""
        if 0 < self.max_files <= len(self._files) and rel not in self._files:
            self._skipped["over_limit"] += 1
            return True
        return False

    def _load(self, path: Path, rel: str) -> FileEntry | None:
        data, reason = self.workspace.read(path)
        language = syntax.language_for_path(path.name)
        if data is None or language is None:
            with self._lock:
                self._skipped[reason] += 1
            return None
        entry = _entry(rel, language, data.data, data.mtime)
        if entry is None:
            with self._lock:
                self._skipped["error"] += 1
        return entry

    def _store(self, rel: str, entry: FileEntry | None) -> None:
        """Replace a file's entry and its by-name rows; call with the lock held."""
        old = self._files.pop(rel, None)
        if old is not None:
            for name in {d.name for d in old.definitions}:
                self._by_name.discard(name, rel)
            for name in old.called:
                self._calls.discard(name, rel)
        if entry is None:
            return
        self._files[rel] = entry
        named: dict[str, list[Definition]] = {}
        for d in entry.definitions:
            named.setdefault(d.name, []).append(d)
        for name, defs in named.items():
            self._by_name.add(name, rel, defs[0] if len(defs) == 1 else tuple(defs))
        for name in entry.called:
            self._calls.add(name, rel, None)

    # ---- queries

    def lookup(self, name: str) -> list[Definition]:
        """Every definition called `name`; `Klass.method` narrows to one container."""
        container, _, short = name.rpartition(".") if "." in name else ("", "", name)
        with self._lock:
            rows = self._by_name.get(short)
        found = [d for _, v in rows for d in (v if isinstance(v, tuple) else (v,))]
        return [d for d in found if d.container == container] if container else found

    def imports_of(self, path: str) -> list[str]:
        """What the file at `path` (a relative key) imports: `module` and `module:symbol` entries."""
        with self._lock:
            entry = self._files.get(path)
            return list(entry.imports) if entry is not None else []

    def callers(self, name: str) -> list[str]:
        """The files with lines that call `name` (`usages` shows how the workspace uses a function)."""
        with self._lock:
            return [path for path, _ in self._calls.get(name)]

    def calls_in(self, path: str, name: str) -> list[str]:
        """The lines of the file at `path` (a relative key) that call `name`; [] when it is not indexed."""
        with self._lock:
            entry = self._files.get(path)
        return calls_in(entry.calls, name) if entry is not None else []

    def definitions_in(self, path: Path | str) -> list[Definition]:
        """The definitions of one file, given as a relative key or an absolute path."""
        rel = str(path)
        if Path(rel).is_absolute():
            located = self.workspace.locate(rel)
            if located is None or located in self.roots:
                return []
            rel = self.workspace.rel(located)
        with self._lock:
            entry = self._files.get(rel)
            return list(entry.definitions) if entry is not None else []

    def stats(self) -> dict[str, object]:
        """Counts for logs, status and benchmarks: files, definitions, skipped files by reason, build time,
        files held from open buffers."""
        with self._lock:
            return {
                "files": len(self._files),
                "definitions": sum(len(e.definitions) for e in self._files.values()),
                "imports": sum(len(e.imports) for e in self._files.values()),
                "names": len(self._by_name),
                "called_names": len(self._calls),
                "eligible": self._eligible,
                "skipped": dict(self._skipped),
                "build_seconds": round(self._build_seconds, 3),
                "complete": self._complete,
                "from_buffers": len(self._open),  # files indexed from an open editor buffer, not from disk
            }


def _entry(rel: str, language: str, data: bytes, mtime: float) -> FileEntry | None:
    """A file's entry from its bytes (on disk, or an editor's buffer); None when the grammar fails."""
    try:
        result = outline(language, data, rel)
    except Exception:  # a grammar bug must not stop the index
        log.exception("could not outline %s", rel)
        return None
    return FileEntry(rel, language, result.definitions, result.imports, mtime, len(data),
                     *call_lines(data, result.definitions))


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
