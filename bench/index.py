"""Workspace index benchmark: initial index time and single-file re-index latency.

Builds a workspace of real Python sources (whole packages copied from this venv's
site-packages, relative paths kept, until at least --files files), then measures:
the initial `WorkspaceIndex.build` (wall and CPU seconds, files/s, MB/s, definitions),
`update_path` after an edit of one file (p50/p95 over --edits edits of randomly chosen
files), the delay from writing a file to seeing it in the index through `IndexWatcher`
(this includes the watcher's debounce), and peak RSS. The workspace also gets a `node_modules` of
--skipped-folders folders and a `.gitignore`d `data/` of --ignored-folders folders, which the index
never reads: the watcher's set-up (inotify watches held, milliseconds to start) is measured side by
side with watchdog's stock observer, which watches every folder, and with ours, which leaves those
folders out (`context/inotify_watch.py`).

Targets (issue): initial index of 2,000 files <= 20 s on 2 cores; re-index of one changed
file <= 50 ms.

    python bench/index.py [--files 2000] [--edits 50] [--seed 0] [--skipped-folders 20000]
                          [--ignored-folders 5000] [--large]

`--large` also builds the index of this venv's whole site-packages (some 26,000 files), once
with the default `context.maxFiles` and once without a limit, each in a fresh process: build
seconds, files and peak RSS side by side.

Writes bench/results/index.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from context import inotify_watch  # noqa: E402
from context.index import WorkspaceIndex  # noqa: E402
from context.index_watch import IndexWatcher  # noqa: E402
from tuning.metrics import pct  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def make_workspace(dest: Path, want: int) -> int:
    """Copy whole packages' .py files from site-packages into `dest` until `want` files."""
    site = Path(sysconfig.get_paths()["purelib"])
    copied = 0
    for package in sorted(p for p in site.iterdir() if p.is_dir() and not p.name.endswith(".dist-info")):
        for src in sorted(package.rglob("*.py")):
            if "__pycache__" in src.parts:
                continue
            target = dest / src.relative_to(site)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            copied += 1
        if copied >= want:
            break
    return copied


PACKAGE_FOLDERS = ("lib", "lib/a", "lib/b", "dist", "dist/cjs", "dist/esm", "src", "src/x", "types", "test")


