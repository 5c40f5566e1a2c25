"""Generate stage: run the engine in a worker thread, filter its stream, share the result.

A `Generation` is one model run for one cursor position. Requests that arrive while it
runs, or later, attach to it when the user has typed text it predicted (typing through),
so they are served without the model. At most one generation runs per engine: starting a
new one stops the previous one (its stop flag also aborts a prefill in progress).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator

from ..engines.base import Engine, EngineStats, GenOptions, StopFlag, confidence
from ..pacing import Pacer

log = logging.getLogger(__name__)

FilterChain = Callable[[Iterable[str]], Iterator[str]]


class Generation:
    """The shared, growing output of one model run."""

    def __init__(self, gid: str, uri: str, prefix: str, suffix: str, mode: str) -> None:
        self.id = gid
        self.uri = uri
        self.prefix = prefix
        self.suffix = suffix
        self.mode = mode
        self.text = ""  # filtered output: whole lines (and the tail once done)
        self.raw = ""  # unfiltered model output so far, to notice early that the user diverged
        self.done = False
        self.stopped = False
        self.error: BaseException | None = None
        self.stats = EngineStats()  # the engine's figures for this run, live from its first token
        self.left_out = ""  # the indentation character the prompt left out: the output starts with it
        self.stop_flag = StopFlag()
        self.abort_prefill = StopFlag()
        self.started = time.perf_counter()
        self.first_ms: float | None = None
        self.first_line_tokens: int | None = None  # model tokens consumed when the first line was ready
        self.full_ms: float | None = None
        self.served_partial = False
        self.statements = False  # a long line: its statements are shown as they come (line mode)
        self.waiters = 0
        self.sources: list[str] = []
        self.on_done: list[Callable[[Generation], None]] = []
        self._changed = asyncio.Event()

    def typed_since(self, prefix: str, suffix: str) -> str | None:
        """What the user typed since this generation's cursor, if it may still apply."""
        if suffix != self.suffix or not prefix.startswith(self.prefix):
            return None
        return prefix[len(self.prefix):]

    def remaining(self, typed: str) -> str | None:
        """The rest of the suggestion after `typed`, or None when `typed` diverged from it."""
        if self.text.startswith(typed):
            return self.text[len(typed):]
        if not self.done and (self.raw.startswith(typed) or typed.startswith(self.raw)):
            return ""  # not decided yet: the model has not produced that far
        return None

    def shown(self, typed: str) -> tuple[str, bool] | None:
        """What to show after `typed`: (text, complete), or None while nothing useful is ready.

        Line mode shows the rest of the current line (the lines after it stay cached for
        typing through), or on a long line its statements so far; block mode shows every complete
        line so far, then the whole block.
        """
        rest = self.remaining(typed)
        if rest is None:
            return None
        if self.mode == "line" or self.statements:  # a long line's statements: block mode has no lines
            if "\n" in rest:
                return rest[: rest.index("\n")], True
            if self.done:
                return rest, True
            return (rest, False) if self.statements and rest.strip() else None
        if self.done:
            return rest, True
        complete = rest[: rest.rfind("\n") + 1]
        return (complete, False) if complete.strip() else None

    def ready_after(self, typed: str) -> bool:
        """True when there is something to answer after `typed` (or it never will be)."""
        return self.done or self.remaining(typed) is None or self.shown(typed) is not None

    async def wait_ready(self, typed: str) -> None:
        """Wait until `ready_after(typed)`."""
        while not self.ready_after(typed):
            self._changed.clear()
            await self._changed.wait()

    async def wait_done(self) -> None:
        """Wait until the generation has finished."""
        while not self.done:
            self._changed.clear()
            await self._changed.wait()

    def confidence(self, typed: str, shown: str) -> dict[str, float] | None:
        """The model's confidence in `shown`, served after `typed` (engines.base.confidence). The
        output starts with the indentation character the prompt left out, when the model wrote it."""
        start = len(typed) + (len(self.left_out) if self.raw.startswith(self.left_out) else 0)
        return confidence(self.stats.token_logprobs, start, start + len(shown))

    def stop(self, hard: bool = False) -> None:
        """Stop generating within one token; `hard` also aborts the shared prompt prefill."""
        self.stop_flag.set()
        if hard:
            self.abort_prefill.set()

    # Called on the event loop thread by the worker (through call_soon_threadsafe).
    def _peek(self, raw: str) -> None:
        self.raw = raw
        self._changed.set()

    def _append(self, line: str, pieces: int = 0) -> None:
        self.text += line
        if self.first_ms is None and self.text.strip():
            self.first_ms = (time.perf_counter() - self.started) * 1000
            self.first_line_tokens = pieces
        self._changed.set()

    def _finish(self, stats: EngineStats, error: BaseException | None) -> None:
        self.stats = stats
        self.error = error
        self.stopped = self.stop_flag.is_set()
        self.done = True
        self.full_ms = (time.perf_counter() - self.started) * 1000
        self._changed.set()
        for callback in self.on_done:
            try:
                callback(self)
            except Exception:  # a listener must not break the stream
                log.exception("generation listener failed")


