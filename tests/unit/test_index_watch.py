"""IndexWatcher: changes made on disk, outside the editor, reach the index."""

import asyncio
import errno
import logging
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

from context import inotify_watch
from context.index import WorkspaceIndex
from context.index_watch import IndexWatcher
from context.inotify_watch import held_watches

TIMEOUT_S = 10.0


def wait_for(condition, timeout=TIMEOUT_S):
    """Poll until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {condition.__doc__ or condition}")
        time.sleep(0.01)


def source(name: str) -> str:
    return f"def {name}():\n    pass\n"


class Changes:
    """Records on_change calls from the watcher's thread."""

    def __init__(self):
        self.paths: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, path: str) -> None:
        with self.lock:
            self.paths.append(path)

    def __contains__(self, path: str) -> bool:
        with self.lock:
            return path in self.paths


@pytest.fixture
def watched(tmp_path):
    (tmp_path / "start.py").write_text(source("start"))
    index = WorkspaceIndex([tmp_path])
    index.build()
    changes = Changes()
    watcher = IndexWatcher(index, on_change=changes, debounce_s=0.05)
    watcher.start()
    yield tmp_path, index, changes
    watcher.stop()


def names(index):
    return {d.name for entry in index.files.values() for d in entry.definitions}


def test_create_edit_rename_delete(watched):
    root, index, changes = watched
    path = root / "pkg" / "m.py"
    path.parent.mkdir()
    path.write_text(source("created"))
    wait_for(lambda: "created" in names(index))
    wait_for(lambda: "pkg/m.py" in changes)  # the callback runs after the index is updated

    path.write_text(source("edited"))
    wait_for(lambda: "edited" in names(index) and "created" not in names(index))

    path.rename(root / "pkg" / "renamed.py")
    wait_for(lambda: "pkg/renamed.py" in index.files and "pkg/m.py" not in index.files)

    (root / "pkg" / "renamed.py").unlink()
    wait_for(lambda: "pkg/renamed.py" not in index.files)
    assert names(index) == {"start"}


def test_atomic_save(watched):
    root, index, _ = watched
    tmp = root / ".start.py.tmp"
    tmp.write_text(source("replaced"))
    os.replace(tmp, root / "start.py")  # how editors and formatters save
    wait_for(lambda: names(index) == {"replaced"})
    assert list(index.files) == ["start.py"]


def test_folder_moves_and_removal(watched):
    root, index, _ = watched
    staging = root.parent / f"{root.name}-staging"
    (staging / "sub").mkdir(parents=True)
    (staging / "a.py").write_text(source("a"))
    (staging / "sub" / "b.py").write_text(source("b"))
    staging.rename(root / "lib")  # a folder moved in whole, as a checkout does
    wait_for(lambda: {"lib/a.py", "lib/sub/b.py"} <= set(index.files))

    (root / "lib").rename(root / "vendor")
    wait_for(lambda: {"vendor/a.py", "vendor/sub/b.py"} <= set(index.files)
             and not any(k.startswith("lib/") for k in index.files))

    shutil.rmtree(root / "vendor")
    wait_for(lambda: list(index.files) == ["start.py"])


def test_burst_of_writes(watched):
    root, index, _ = watched
    for i in range(60):
        (root / f"gen_{i}.py").write_text(source(f"gen_{i}"))
    wait_for(lambda: len(index.files) == 61)
    assert {f"gen_{i}" for i in range(60)} <= names(index)


def test_gitignore_and_skipped_folders(watched):
    root, index, changes = watched
    (root / "node_modules").mkdir()
    (root / "node_modules" / "dep.py").write_text(source("dep"))
    (root / ".gitignore").write_text("start.py\n")
    wait_for(lambda: "start.py" not in index.files)
    (root / "after.py").write_text(source("after"))
    wait_for(lambda: "after.py" in index.files)
    assert "node_modules/dep.py" not in index.files
    assert not any(p.startswith("node_modules") for p in changes.paths)


def test_deleting_a_gitignore_brings_its_files_back(watched):
    root, index, _ = watched
    (root / ".gitignore").write_text("start.py\n")
    wait_for(lambda: "start.py" not in index.files)
    (root / ".gitignore").unlink()  # a checkout of a branch without it
    wait_for(lambda: "start.py" in index.files)


def test_secret_files_created_on_disk_stay_out(watched):
    root, index, _ = watched
    (root / ".env").write_text("API_KEY=sk-proj-Ab3dEf9hIjK1mNoPqRsTuVwXyZ0123\n")
    (root / "marker.py").write_text(source("marker"))
    wait_for(lambda: "marker.py" in index.files)
    assert sorted(index.files) == ["marker.py", "start.py"]


