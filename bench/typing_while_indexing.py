"""Typing while a large workspace is indexed: suggestions with the index idle, and with a large
index being built, background indexing giving way to the model (`context.yieldToModel`) or not.

Three servers, one after the other, each replays the recorded typing sessions (`seeds/sessions`)
into a copy of `seeds/demo`, the first file opened at once, as a developer who opens a large
repository and starts typing:

- `idle`: the copy alone (a few files: the index is built before the first keystroke);
- `busy`: the copy and --files other source files (JavaScript from the VS Code client's
  node_modules, C headers from /usr/include, then this venv's Python), with `yieldToModel` off;
- `yielding`: the same workspace with `yieldToModel` on (the default).

The extra files are of other languages than the sessions' Python where they can be, so that what
the prompts hold stays close across the three. Reported per server, over the first --window
seconds of typing and over the whole replay: keystrokes, suggestions shown, first-suggestion
latency (p50/p95), the model's decoding speed (tokens/s over its generations), the first
suggestion's latency (its prompt read cold), and how long the index took to build.

    python bench/typing_while_indexing.py [--files 12000] [--window 45] [--rounds 1]

Writes bench/results/typing_while_indexing.json and .png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lsp_server import client as lsp_client  # noqa: E402
from lsp_server.replay import SEEDS, replay, sessions_in  # noqa: E402
from tuning.metrics import pct  # noqa: E402

RESULTS = ROOT / "bench" / "results"
VARIANTS = {"idle": None, "busy": False, "yielding": True}  # name -> context.yieldToModel (None: no extra files)


def extra_sources() -> list[tuple[Path, str]]:
    return [(ROOT / "editor-clients" / "vscode" / "node_modules", "*.js"), (Path("/usr/include"), "*.h"),
            (Path(sysconfig.get_paths()["purelib"]), "*.py")]


def add_files(dest: Path, want: int) -> dict[str, int]:
    """Copy up to `want` source files under `dest/big/`, 200 a folder; how many of each kind."""
    copied: dict[str, int] = {}
    n = 0
    for top, pattern in extra_sources():
        if not top.is_dir():
            continue
        for src in sorted(top.rglob(pattern)):
            if n >= want:
                return copied
            if not src.is_file() or src.stat().st_size > 200_000:
                continue
            target = dest / "big" / str(n // 200) / f"{n}{src.suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            copied[src.suffix] = copied.get(src.suffix, 0) + 1
            n += 1
    return copied


async def run_one(root: Path, yield_to_model: bool | None, log: Path, data: Path) -> dict:
    init: dict = {"logFile": str(log)}
    if yield_to_model is not None:
        init["context"] = {"yieldToModel": yield_to_model}
    started = time.perf_counter()
    client = await lsp_client.start(init, root=root, env={"TACIT_DATA": str(data)})
    built: dict[str, float] = {}

    async def watch_progress() -> None:
        while True:
            if any(isinstance(p.get("value"), dict) and p["value"].get("kind") == "end" for p in client.progress):
                built["s"] = time.perf_counter() - started
                return
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch_progress())
    try:
        if await client.wait_state(timeout=300) != "ready":
            raise SystemExit(f"server not ready: {client.statuses[-1:]}")
        typing_from = time.perf_counter()
        keys, first_ms = [], None
        for session in sessions_in(SEEDS / "sessions"):
            uri = (root / session.path.relative_to(SEEDS / "demo")).as_uri()
            result = await replay(client, session, uri=uri, warmup=True, settle=3.0)
            first_ms = result.warmup_ms if first_ms is None else first_ms
            keys += [(k.sent - typing_from, k.outcome, k.first_ms) for k in result.keystrokes]
        for _ in range(600):  # the build may still run: its time is part of the figures
            if "s" in built:
                break
            await asyncio.sleep(0.5)
    finally:
        watcher.cancel()
        await client.close()
    typing_wall = time.time() - (time.perf_counter() - typing_from)
    gens = [g for g in map(json.loads, log.read_text().splitlines()) if g.get("event") == "generation"]
    for g in gens:  # logged when each ended; seconds since typing began
        g["at"] = g["t"] - typing_wall
    return {"keys": keys, "generations": gens, "first_suggestion_ms": first_ms,
            "index_build_s": built.get("s"), "ready_after_s": round(typing_from - started, 2)}


def summarize(run: dict, window: float) -> dict:
    def part(keys: list, gens: list) -> dict:
        shown = [ms for _, outcome, ms in keys if outcome == "shown" and ms is not None]
        tokens = sum(g["generated_tokens"] for g in gens)
        engine_s = sum(g["engine_ms"] - g["engine_first_token_ms"] for g in gens) / 1000
        return {"keystrokes": len(keys), "shown": len(shown),
                "shown_share": round(len(shown) / len(keys), 3) if keys else None,
                "first_ms_p50": pct(shown, 0.5), "first_ms_p95": pct(shown, 0.95),
                "generations": len(gens), "decode_tokens_per_s": round(tokens / engine_s, 1) if engine_s else None}

    keys, gens = run["keys"], run["generations"]
    return {"in_window": part([k for k in keys if k[0] < window], [g for g in gens if g["at"] < window]),
            "whole_replay": part(keys, gens), "first_suggestion_ms": round(run["first_suggestion_ms"] or 0, 1),
            "index_build_s": round(run["index_build_s"], 1) if run["index_build_s"] is not None else None,
            "ready_after_s": run["ready_after_s"]}


def plot(result: dict, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result["variants"])
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, (key, label) in zip(axes, (("shown_share", "keystrokes with a suggestion"),
                                       ("decode_tokens_per_s", "decoding, tokens/s"),
                                       ("first_suggestion_s", "the first suggestion (prompt read cold), s")),
                                strict=True):
        values = [result["variants"][n]["in_window"][key] or 0 if key in result["variants"][n]["in_window"]
                  else round(result["variants"][n]["first_suggestion_ms"] / 1000, 1) for n in names]
        ax.bar(names, values, color=["#888", "#c44", "#4a4"][: len(names)])
        ax.set_title(label, fontsize=10)
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:g}", ha="center", va="bottom", fontsize=9)
    title = f"first {result['window_s']:g} s of typing while {result['files_added']} files are indexed"
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


async def main_async(args: argparse.Namespace) -> dict:
    runs: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="tacit-typing-indexing-") as tmp:
        base = Path(tmp)
        small, large = base / "small", base / "large"
        shutil.copytree(SEEDS / "demo", small)
        shutil.copytree(SEEDS / "demo", large)
        added = add_files(large, args.files)
        print(f"workspace: seeds/demo + {sum(added.values())} files {added}", flush=True)
        for rnd in range(args.rounds):
            for name, yield_to_model in VARIANTS.items():
                root = small if yield_to_model is None else large
                run = await run_one(root, yield_to_model, base / f"{name}{rnd}.jsonl", base / f"data-{name}{rnd}")
                summary = summarize(run, args.window)
                runs[name].append(summary)
                print(name, json.dumps(summary), flush=True)
    variants = {}
    for name, rows in runs.items():  # the median round of each (by shown share in the window)
        rows.sort(key=lambda r: r["in_window"]["shown_share"] or 0)
        variants[name] = {**rows[len(rows) // 2], "rounds": rows}
    return {"files_added": sum(added.values()), "files_by_kind": added, "window_s": args.window,
            "rounds": args.rounds, "variants": variants}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=12000, help="source files added to the large workspace")
    parser.add_argument("--window", type=float, default=45.0, help="seconds of typing compared")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "typing_while_indexing.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, out.with_suffix(".png"))
    print(json.dumps({n: v["in_window"] for n, v in result["variants"].items()}, indent=2))


if __name__ == "__main__":
    main()