def make_folders(top: Path, folders: int) -> int:
    """About `folders` folders under `top` in the shape npm leaves in a `node_modules`: packages of
    eleven folders (the package's own and ten below it). Returns how many folders it made, `top` included."""
    packages = max(1, folders // 10)
    for package in range(packages):
        for sub in PACKAGE_FOLDERS:
            (top / f"pkg{package}" / sub).mkdir(parents=True, exist_ok=True)
    return packages * (len(PACKAGE_FOLDERS) + 1) + 1


def measure_watch_setup(index: WorkspaceIndex, repeats: int = 3) -> dict:
    """Watches held and start time, watchdog's stock observer against ours, alternating, side by side."""
    from watchdog.observers import Observer

    own = inotify_watch.observer
    runs: dict[str, dict[str, list]] = {"stock": {"ms": [], "watches": []}, "pruned": {"ms": [], "watches": []}}
    try:
        for _ in range(repeats):
            for name, factory in (("stock", lambda skip: Observer()), ("pruned", own)):
                inotify_watch.observer = factory  # what IndexWatcher.start calls
                before = inotify_watch.held_watches() or 0
                watcher = IndexWatcher(index)
                start = time.perf_counter()
                watcher.start()
                runs[name]["ms"].append((time.perf_counter() - start) * 1000)
                runs[name]["watches"].append((inotify_watch.held_watches() or 0) - before)
                watcher.stop()
    finally:
        inotify_watch.observer = own
    out = {}
    for name, r in runs.items():
        out[f"watch_setup_{name}_ms_p50"] = round(pct(r["ms"], 0.5), 1)
        out[f"watch_setup_{name}_watches"] = max(r["watches"])
    out["watch_setup_ms_ratio"] = round(out["watch_setup_stock_ms_p50"] / max(out["watch_setup_pruned_ms_p50"], 0.1), 1)
    return out


def measure_large(limits: list[int]) -> dict:
    """The whole site-packages indexed with each file limit, each in a process of its own (peak RSS)."""
    site = sysconfig.get_paths()["purelib"]
    out: dict = {"large_root": "site-packages"}
    for limit in limits:
        child = subprocess.run([sys.executable, __file__, "--child-build", site, "--max-files", str(limit)],
                               check=True, capture_output=True, text=True)
        row = json.loads(child.stdout)
        tag = f"large_max_files_{limit}"
        out[tag] = row
    return out


def child_build(root: str, max_files: int) -> None:
    """Run in a fresh process by `measure_large`: build, print figures as JSON."""
    base = psutil.Process().memory_info().rss
    index = WorkspaceIndex([Path(root)], max_files=max_files)
    start = time.perf_counter()
    index.build()
    stats = index.stats()
    print(json.dumps({"files": stats["files"], "eligible": stats["eligible"],
                      "build_s": round(time.perf_counter() - start, 1),
                      "rss_growth_mb": round((psutil.Process().memory_info().rss - base) / 2**20),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


def measure_build(root: Path) -> tuple[WorkspaceIndex, dict]:
    """Index the workspace once, timing wall and CPU."""
    index = WorkspaceIndex([root])
    wall, cpu = time.perf_counter(), time.process_time()
    assert index.build()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stats = index.stats()
    total_bytes = sum(entry.size for entry in index.files.values())
    return index, {
        "files_indexed": stats["files"],
        "skipped": stats["skipped"],
        "source_mb": round(total_bytes / 1e6, 1),
        "definitions": stats["definitions"],
        "imports": stats["imports"],
        "build_s": round(wall, 2),
        "build_cpu_s": round(cpu, 2),
        "files_per_s": round(stats["files"] / wall, 1),
        "mb_per_s": round(total_bytes / 1e6 / wall, 2),
    }


def measure_updates(index: WorkspaceIndex, root: Path, edits: int, rng: random.Random) -> dict:
    """Edit randomly chosen files one at a time and time `update_path` for each."""
    keys = rng.sample(sorted(index.files), min(edits, len(index.files)))
    times, sizes = [], []
    for i, key in enumerate(keys):
        path = root / key
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"\n\ndef bench_edit_{i}(x: int) -> int:\n    return x\n")
        start = time.perf_counter()
        index.update_path(path)
        times.append((time.perf_counter() - start) * 1000)
        sizes.append(path.stat().st_size)
        assert index.lookup(f"bench_edit_{i}"), key
    return {
        "edits": len(times),
        "reindex_p50_ms": pct(times, 0.5),
        "reindex_p95_ms": pct(times, 0.95),
        "reindex_max_ms": round(max(times), 2),
        "edited_file_kb_p50": round((pct(sizes, 0.5) or 0) / 1000, 1),
        "edited_file_kb_max": round(max(sizes) / 1000, 1),
    }


def measure_watch(index: WorkspaceIndex, root: Path, edits: int, rng: random.Random) -> dict:
    """Write files on disk and time until the watcher has brought the index up to date."""
    watcher = IndexWatcher(index)
    watcher.start()
    delays = []
    try:
        for i in range(edits):
            key = rng.choice(sorted(index.files))
            with open(root / key, "a", encoding="utf-8") as f:
                f.write(f"\n\ndef bench_watch_{i}():\n    pass\n")
            start = time.perf_counter()
            while not index.lookup(f"bench_watch_{i}"):
                if time.perf_counter() - start > 10:
                    raise TimeoutError(key)
                time.sleep(0.002)
            delays.append((time.perf_counter() - start) * 1000)
    finally:
        watcher.stop()
    return {"watch_to_index_p50_ms": pct(delays, 0.5), "watch_to_index_p95_ms": pct(delays, 0.95),
            "watch_debounce_ms": watcher.debounce_s * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skipped-folders", type=int, default=20000,
                        help="folders of a node_modules the index never reads (0: none)")
    parser.add_argument("--ignored-folders", type=int, default=5000,
                        help="folders of a data/ folder that .gitignore names (0: none)")
    parser.add_argument("--large", action="store_true", help="also index all of site-packages, with and without "
                        "the default file limit")
    parser.add_argument("--child-build", help=argparse.SUPPRESS)
    parser.add_argument("--max-files", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_build:
        child_build(args.child_build, args.max_files)
        return
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="tacit-index-bench-") as tmp:
        root = Path(tmp)
        copied = make_workspace(root, args.files)
        skipped_folders = make_folders(root / "node_modules", args.skipped_folders) if args.skipped_folders else 0
        ignored_folders = make_folders(root / "data", args.ignored_folders) if args.ignored_folders else 0
        (root / ".gitignore").write_text("/data/\n" if ignored_folders else "")
        folders = sum(1 for _ in root.rglob("*") if _.is_dir()) + 1
        rss_before = psutil.Process().memory_info().rss
        load_before = os.getloadavg()[0]
        index, build = measure_build(root)
        result = {"files_copied": copied, "folders": folders, "skipped_folders": skipped_folders,
                  "ignored_folders": ignored_folders, **build}
        result.update(measure_updates(index, root, args.edits, rng))
        result.update(measure_watch(index, root, min(args.edits, 20), rng))
        result.update(measure_watch_setup(index))
    if args.large:
        from lsp_server.options import ContextOptions
        result.update(measure_large([ContextOptions().max_files, 0]))
    result.update({
        "rss_before_build_mb": round(rss_before / 2**20, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu_count": os.cpu_count(),
        "load_avg_1m_before": round(load_before, 2),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
    })
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "index.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
