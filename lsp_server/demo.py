"""`tacit demo`: a real language-server session on seeds/, showing suggestions as they stream."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from . import client as lsp_client
from .replay import SEEDS, Keystroke, load_session, replay, sessions_in

DIM, BOLD, GREEN, CYAN, RESET = ("\033[2m", "\033[1m", "\033[32m", "\033[36m", "\033[0m") \
    if sys.stdout.isatty() else ("", "", "", "", "")


def _show(text: str, width: int = 70) -> str:
    first, _, rest = text.partition("\n")
    more = f" {DIM}(+{rest.count(chr(10)) + 1} lines){RESET}" if rest else ""
    first = first if len(first) <= width else first[: width - 1] + "…"
    return f"{first!r}{more}"


async def run_demo(session: Path | None = None, speed: float = 1.0, model: str | None = None) -> int:
    """Start the server, replay one recorded session, print suggestions with latencies."""
    sess = load_session(session) if session else sessions_in(SEEDS / "sessions")[0]
    print(f"{BOLD}Tacit demo{RESET}: replaying {sess.name} ({len(sess.events)} keystrokes) "
          f"into {sess.path.relative_to(SEEDS.parent) if sess.path.is_relative_to(SEEDS.parent) else sess.path}")
    t0 = time.perf_counter()
    init = {"model": {"path": model}} if model else {}
    client = await lsp_client.start(init, root=SEEDS / "demo")
    try:
        state = await client.wait_state(timeout=300)
        status = client.statuses[-1]
        print(f"server {state} in {time.perf_counter() - t0:.1f}s: {status.get('message')} "
              f"({status.get('model', '')})")
        if state != "ready":
            print("the engine did not load; see the message above", file=sys.stderr)
            return 1

        def printer(ks: Keystroke, full: bool) -> None:
            t = time.perf_counter() - t0
            if full:
                print(f"{DIM}{t:7.2f}s{RESET}   {'':>16} full {ks.full_ms:6.0f} ms        "
                      f"{GREEN}{_show(ks.full_text or '')}{RESET}")
                return
            how = "cache" if ks.cached else "model"
            print(f"{DIM}{t:7.2f}s{RESET} key {ks.index:3d} {ks.key[:1]!r:>5} first {ks.first_ms:6.0f} ms "
                  f"{how:<5} {CYAN}{_show(ks.text or '')}{RESET}")

        print(f"{DIM}opening the file and reading its context at the cursor (the first time, ~30 s on "
              f"2 cores; later keystrokes reuse it)...{RESET}", flush=True)
        def warmed(ms: float) -> None:
            print(f"{DIM}context read in {ms / 1000:.1f}s; typing starts{RESET}", flush=True)

        result = await replay(client, sess, speed=speed, on_suggestion=printer, warmup=True, on_warm=warmed)
        shown = [k for k in result.keystrokes if k.first_ms is not None]
        if shown:
            firsts = sorted(k.first_ms for k in shown)  # type: ignore[misc]
            cached = sum(1 for k in shown if k.cached)
            print(f"\n{BOLD}{len(shown)}/{len(result.keystrokes)} keystrokes got a suggestion{RESET}; "
                  f"first-suggestion latency p50 {statistics.median(firsts):.0f} ms, "
                  f"p95 {firsts[int(0.95 * (len(firsts) - 1))]:.0f} ms; {cached} served from cache "
                  f"(typing through)")
        return 0
    finally:
        await client.close()
