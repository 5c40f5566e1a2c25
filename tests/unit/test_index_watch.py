"""IndexWatcher: changes made on disk, outside the editor, reach the index."""

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from context.index import WorkspaceIndex
from context.index_watch import IndexWatcher

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
