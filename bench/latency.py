"""Keystroke latency benchmark: replay recorded typing sessions against the real server.

Reports keystroke-to-first-suggestion and keystroke-to-full-suggestion latency (p50/p95),
the typing-through cache hit rate, prompt tokens prefilled per request, peak server RSS,
warm start time, and the same prompts run directly through
`llama_cpp.Llama.create_completion` in the same run, from the same KV-cache history,
so that the server's overhead is a ratio measured side by side: each quiet request is
followed at once by its raw twin, so a machine that slows down or speeds up over the run
(these are shared) moves both alike.

    python bench/latency.py [--sessions DIR] [--model NAME|FILE] [--speed 1.0] [--max-keys N]

Writes bench/results/latency.json and bench/results/latency_cdf.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil

from lsp_server import client as lsp_client
from lsp_server.models import resolve_model
from lsp_server.replay import SEEDS, replay, sessions_in
from tuning.metrics import pct

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "bench" / "results"


class RssSampler:
    """Samples a process's resident memory in the background; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


async def start_server(init: dict, log: Path) -> tuple[lsp_client.TacitClient, float]:
    t0 = time.perf_counter()
    # a data directory of its own: the replay's suggestions stay out of the user's event store, and
    # no filter or adapter the user installed changes the figures
    client = await lsp_client.start({**init, "logFile": str(log), "logPrompts": True}, root=SEEDS / "demo",
                                    env={"TACIT_DATA": str(log.parent / "data")})
    state = await client.wait_state(timeout=300)
    if state != "ready":
        raise SystemExit(f"server not ready: {client.statuses[-1]}")
    return client, (time.perf_counter() - t0) * 1000


def logged_generations(log: Path) -> list[dict]:
    """The generations the server has logged so far (complete lines only; a superseded one still
    queued is skipped without touching the model, so it has no prompt tokens)."""
    lines = log.read_text().split("\n")[:-1] if log.exists() else []
    entries = [json.loads(x) for x in lines if x.strip()]
    return [e for e in entries if e["event"] == "generation" and e["prompt_tokens"] > 0]


class RawEngine:
    """The server's prompts straight through llama_cpp in this process, with the server engine's
    settings (LlamaEngine: every core for decoding too, 256-token batches), in the server's order so
    that its KV cache holds what the server's held."""

    def __init__(self, model_path: Path) -> None:
        import llama_cpp

        self.llm = llama_cpp.Llama(str(model_path), n_ctx=4096, n_batch=256, n_threads=os.cpu_count() or 2,
                                   verbose=False, swa_full=True)
        self.done = 0  # generations of the log already run

    def catch_up(self, generations: list[dict], timed: str | None = None) -> float | None:
        """Run the logged generations not run yet; the time of `timed`'s, if it is among them.

        Each prompt generates as many tokens as the server needed for its first line (or all it
        generated, when it never had one), so a raw time is comparable to the server's
        request-to-first-suggestion time of the request that started that generation."""
        ms = None
        for gen in generations[self.done:]:
            tokens = self.llm.tokenize(gen["prompt"].encode(), add_bos=False, special=True)
            n = max(1, gen.get("first_line_tokens") or gen["generated_tokens"])
            t0 = time.perf_counter()
            self.llm.create_completion(prompt=tokens, max_tokens=n, temperature=0.0, top_k=1, top_p=1.0,
                                       min_p=0.0, repeat_penalty=1.0)
            if gen["id"] == timed and gen.get("first_line_tokens") and gen["error"] is None:
                ms = (time.perf_counter() - t0) * 1000
        self.done = len(generations)
        return ms

    def close(self) -> None:
        self.llm.close()


async def run_server(args: argparse.Namespace, log: Path) -> dict:
    init = {"model": {"path": args.model}} if args.model else {}
    # a first start warms the OS page cache: what a second editor session sees
    warmup_client, cold_ms = await start_server(init, log.with_suffix(".warmup"))
    await warmup_client.close()
    client, warm_ms = await start_server(init, log)
    sampler = RssSampler(client._server.pid)
    keystrokes, warmups = [], []
    try:
        for session in sessions_in(Path(args.sessions)):
            print(f"replaying {session.name}: {len(session.events[:args.max_keys])} keystrokes", flush=True)
            # The developer opens the file and pauses at the cursor before typing: the server reads
            # the file's context once (reported separately as cold_context_ms).
            result = await replay(client, session, speed=args.speed, max_keys=args.max_keys, settle=5.0,
                                  warmup=not args.cold)
            if result.warmup_ms is not None:
                warmups.append(result.warmup_ms)
            for ks in result.keystrokes:
                keystrokes.append({"session": session.name, **{k: v for k, v in vars(ks).items()
                                                              if k not in ("text", "full_text")}})
        print("controlled requests for the overhead comparison", flush=True)
        raw_engine = None if args.no_raw else RawEngine(resolve_model(args.model))
        try:
            controlled, raw = await controlled_requests(client, sessions_in(Path(args.sessions)),
                                                        args.controlled, log, raw_engine)
        finally:
            if raw_engine is not None:
                raw_engine.close()
    finally:
        peak = sampler.stop()
        await client.close()
    return {"keystrokes": keystrokes, "ready_ms": warm_ms, "first_start_ms": cold_ms, "peak_rss_mb": peak,
            "warmups": warmups, "controlled": controlled, "raw": raw}


