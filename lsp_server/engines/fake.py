"""A queue-fed fake engine for unit tests: yields scripted pieces, honours the stop flag."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

from .base import EngineStats, GenOptions


class FakeEngine:
    """Replies with scripted outputs, one per `generate` call, piece by piece."""

    name = "fake"

    def __init__(self, outputs: list[list[str] | str] | None = None, delay: float = 0.0,
                 family: str | None = "qwen2.5-coder", heals: bool = False) -> None:
        self.outputs: queue.Queue[list[str] | str] = queue.Queue()
        for out in outputs or []:
            self.outputs.put(out)
        self.delay = delay
        self.family = family
        self.heals = heals  # scripts then hold the healed text too, which is checked and not yielded
        self.prompts: list[str] = []
        self.options: list[GenOptions] = []
        self.last_stats = EngineStats()
        self.stopped = 0

    def push(self, output: list[str] | str) -> None:
        """Queue the output of a future `generate` call."""
        self.outputs.put(output)

    def generate(self, prompt: str, options: GenOptions, stop_flag: threading.Event) -> Iterator[str]:
        self.prompts.append(prompt)
        self.options.append(options)
        try:
            output = self.outputs.get_nowait()
        except queue.Empty:
            output = []
        pieces = list(output)  # a list of pieces, or a string: one piece per character
        self.last_stats = EngineStats(prompt_tokens=self.count_tokens(prompt))
        if options.heal:
            pieces, self.last_stats.generated_tokens = _healed(pieces, options.heal, self.heals)
        emitted = 0
        for n, piece in enumerate(pieces):
            if stop_flag.is_set() or n >= options.max_tokens:
                self.stopped += stop_flag.is_set()
                return
            if self.delay:
                time.sleep(self.delay)
            if stop_flag.is_set():
                self.stopped += 1
                return
            self.last_stats.generated_tokens += 1
            # a scripted confidence: -0.1 per piece, -3.0 for a piece of an uppercase "X"
            self.last_stats.token_logprobs.append((emitted, -3.0 if "X" in piece else -0.1))
            emitted += len(piece)
            yield piece

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def close(self) -> None:
        pass


def _healed(pieces: list[str], heal: str, heals: bool) -> tuple[list[str], int]:
    """The pieces after the healed text they must start with (as a healing engine writes them), and
    how many pieces lay wholly inside it (tokens generated before the first yielded piece)."""
    if not heals:
        raise ValueError("GenOptions.heal given to an engine that does not heal")
    text = "".join(pieces)
    if not text.startswith(heal):
        raise ValueError(f"a scripted output {text[:40]!r} that does not start with the healed {heal!r}")
    out, left, inside = [], len(heal), 0
    for piece in pieces:
        cut = min(left, len(piece))
        left -= cut
        if piece[cut:]:
            out.append(piece[cut:])
        else:
            inside += 1
    return out, inside
