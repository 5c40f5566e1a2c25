"""A file-system observer that does not watch the folders the index never reads.

On Linux, watchdog watches a tree with one inotify watch per folder. A workspace's
`node_modules`, `.git`, `.venv` or `target` can hold tens of thousands of folders, and
every watch counts against `fs.inotify.max_user_watches`, a limit shared with every other
program of the user (the editor's own watcher among them). Past the limit, watchdog skips
the folders it cannot watch without a word, so changes there are silently missed.

`observer(skip)` gives watchdog's inotify observer with one difference: below each watched
root, a folder that `skip` names (by default one named in `SKIP_DIRS`; the index passes its
own rule, which adds the folders a `.gitignore` ignores) gets no watch, nor does anything
under it. The index drops those folders' events anyway. When a `.gitignore` changes, the
rule changes with it: `rewatch(folder)` watches what is no longer ignored below that folder
and lets go of what now is. Elsewhere (macOS FSEvents, Windows), one watch covers a whole
tree, and watchdog's own observer is used.

This leans on watchdog's inotify internals (`InotifyWatchGroup._add_all_callbacks`,
`_active_callbacks_by_path`, `InotifyEmitter.on_thread_start`), which is why watchdog is pinned;
`tests/unit/test_index_watch.py` counts the kernel's watches, so an upgrade that changes
them fails there, not in a user's session.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from context.workspace_files import SKIP_DIRS

log = logging.getLogger(__name__)

SKIP_NAMES = frozenset(os.fsencode(name) for name in SKIP_DIRS)
said = {"limit": False}  # the watch-limit warning is given once a process

Skip = Callable[[bytes], bool]  # a folder below a watched root -> True to leave it (and its tree) unwatched


def skipped_name(folder: bytes) -> bool:
    return os.path.basename(folder) in SKIP_NAMES


def observer(skip: Skip = skipped_name) -> BaseObserver:
    """The observer to use on this platform (see the module's docstring)."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except Exception:  # not Linux, or no usable libc: watchdog picks another backend
        return Observer()
    if Observer is not InotifyObserver:
        return Observer()
    return _pruned_observer_class()(skip)


def rewatch(observer: BaseObserver, folder: str) -> None:
    """After the rule changed for what is below `folder` (a `.gitignore` there was edited):
    watch the folders below it the rule now lets in, drop the watches it now leaves out.
    Nothing to do with watchdog's own observer, which watches everything."""
    for emitter in list(getattr(observer, "emitters", ())):
        group = getattr(emitter, "_inotify", None)
        if hasattr(group, "rewatch"):
            group.rewatch(os.fsencode(folder))


def held_watches() -> int | None:
    """How many inotify watches this process holds, as the kernel counts them (None off Linux)."""
    fdinfo = "/proc/self/fdinfo"
    if not os.path.isdir(fdinfo):
        return None
    count = 0
    for name in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, name)) as f:
                count += f.read().count("inotify wd:")
        except OSError:
            pass  # a descriptor closed meanwhile
    return count


@cache
def _pruned_observer_class():
    from watchdog.observers.inotify import InotifyEmitter, InotifyObserver, InotifyWatchGroup
    from watchdog.observers.inotify_c import InotifyConstants, InotifyEvent

    CREATED = InotifyConstants.IN_CREATE
    CREATED_DIR = InotifyConstants.IN_CREATE | InotifyConstants.IN_ISDIR

    @dataclass
    class PrunedWatchGroup(InotifyWatchGroup):
        """Watches a tree, leaving out the folders `skip` names; says once when the watch limit is hit."""

        skip: Skip = skipped_name

        def _left_out(self, path: bytes) -> bool:
            return path != self.path and self.skip(path)

        def _folders(self, top: bytes) -> Iterator[bytes]:
            """`top` and the folders below it that are watched by the rule, the skipped ones pruned."""
            if self._left_out(top) or not os.path.isdir(top):
                return
            yield top
            stack = [top]
            while stack:
                try:
                    with os.scandir(stack.pop()) as entries:
                        folders = [e.path for e in entries
                                   if e.is_dir(follow_symlinks=False) and not self._left_out(e.path)]
                except OSError:
                    continue  # gone or unreadable meanwhile
                yield from folders
                stack += folders

        def _add_all_callbacks(self, path: bytes) -> None:
            if self._left_out(path):
                return  # created or moved in: never indexed, so never watched
            if not self.is_recursive or not os.path.isdir(path):
                self._add_callback(path)
                return
            self._watch(list(self._folders(path)))

        def _watch(self, folders: list[bytes]) -> None:
            missed = 0
            for folder in folders:
                self._add_callback(folder)
                if folder not in self._active_callbacks_by_path and os.path.isdir(folder):
                    missed += 1
            if missed and not said["limit"]:
                said["limit"] = True
                log.warning("could not watch %d folders under %s (inotify watch limit, "
                            "fs.inotify.max_user_watches): changes made there outside the editor "
                            "will not reach the index", missed, os.fsdecode(self.path))

        def rewatch(self, top: bytes) -> None:
            with self._lock:
                if not self.is_active or not self.is_recursive or (
                        top != self.path and not top.startswith(os.path.join(self.path, b""))):
                    return
                wanted = set(self._folders(top))
                below = os.path.join(top, b"")
                held = {p: wd for p, wd in self._active_callbacks_by_path.items()
                        if p == top or p.startswith(below)}
                self._remove_callbacks([wd for p, wd in held.items() if p not in wanted])
                self._watch(sorted(p for p in wanted if p not in held))

        def _recursive_simulate(self, src_path: bytes) -> list:
            """Created events for what a folder just made or moved in holds, as watchdog does, but
            only from the folders watched: an `npm install` or a copied tree with a node_modules in
            it is not walked."""
            events = []
            for folder in self._folders(src_path):
                wd = self._active_callbacks_by_path.get(folder)
                if wd is None:
                    continue  # not watched (yet): its own created event will report what it holds
                try:
                    with os.scandir(folder) as entries:
                        found = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
                except OSError:
                    continue
                for name, is_dir in found:
                    events.append(InotifyEvent(wd, CREATED_DIR if is_dir else CREATED, 0, name))
            return events

    class PrunedEmitter(InotifyEmitter):
        def __init__(self, *args, skip: Skip, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.skip = skip

        def on_thread_start(self) -> None:
            self._inotify = PrunedWatchGroup(
                self._inotify_fd, os.fsencode(self.watch.path), is_recursive=self.watch.is_recursive,
                event_mask=self.get_event_mask_from_filter(), follow_symlink=self.watch.follow_symlink,
                skip=self.skip)

    class PrunedObserver(InotifyObserver):
        def __init__(self, skip: Skip) -> None:
            super().__init__()
            self._emitter_class = PrunedEmitter
            self._emitter_kwargs = {**self._emitter_kwargs, "skip": skip}

    return PrunedObserver