def test_stop_is_idempotent_and_start_again(tmp_path):
    index = WorkspaceIndex([tmp_path])
    watcher = IndexWatcher(index)
    watcher.start()
    watcher.start()
    watcher.stop()
    watcher.stop()
    watcher.start()
    Path(tmp_path / "late.py").write_text(source("late"))
    wait_for(lambda: "late.py" in index.files)
    watcher.stop()


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify watches one folder at a time")


@linux_only
def test_skipped_folders_get_no_inotify_watch(tmp_path):
    # node_modules, .git, .venv, target can hold tens of thousands of folders: a watch each would eat the
    # user's inotify limit, shared with every other program, for folders the index never reads
    for folder in ("src/pkg/__pycache__", "docs", "out/gen", "node_modules/a/lib/x", ".git/objects/ab",
                   ".venv/lib/site", "target/debug/deps"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / ".gitignore").write_text("out/\n")  # ignored: not watched either (until un-ignored, below)
    before = held_watches()
    index = WorkspaceIndex([tmp_path])
    watcher = IndexWatcher(index, debounce_s=0.05)
    watcher.start()
    try:
        # the root, src, src/pkg, docs
        assert held_watches() - before == 4
        # a folder made later is watched (and what is written in it indexed); a skipped one inside it is not
        (tmp_path / "src" / "new" / "node_modules" / "b").mkdir(parents=True)
        (tmp_path / "src" / "new" / "late.py").write_text(source("late"))
        wait_for(lambda: "src/new/late.py" in index.files)
        (tmp_path / "src" / "new" / "later.py").write_text(source("later"))
        wait_for(lambda: "src/new/later.py" in index.files)
        assert held_watches() - before == 5
    finally:
        watcher.stop()
    assert held_watches() == before


@linux_only
def test_watch_limit_is_reported_and_the_rest_still_watched(tmp_path, monkeypatch, caplog):
    from watchdog.observers.inotify_c import InotifyFD

    (tmp_path / "full" / "deeper").mkdir(parents=True)
    (tmp_path / "open").mkdir()
    add = InotifyFD.add_callback

    def limited(self, path, *args, **kwargs):
        if b"/full" in path:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")
        return add(self, path, *args, **kwargs)

    monkeypatch.setattr(InotifyFD, "add_callback", limited)
    monkeypatch.setitem(inotify_watch.said, "limit", False)
    index = WorkspaceIndex([tmp_path])
    watcher = IndexWatcher(index, debounce_s=0.05)
    with caplog.at_level(logging.WARNING, logger="context.inotify_watch"):
        watcher.start()
    try:
        assert "could not watch 2 folders" in caplog.text and "max_user_watches" in caplog.text
        (tmp_path / "open" / "seen.py").write_text(source("seen"))
        wait_for(lambda: "open/seen.py" in index.files)
    finally:
        watcher.stop()


async def test_the_server_sets_up_watching_off_its_event_loop_then_builds(tmp_path, monkeypatch):
    # setting up the watches walks every folder: on a large tree that held up initialize for seconds
    from lsp_server.index_host import IndexHost

    (tmp_path / "a.py").write_text(source("a"))
    order = []
    start = IndexWatcher.start

    def recording(self):
        order.append(("watch", threading.current_thread() is threading.main_thread()))
        start(self)

    monkeypatch.setattr(IndexWatcher, "start", recording)
    host = IndexHost(server=None)
    host.start([tmp_path], max_file_bytes=1_000_000, report_progress=False)
    assert await asyncio.to_thread(host.ready.wait, TIMEOUT_S)
    try:
        assert order == [("watch", False)]  # on the indexing thread, before the build finished
        assert host.watcher is not None and "a.py" in host.index.files
        (tmp_path / "b.py").write_text(source("b"))
        wait_for(lambda: "b.py" in host.index.files)
    finally:
        host.shutdown()
    assert host.watcher is None


def hold_builds(monkeypatch) -> dict[int, threading.Event]:
    """From now on each index's build waits until the test sets its event (keyed by `id(index)`,
    there once the build has begun)."""
    release: dict[int, threading.Event] = {}
    build = WorkspaceIndex.build

    def held(self, on_progress=None, should_stop=None):
        release.setdefault(id(self), threading.Event()).wait(TIMEOUT_S)
        return build(self, on_progress, should_stop)

    monkeypatch.setattr(WorkspaceIndex, "build", held)
    return release


def release_all(release: dict[int, threading.Event], started: int = 0) -> None:
    """Let every held build finish, once `started` of them have begun."""
    wait_for(lambda: len(release) >= started)
    for event in list(release.values()):
        event.set()


