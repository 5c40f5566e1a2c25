"""Switching files: the first suggestion after coming back to a file, with and without saved KV caches.

A developer moves between files. Each file's prompt (its context snippets and the 8,000 characters
before the cursor) shares almost nothing with another file's, so the KV cache the model built for
one is dropped by the next, and coming back meant reading the whole prompt again: seconds on a
CPU. With `model.savedStatesMb` the engine keeps the caches it drops and restores the one that
shares most with a new prompt.

The real server and model, the three files of `seeds/demo` open in one session, visited in turn
(A B C A B C ...). Each visit types one more character at that file's cursor (one the suggestion
shown there last does not start with) and asks for a suggestion (invoked), timed until it arrives.
Two servers run one after the other in the same run, `savedStatesMb` 0 and the default.

    python bench/file_switch.py [--model NAME|FILE] [--rounds 3]

Writes bench/results/file_switch.json and bench/results/file_switch.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from lsp_server import client as lsp_client
from lsp_server.replay import SEEDS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DEMO = SEEDS / "demo"
# where each file is typed into: a new first line of a method's body, in the middle of the file
CURSORS = {"calendar.py": "    def formatmonth(self, theyear, themonth, withyear=True):\n",
           "shlex.py": "    def read_token(self):\n", "textwrap.py": "    def _split(self, text):\n"}
# one more character per visit to a file: one the last suggestion there does not start with, so the
# model writes anew (a character the developer typed as suggested is served from that suggestion)
TYPED = "qzjvk"


async def session(init: dict, rounds: int, tmp: Path) -> dict:
    log = tmp / f"log-{init.get('model', {}).get('savedStatesMb', 'default')}.jsonl"
    client = await lsp_client.start({**init, "logFile": str(log)}, root=DEMO, env={"TACIT_DATA": str(tmp / "data")})
    try:
        if await client.wait_state(timeout=300) != "ready":
            raise SystemExit(f"server not ready: {client.statuses[-1]}")
        files = {}
        for name, needle in CURSORS.items():  # a new line at the start of a method's body
            uri, text = (DEMO / name).as_uri(), (DEMO / name).read_text(encoding="utf-8")
            client.open(uri, text)
            end = text.index(needle) + len(needle) - 1
            line, col = text.count("\n", 0, end), end - (text.rfind("\n", 0, end) + 1)
            client.insert(uri, line, col, "\n        ")
            files[name] = [uri, line + 1, 8]
        visits, shown = [], {}
        for r in range(rounds):
            for name, (uri, line, col) in files.items():
                key = next(c for c in TYPED if not (shown.get(name) or "").startswith(c))
                client.insert(uri, line, col, key)
                files[name][2] = col + 1
                t0 = time.perf_counter()
                res = await client.inline(uri, line, col + 1, invoked=True)
                ms = (time.perf_counter() - t0) * 1000
                text = res.items[0].insert_text if res is not None and res.items else None
                shown[name] = text
                visits.append({"round": r, "file": name, "typed": key, "ms": round(ms, 1), "suggestion": text})
        await asyncio.sleep(0.5)
        gens = [json.loads(x) for x in log.read_text().splitlines() if x.strip()]
        gens = [g for g in gens if g.get("event") == "generation" and g["prompt_tokens"] > 0]
        returns = [v["ms"] for v in visits if v["round"] > 0]
        return {"visits": visits,
                "first_visit_ms_p50": round(statistics.median(v["ms"] for v in visits if v["round"] == 0), 1),
                "return_ms_p50": round(statistics.median(returns), 1), "return_ms_max": max(returns),
                "prompt_tokens_mean": round(statistics.mean(g["prompt_tokens"] for g in gens), 1),
                "restored_tokens": [g.get("restored_tokens", 0) for g in gens],
                "prefilled_tokens": [g["prompt_tokens"] - g["reused_tokens"] for g in gens]}
    finally:
        await client.close()


def plot(result: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    for label, key, offset in (("savedStatesMb 0", "off", -0.2), ("savedStatesMb 256 (default)", "on", 0.2)):
        visits = result[key]["visits"]
        ax.bar([i + offset for i in range(len(visits))], [v["ms"] / 1000 for v in visits], width=0.4, label=label)
    names = [f"{v['file'].removesuffix('.py')}\n{v['round'] + 1}" for v in result["on"]["visits"]]
    ax.set_xticks(range(len(names)), names, fontsize=7)
    ax.set_ylabel("seconds to the first suggestion")
    ax.set_title("Coming back to a file (3 files visited in turn; real server and model, 2 cores)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS / "file_switch.json"))
    args = parser.parse_args()
    model = {"path": args.model} if args.model else {}
    with tempfile.TemporaryDirectory(prefix="tacit-file-switch-") as tmp:
        off = asyncio.run(session({"model": {**model, "savedStatesMb": 0}}, args.rounds, Path(tmp)))
        on = asyncio.run(session({"model": model} if model else {}, args.rounds, Path(tmp)))
    same = sum(a["suggestion"] == b["suggestion"] for a, b in zip(off["visits"], on["visits"], strict=True))
    result = {"model": args.model or "default", "rounds": args.rounds, "files": list(CURSORS),
              "return_speedup_p50": round(off["return_ms_p50"] / on["return_ms_p50"], 1),
              "same_suggestions": f"{same} of {len(on['visits'])}", "off": off, "on": on}
    out = Path(args.out)
    out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, out.with_suffix(".png"))
    print(json.dumps({k: v for k, v in result.items() if k not in ("off", "on")}
                     | {c: {k: result[c][k] for k in ("first_visit_ms_p50", "return_ms_p50", "return_ms_max")}
                        for c in ("off", "on")}, indent=2))


if __name__ == "__main__":
    main()
