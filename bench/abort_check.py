"""What llama.cpp's abort check costs: a C check (the engine's StopFlag path) against a Python callback.

llama.cpp calls the abort callback on every graph node. The engine used to pass a Python
callback, which takes the GIL each time; it now mirrors a StopFlag into a byte that C code
reads. A plain threading.Event still goes through the Python callback, so the two paths
run side by side here on the same prompts, in alternating order, from the same KV-cache state.

Each request runs the way the server runs one: the engine in a worker thread, every piece
handed to an asyncio event loop with call_soon_threadsafe. With `--busy`, another Python
thread also does a little work every millisecond (as the workspace watcher or the LSP reader
thread can), which is when a callback that needs the GIL waits for it.

    python bench/abort_check.py [--requests 16] [--model NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lsp_server.engines.base import GenOptions, StopFlag  # noqa: E402
from lsp_server.engines.llama import LlamaEngine  # noqa: E402
from lsp_server.models import resolve_model  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SOURCE = ROOT / "seeds" / "demo" / "textwrap.py"
STEP_CHARS = 450  # how far the cursor jumps between requests: about 120 new prompt tokens


def prompts(n: int) -> list[str]:
    """FIM prompts that grow through the file: each shares its start with the previous one."""
    text = SOURCE.read_text()
    out = []
    at = 3000
    while len(out) < n and at < len(text):
        p = text.find("\n", at) + 1
        line_end = text.find("\n", p)
        out.append(f"<|fim_prefix|>{text[1000:p]}<|fim_suffix|>{text[p:line_end]}<|fim_middle|>")
        at = p + STEP_CHARS
    return out


async def timed_request(engine: LlamaEngine, prompt: str, flag_type: type) -> float:
    loop = asyncio.get_running_loop()
    first = loop.create_future()

    def work() -> None:
        for piece in engine.generate(prompt, GenOptions(max_tokens=16), flag_type()):
            loop.call_soon_threadsafe(lambda p=piece: first.done() or first.set_result(p))
        loop.call_soon_threadsafe(lambda: first.done() or first.set_result(""))

    t0 = time.perf_counter()
    worker = loop.run_in_executor(None, work)
    await first
    ms = (time.perf_counter() - t0) * 1000
    await worker
    return ms


def busy_thread(stop: threading.Event) -> None:
    while not stop.wait(0.001):
        json.loads(json.dumps({"changes": [{"text": "x" * 200}] * 5}))


async def run(engine: LlamaEngine, requests: list[str]) -> dict[str, list[float]]:
    """Each prompt in both modes, from the same cached prefix (the previous prompt's start)."""
    times: dict[str, list[float]] = {"c_check": [], "python_callback": []}
    modes = [("c_check", StopFlag), ("python_callback", threading.Event)]
    list(engine.generate(requests[0], GenOptions(max_tokens=1), StopFlag()))
    for i, prompt in enumerate(requests[1:]):
        shared = engine.cached_prefix(engine.tokenize(prompt))
        for name, flag_type in (modes if i % 2 == 0 else modes[::-1]):
            engine.llm.n_tokens = shared
            times[name].append(await timed_request(engine, prompt, flag_type))
    return times


def summary(times: dict[str, list[float]]) -> dict:
    ratios = [p / c for c, p in zip(times["c_check"], times["python_callback"], strict=True)]
    return {
        "requests": len(ratios),
        "c_check_p50_ms": round(statistics.median(times["c_check"]), 1),
        "python_callback_p50_ms": round(statistics.median(times["python_callback"]), 1),
        "python_over_c_ratio_median": round(statistics.median(ratios), 3),
        "python_over_c_ratio_total": round(sum(times["python_callback"]) / sum(times["c_check"]), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", default=str(RESULTS / "abort_check.json"))
    args = parser.parse_args()
    model_path = resolve_model(args.model)
    engine = LlamaEngine(model_path)
    assert engine._native_abort is not None, "the C abort check is not available on this platform"
    requests = prompts(args.requests + 1)
    result: dict = {"model": model_path.name, "step_chars": STEP_CHARS, "generated_tokens": 16}
    for scenario in ("quiet", "busy"):
        stop = threading.Event()
        busy = threading.Thread(target=busy_thread, args=(stop,), daemon=True)
        if scenario == "busy":
            busy.start()
        try:
            result[scenario] = summary(asyncio.run(run(engine, requests)))
        finally:
            stop.set()
        print(scenario, json.dumps(result[scenario]), flush=True)
    engine.close()
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