async def watching_host(roots: list[Path]):
    """An IndexHost whose index of `roots` is built and watched."""
    from lsp_server.index_host import IndexHost

    host = IndexHost(server=None)
    host.start(roots, max_file_bytes=1_000_000, report_progress=False)
    assert await asyncio.to_thread(host.ready.wait, TIMEOUT_S)
    wait_for(lambda: host.watcher is not None)
    return host


async def test_a_replaced_index_stops_and_only_its_successor_says_ready(tmp_path, monkeypatch):
    from lsp_server.index_host import IndexHost

    (tmp_path / "a.py").write_text(source("a"))
    release = hold_builds(monkeypatch)
    host = IndexHost(server=None)
    host.start([tmp_path], max_file_bytes=1_000_000, report_progress=False)
    first = host.index
    wait_for(lambda: host.watcher is not None)
    old_watcher = host.watcher
    host.start([tmp_path], max_file_bytes=1_000_000, report_progress=False)  # folders or settings changed
    second = host.index
    try:
        assert second is not first and host.watcher is not old_watcher
        release.setdefault(id(first), threading.Event()).set()
        await asyncio.sleep(0.3)
        assert not host.ready.is_set() and first.stats()["complete"] is False  # stopped, and not the one to wait for
        release.setdefault(id(second), threading.Event()).set()
        assert await asyncio.to_thread(host.ready.wait, TIMEOUT_S)
        assert "a.py" in second.files
        wait_for(lambda: host.watcher is not None)
        (tmp_path / "b.py").write_text(source("b"))
        wait_for(lambda: "b.py" in second.files)
        assert "b.py" not in first.files  # the old watcher is gone
        host.stop()
        assert host.index is None and host.watcher is None and host.ready.is_set()
    finally:
        release_all(release)
        host.shutdown()


async def test_a_complete_index_serves_until_its_replacement_is_complete(tmp_path, monkeypatch):
    # a folder added or a setting changed: a half-built index would miss definitions meanwhile
    (tmp_path / "a.py").write_text(source("a"))
    host = await watching_host([tmp_path])
    first, first_watcher = host.index, host.watcher
    release = hold_builds(monkeypatch)
    taken_over = []
    try:
        host.start([tmp_path], max_file_bytes=1_000_000, report_progress=False, on_current=lambda: taken_over.append(1))
        assert host.index is first and host.watcher is first_watcher and not host.ready.is_set()
        (tmp_path / "b.py").write_text(source("b"))
        wait_for(lambda: "b.py" in first.files)  # still kept current by its watcher
        host.start([tmp_path], max_file_bytes=1_000_000, report_progress=False,  # changed again meanwhile
                   on_current=lambda: taken_over.append(2))
        assert host.index is first and host.watcher is first_watcher
        release_all(release, started=1)  # the first replacement finishes, stopped: it never takes over
        wait_for(lambda: len(release) == 2)
        await asyncio.sleep(0.3)
        assert host.index is first and taken_over == [] and not host.ready.is_set()
        release_all(release)
        assert await asyncio.to_thread(host.ready.wait, TIMEOUT_S)
        second = host.index
        assert second is not first and second.complete and sorted(second.files) == ["a.py", "b.py"]
        assert taken_over == [2] and host.watcher is not first_watcher
        (tmp_path / "c.py").write_text(source("c"))
        wait_for(lambda: "c.py" in second.files)
        assert "c.py" not in first.files  # the old watcher is gone
    finally:
        release_all(release)
        host.shutdown()
    assert host.watcher is None


async def test_a_removed_folder_leaves_the_serving_index_at_once(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / f"in_{folder.name}.py").write_text(source(f"in_{folder.name}"))
    host = await watching_host([a, b])
    first = host.index
    release = hold_builds(monkeypatch)
    try:
        host.start([b], max_file_bytes=1_000_000, report_progress=False)  # folder a removed
        assert host.index is first and sorted(first.files) == ["b/in_b.py"]  # still serving, without a
        assert first.lookup("in_b") and not first.lookup("in_a")
        # its watcher, still running until the replacement takes over, brings nothing of a back
        (a / "in_a.py").write_text(source("in_a") + source("more_a"))
        (a / "new_a.py").write_text(source("new_a"))
        (b / "new_b.py").write_text(source("new_b"))
        wait_for(lambda: first.lookup("new_b"))
        assert sorted(first.files) == ["b/in_b.py", "b/new_b.py"]
        assert not first.update_text(a / "open_a.py", source("open_a"))  # nor an editor's buffer
        first.update_path(a)  # nor a rescan
        assert sorted(first.files) == ["b/in_b.py", "b/new_b.py"]
        release_all(release, started=1)
        assert await asyncio.to_thread(host.ready.wait, TIMEOUT_S)
        assert host.index is not first and sorted(host.index.files) == ["in_b.py", "new_b.py"]
    finally:
        release_all(release)
        host.shutdown()


