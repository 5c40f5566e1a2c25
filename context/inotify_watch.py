"""A file-system observer that does not watch the folders the index never reads.

On Linux, watchdog watches a tree with one inotify watch per folder. A workspace's
`node_modules`, `.git`, `.venv` or `target` can hold tens of thousands of folders, and
every watch counts against `fs.inotify.max_user_watches`, a limit shared with every other
program of the user (the editor's own watcher among them). Past the limit, watchdog skips
the folders it cannot watch without a word, so changes there are silently missed.

`observer()` gives watchdog's inotify observer with one difference: below each watched
root, a folder named in `SKIP_DIRS` (and everything under it) gets no watch. The index
drops those folders' events anyway. Folders a `.gitignore` names are still watched: un-
ignoring one must bring its files in. Elsewhere (macOS FSEvents, Windows), one watch covers
a whole tree, and watchdog's own observer is used.

This leans on watchdog's inotify internals (`InotifyWatchGroup._add_all_callbacks`,
`InotifyEmitter.on_thread_start`), which is why watchdog is pinned;
`tests/unit/test_index_watch.py` counts the kernel's watches, so an upgrade that changes
them fails there, not in a user's session.
"""

from __future__ import annotations

import logging
import os
from functools import cache

from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from context.workspace_files import SKIP_DIRS

log = logging.getLogger(__name__)

SKIP_NAMES = frozenset(os.fsencode(name) for name in SKIP_DIRS)
said = {"limit": False}  # the watch-limit warning is given once a process


def observer() -> BaseObserver:
    """The observer to use on this platform (see the module's docstring)."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except Exception:  # not Linux, or no usable libc: watchdog picks another backend
        return Observer()
    if Observer is not InotifyObserver:
        return Observer()
    return _pruned_observer_class()()


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

    class PrunedWatchGroup(InotifyWatchGroup):
        """Watches a tree, leaving out skipped folders; says once when the watch limit is hit."""

        def _add_all_callbacks(self, path: bytes) -> None:
            if path != self.path and os.path.basename(path) in SKIP_NAMES:
                return  # created or moved in: never indexed, so never watched
            self._add_callback(path)
            if not self.is_recursive or not os.path.isdir(path):
                return
            missed, stack = 0, [path]
            while stack:
                try:
                    with os.scandir(stack.pop()) as entries:
                        folders = [e.path for e in entries
                                   if e.name not in SKIP_NAMES and e.is_dir(follow_symlinks=False)]
                except OSError:
                    continue  # gone or unreadable meanwhile
                for folder in folders:
                    self._add_callback(folder)
                    if folder not in self._active_callbacks_by_path and os.path.isdir(folder):
                        missed += 1
                stack += folders
            if missed and not said["limit"]:
                said["limit"] = True
                log.warning("could not watch %d folders under %s (inotify watch limit, "
                            "fs.inotify.max_user_watches): changes made there outside the editor "
                            "will not reach the index", missed, os.fsdecode(path))

        def _recursive_simulate(self, src_path: bytes) -> list:
            if os.path.basename(src_path) in SKIP_NAMES:
                return []  # an `npm install` creating node_modules: nothing in it is watched
            return super()._recursive_simulate(src_path)

    class PrunedEmitter(InotifyEmitter):
        def on_thread_start(self) -> None:
            self._inotify = PrunedWatchGroup(
                self._inotify_fd, os.fsencode(self.watch.path), is_recursive=self.watch.is_recursive,
                event_mask=self.get_event_mask_from_filter(), follow_symlink=self.watch.follow_symlink)

    class PrunedObserver(InotifyObserver):
        def __init__(self) -> None:
            super().__init__()
            self._emitter_class = PrunedEmitter

    return PrunedObserver