async def controlled_requests(client: lsp_client.TacitClient, sessions: list, per_session: int, log: Path,
                              raw: RawEngine | None) -> tuple[dict[str, float], dict[str, float]]:
    """One request at a time, nothing else going on: mid-line positions along each typed region.

    After each request's generation has finished, the raw engine runs the prompts the server ran
    since the last one, in order, and the request's own is timed: the ratio of the two times is the
    server's overhead on identical work, measured seconds apart.
    """
    times: dict[str, float] = {}
    raw_times: dict[str, float] = {}
    if raw is not None:  # the raw engine starts from the server's last prompt, as its KV cache does
        raw.done = max(0, len(logged_generations(log)) - 1)
    for session in sessions:
        src = session.source
        start, end = session.cut
        line_starts = [i + 1 for i in range(start, end) if src[i] == "\n"]
        picks = [p for p in line_starts if len(src[p:src.find("\n", p)].strip()) > 12]
        picks = picks[:: max(1, len(picks) // per_session)][:per_session]
        uri = f"file:///tacit-bench/{session.name}.py"
        client.open(uri, src, session.language)
        for p in picks:
            line_end = src.find("\n", p)
            indent = len(src[p:line_end]) - len(src[p:line_end].lstrip())
            pos = p + indent + (line_end - p - indent) // 2
            line = src.count("\n", 0, pos)
            col = pos - (src.rfind("\n", 0, pos) + 1)
            t0 = time.perf_counter()
            result = await client.inline(uri, line, col, invoked=True)
            ms = (time.perf_counter() - t0) * 1000
            if result is None or not result.items or not result.items[0].command:
                continue
            gid = result.items[0].command.arguments[0]
            times[gid] = ms
            if raw is None:
                continue
            generations = await finished(log, gid)
            raw_ms = await asyncio.to_thread(raw.catch_up, generations, gid)
            if raw_ms is not None:
                raw_times[gid] = raw_ms
    return times, raw_times


async def finished(log: Path, gid: str, timeout: float = 120.0) -> list[dict]:
    """The logged generations once `gid`'s is among them (the server logs a generation when it ends)."""
    deadline = time.perf_counter() + timeout
    while True:
        generations = logged_generations(log)
        if any(g["id"] == gid for g in generations) or time.perf_counter() > deadline:
            return generations
        await asyncio.sleep(0.05)


def summarize(run: dict, generations: list[dict], raw: dict[str, float], model: str) -> dict:
    ks = run["keystrokes"]
    shown = [k for k in ks if k["first_ms"] is not None]
    firsts = [k["first_ms"] for k in shown]
    fulls = [k["full_ms"] for k in shown if k["full_ms"] is not None]
    cached = [k for k in shown if k["cached"]]
    controlled = run["controlled"]
    pairs = [(controlled[gid], raw[gid]) for gid in controlled if gid in raw]
    server_ms = [p[0] for p in pairs]
    raw_ms = [p[1] for p in pairs]
    prefilled = [g["prefilled_tokens"] for g in generations]
    prompt_tokens = [g["prompt_tokens"] for g in generations]
    reused = sum(g["reused_tokens"] for g in generations)
    by_id = {g["id"]: g for g in generations}
    timed = [gid for gid in controlled if gid in raw and gid in by_id]
    # Where the server's time on a quiet request goes: building the prompt, the engine up to the first
    # line (timed from the generation's start, on the event loop), and the rest (the LSP round trip,
    # handler and post-processing), each the median over the same requests as the ratio.
    parts = {gid: (by_id[gid]["build_prompt_ms"], by_id[gid]["first_line_ms"] or 0.0, controlled[gid], raw[gid])
             for gid in timed}
    breakdown = {
        "build_prompt": pct([b for b, _, _, _ in parts.values()], 0.5),
        "engine_to_first_line": pct([f for _, f, _, _ in parts.values()], 0.5),
        "rest": pct([s - b - f for b, f, s, _ in parts.values()], 0.5),
        "server_total": pct([s for _, _, s, _ in parts.values()], 0.5),
        "raw_llama_cpp": pct([r for _, _, _, r in parts.values()], 0.5),
    } if parts else None
    return {
        "model": model,
        "sessions": sorted({k["session"] for k in ks}),
        "keystrokes": len(ks),
        "keystrokes_with_suggestion": len(shown),
        "p50_first_ms": pct(firsts, 0.5), "p95_first_ms": pct(firsts, 0.95),
        "p50_full_ms": pct(fulls, 0.5), "p95_full_ms": pct(fulls, 0.95),
        "suggestion_rate": round(len(shown) / len(ks), 3) if ks else None,
        "model_served_p50_first_ms": pct([k["first_ms"] for k in shown if not k["cached"]], 0.5),
        "model_served_p95_first_ms": pct([k["first_ms"] for k in shown if not k["cached"]], 0.95),
        "model_served": sum(1 for k in shown if not k["cached"]),
        "cache_hit_rate": round(len(cached) / len(shown), 3) if shown else None,
        "raw_engine_p50_ms": pct(raw_ms, 0.5),
        "server_same_prompts_p50_ms": pct(server_ms, 0.5),
        "overhead_ratio": round(statistics.median(s / r for s, r in pairs), 3) if pairs else None,
        "overhead_ratio_total": round(sum(server_ms) / sum(raw_ms), 3) if raw_ms else None,
        "overhead_pairs": len(pairs),
        "overhead_pair_ratios": sorted(round(s / r, 3) for s, r in pairs),  # the median's sample, in full
        "overhead_breakdown_p50_ms": breakdown,
        "generations": len(generations),
        "generations_stopped": sum(1 for g in generations if g["stopped"]),
        "prompt_tokens_mean": round(statistics.mean(prompt_tokens), 1) if prompt_tokens else None,
        "prefilled_tokens_p50": pct(prefilled, 0.5), "prefilled_tokens_p95": pct(prefilled, 0.95),
        "prefilled_tokens_mean": round(statistics.mean(prefilled), 1) if prefilled else None,
        "prompt_reuse_share": round(reused / sum(prompt_tokens), 3) if prompt_tokens else None,
        "peak_rss_mb": round(run["peak_rss_mb"], 1),
        "warm_ready_ms": round(run["ready_ms"], 1),
        "cold_context_ms": [round(w) for w in run["warmups"]],
        "first_start_ready_ms": round(run["first_start_ms"], 1),
        "outcomes": {o: sum(1 for k in ks if k["outcome"] == o) for o in sorted({k["outcome"] for k in ks})},
        "targets": {"p50_first_ms": 150, "p95_first_ms": 600, "overhead_ratio": 1.10, "warm_ready_ms": 3000,
                    "peak_rss_mb": 1536},
    }


def plot(run: dict, raw: dict[str, float], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [k for k in run["keystrokes"] if k["first_ms"] is not None]
    series = {"keystroke -> first suggestion": [k["first_ms"] for k in shown],
              "keystroke -> full suggestion": [k["full_ms"] for k in shown if k["full_ms"] is not None],
              "server, quiet requests (controlled)": [run["controlled"][g] for g in raw],
              "raw llama_cpp, same prompts": list(raw.values())}
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, values in series.items():
        if values:
            xs = sorted(values)
            ax.step(xs, [(i + 1) / len(xs) for i in range(len(xs))], where="post", label=f"{label} (n={len(xs)})")
    ax.axvline(150, color="grey", ls=":", lw=1)
    ax.axvline(600, color="grey", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds (log)")
    ax.set_ylabel("share of keystrokes")
    ax.set_title("Tacit keystroke latency CDF (2-core CPU)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default=str(SEEDS / "sessions"))
    parser.add_argument("--model", default=None)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--max-keys", type=int, default=None)
    parser.add_argument("--out", default=str(RESULTS / "latency.json"))
    parser.add_argument("--no-raw", action="store_true", help="skip the raw llama_cpp comparison")
    parser.add_argument("--controlled", type=int, default=16,
                        help="quiet requests per session for the side-by-side overhead comparison")
    parser.add_argument("--cold", action="store_true",
                        help="start typing at once, without first letting the server read the file")
    args = parser.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "requests.jsonl"
        run = asyncio.run(run_server(args, log))
        generations = logged_generations(log)
    raw = run["raw"]
    model_path = resolve_model(args.model)
    result = summarize(run, generations, raw, model_path.name)
    out.write_text(json.dumps(result, indent=2) + "\n")
    plot(run, raw, out.with_name(out.stem + "_cdf.png"))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