async def test_replacing_the_index_never_waits_for_the_old_watcher_on_the_event_loop(tmp_path, monkeypatch):
    # its worker may be waiting for the model to finish a generation (context.yieldToModel)
    (tmp_path / "a.py").write_text(source("a"))
    host = await watching_host([tmp_path])
    stopped_on: list[bool] = []
    real_stop = IndexWatcher.stop

    def stop(self):
        stopped_on.append(threading.current_thread() is threading.main_thread())
        real_stop(self)

    monkeypatch.setattr(IndexWatcher, "stop", stop)
    try:
        host.start([tmp_path], max_file_bytes=1_000_000, report_progress=False)
        assert await asyncio.to_thread(host.ready.wait, TIMEOUT_S)
        wait_for(lambda: host.watcher is not None)
        host.stop()  # context.index turned off
        wait_for(lambda: len(stopped_on) == 2)
        assert stopped_on == [False, False]
    finally:
        host.shutdown()


def test_a_watcher_that_cannot_start_still_leaves_a_built_index(tmp_path, monkeypatch):
    from lsp_server.index_host import IndexHost

    (tmp_path / "a.py").write_text(source("a"))

    def broken(self):
        raise OSError(errno.EMFILE, "inotify instance limit reached")

    monkeypatch.setattr(IndexWatcher, "start", broken)
    host = IndexHost(server=None)

    async def run():
        host.start([tmp_path], max_file_bytes=1_000_000, report_progress=False)
        return await asyncio.to_thread(host.ready.wait, TIMEOUT_S)

    assert asyncio.run(run())
    assert host.watcher is None and "a.py" in host.index.files
    host.shutdown()


@linux_only
def test_gitignored_folders_are_watched_once_they_are_no_longer_ignored(tmp_path):
    # a gitignored `data/` or `env/` can hold as many folders as a node_modules
    for folder in ("src", "data/a/b", "data/c", "env/lib"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / ".gitignore").write_text("data/\nenv/\n")
    before = held_watches()
    index = WorkspaceIndex([tmp_path])
    index.build()
    watcher = IndexWatcher(index, debounce_s=0.05)
    watcher.start()
    try:
        assert held_watches() - before == 2  # the root and src
        (tmp_path / ".gitignore").write_text("env/\n")  # data/ is no longer ignored: watched, and indexed
        wait_for(lambda: held_watches() - before == 6)  # + data, data/a, data/a/b, data/c
        (tmp_path / "data" / "a" / "b" / "late.py").write_text(source("late"))
        wait_for(lambda: "data/a/b/late.py" in index.files)
        (tmp_path / ".gitignore").write_text("data/a/\nenv/\n")  # data/a ignored again: its watches go
        wait_for(lambda: held_watches() - before == 4)
        wait_for(lambda: "data/a/b/late.py" not in index.files)
        (tmp_path / ".gitignore").unlink()  # everything in
        wait_for(lambda: held_watches() - before == 8)
        (tmp_path / "env" / "lib" / "site.py").write_text(source("site"))
        wait_for(lambda: "env/lib/site.py" in index.files)
    finally:
        watcher.stop()
    assert held_watches() == before


@linux_only
def test_a_folder_made_or_moved_in_is_reported_without_walking_its_skipped_folders(tmp_path, monkeypatch):
    index = WorkspaceIndex([tmp_path])
    watcher = IndexWatcher(index, debounce_s=0.05)
    watcher.start()
    try:
        for folder in ("new/pkg", "new/node_modules/dep/lib", "new/.venv/lib"):
            (tmp_path / folder).mkdir(parents=True)
        (tmp_path / "new" / "pkg" / "a.py").write_text(source("a"))
        wait_for(lambda: "new/pkg/a.py" in index.files)
        (group,) = [e._inotify for e in watcher._observer.emitters]
        scanned, scandir = [], os.scandir
        monkeypatch.setattr(os, "scandir", lambda p=".": scanned.append(os.fsdecode(p)) or scandir(p))
        events = group._recursive_simulate(os.fsencode(tmp_path / "new"))
        assert sorted(os.fsdecode(e.name) for e in events) == [".venv", "a.py", "node_modules", "pkg"]
        assert scanned and not any("node_modules" in p or ".venv" in p for p in scanned)
    finally:
        watcher.stop()
