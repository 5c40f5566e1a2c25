"""The engine interface every model backend implements.

`generate(prompt, options, stop_flag)` yields text pieces as the model produces them.
It runs in a worker thread; setting `stop_flag` makes it return within one token (engines
that prefill a durable prompt head first finish that head unless `abort_prefill` is set).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol


class StopFlag(threading.Event):
    """A threading.Event that also calls its listeners when it is set.

    The llama engine mirrors a StopFlag into a byte that llama.cpp's abort check reads in C, so a
    prefill stops within one graph step without calling into Python on every step (which would
    take the GIL from the server's thread). A plain Event works too, through a slower check."""

    def __init__(self) -> None:
        super().__init__()
        self._listeners: list[Callable[[StopFlag], None]] = []
        self._listeners_lock = threading.Lock()

    def set(self) -> None:
        super().set()
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(self)

    def add_listener(self, listener: Callable[[StopFlag], None]) -> None:
        with self._listeners_lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[StopFlag], None]) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)


@dataclass
class GenOptions:
    """What to generate: budget and stop strings."""

    max_tokens: int = 96
    stop: list[str] = field(default_factory=list)
    temperature: float = 0.0
    # The first `head_chars` characters of the prompt (the document up to the cursor) are
    # "durable": their prefill is shared with the next keystroke's prompt, so a superseded
    # request does not abort it; only `abort_prefill` does.
    head_chars: int = 0
    abort_prefill: threading.Event | None = None
    # Token healing (`lsp_server.pipeline.heal`): text the prompt left out at the cursor. The output must
    # start with it and the engine yields only what follows it. Only engines with `heals` get one.
    heal: str = ""
    # Which document the prompt is for: an engine that keeps KV caches to come back to (LlamaEngine) keeps
    # one per document, the latest, as a developer moves between files.
    document: str = ""


@dataclass
class EngineStats:
    """Figures about the last generation, for logs and benchmarks."""

    prompt_tokens: int = 0
    reused_tokens: int = 0  # of them, already in the KV cache (`restored_tokens` included)
    restored_tokens: int = 0  # of them, brought back from a saved state (an earlier file's prompt)
    generated_tokens: int = 0
    first_token_ms: float = 0.0
    total_ms: float = 0.0
    mean_logprob: float | None = None
    # (characters of output before the token, its log-probability), per generated token: what the
    # acceptance filter reads the model's confidence in the shown part of a suggestion from
    token_logprobs: list[tuple[int, float]] = field(default_factory=list)


def confidence(token_logprobs: list[tuple[int, float]], start: int, end: int) -> dict[str, float] | None:
    """The model's confidence in characters `start:end` of its output (the part shown): the first,
    the lowest and the mean log-probability of the tokens that overlap them; None without any."""
    tokens = list(token_logprobs)
    if not tokens:  # an engine that reports no log-probabilities (remote)
        return None
    ends = [at for at, _ in tokens[1:]] + [end + 1]  # the last token may still be growing: it reaches on
    shown = [lp for (at, lp), stop in zip(tokens, ends, strict=True) if at < end and stop > start]
    if not shown:
        return None
    return {"first": shown[0], "min": min(shown), "mean": sum(shown) / len(shown)}


class Engine(Protocol):
    """A text generator behind Tacit."""

    name: str
    family: str | None
    last_stats: EngineStats
    heals: bool  # can force its output to start with GenOptions.heal

    def generate(self, prompt: str, options: GenOptions, stop_flag: threading.Event) -> Iterator[str]:
        """Yield generated text pieces until done, a stop string, max_tokens or `stop_flag`."""
        ...

    def count_tokens(self, text: str) -> int:
        """Number of tokens `text` costs in this engine's vocabulary."""
        ...

    def close(self) -> None:
        """Release the model."""
        ...