class Generator:
    """Runs generations for one engine on one worker thread, newest first."""

    def __init__(self, engine: Engine, pacer: Pacer | None = None) -> None:
        self.engine = engine
        self.pacer = pacer  # told while a generation runs: background indexing gives way
        self.current: Generation | None = None
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tacit-gen")

    def start(self, gen: Generation, prompt: str, options: GenOptions, chain: FilterChain) -> Generation:
        """Stop whatever runs and queue `gen`."""
        old = self.current
        if old is not None and not old.done:
            # The old prompt's head is (nearly) the new one's when both are in one document:
            # let its prefill finish, it is work the new request needs too.
            old.stop(hard=old.uri != gen.uri)
        options.abort_prefill = gen.abort_prefill
        self.current = gen
        loop = asyncio.get_running_loop()
        self._pool.submit(self._run, loop, gen, prompt, options, chain)
        return gen

    def _run(self, loop: asyncio.AbstractEventLoop, gen: Generation, prompt: str,
             options: GenOptions, chain: FilterChain) -> None:
        with self.pacer.busy() if self.pacer is not None else contextlib.nullcontext():
            self._generate(loop, gen, prompt, options, chain)

    def _generate(self, loop: asyncio.AbstractEventLoop, gen: Generation, prompt: str,
                  options: GenOptions, chain: FilterChain) -> None:
        error: BaseException | None = None
        stats = EngineStats()
        if not gen.stop_flag.is_set():
            pieces = self.engine.generate(prompt, options, gen.stop_flag)

            consumed = [0]

            def tap(stream: Iterable[str]) -> Iterator[str]:
                raw = ""
                for piece in stream:
                    raw += piece
                    if not consumed[0]:  # the engine's stats object of this run, growing as it runs
                        gen.stats = self.engine.last_stats
                    # model tokens so far: a healing engine wrote some before its first piece
                    consumed[0] = max(consumed[0] + 1, gen.stats.generated_tokens)
                    loop.call_soon_threadsafe(gen._peek, raw)
                    yield piece

            try:
                for line in chain(tap(pieces)):
                    if gen.stop_flag.is_set():
                        break
                    loop.call_soon_threadsafe(gen._append, line, consumed[0])
            except Exception as exc:  # reported through the generation
                error = exc
            finally:
                with contextlib.suppress(Exception):
                    pieces.close()  # type: ignore[attr-defined]
                stats = self.engine.last_stats
        with contextlib.suppress(RuntimeError):  # loop closed at shutdown
            loop.call_soon_threadsafe(gen._finish, stats, error)

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Stop the current generation and the worker; True once the worker has let go of the engine
        (only then may the engine be freed: freeing it under a running decode crashes the process)."""
        if self.current is not None:
            self.current.stop(hard=True)
        self._pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + timeout
        threads = list(getattr(self._pool, "_threads", ()))
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)
