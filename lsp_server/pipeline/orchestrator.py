"""The completion orchestrator: the stages, in order, top to bottom.

prefilter -> typing-through cache -> debounce -> syntax context -> prompt (indentation and token healed)
-> generate (stream, filters) -> wait for the first line -> postprocess -> respond.
Returning None means "show nothing".
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from context import assemble, syntax
from context import prompt as prompts

from ..engines.base import Engine, GenOptions
from ..pacing import Pacer
from . import filters, postprocess, prefilter
from . import heal as healing
from . import indent as indentation
from .generate import Generation, Generator
from .request import CompletionRequest, Suggestion

log = logging.getLogger("tacit.completion")

DIVERGED = object()  # the user typed something the generation did not predict
CANCEL_GRACE_S = 0.05


# A line longer than this is minified or generated code, and the model's line would not end before
# it stops (the first answer waited for the end of a line: 3 s on 2 cores). There a suggestion is
# shown statement by statement as the model writes it (each cut after `;` or `}` once it holds
# STATEMENT_CHARS characters), and is at most LONG_LINE_TOKENS tokens long.
LONG_LINE_CHARS = 1000
LONG_LINE_TOKENS = 24
STATEMENT_CHARS = 12


@dataclass
class CompletionSettings:
    """The subset of options the pipeline reads."""

    enabled: bool = True
    disabled_languages: list[str] = field(default_factory=list)
    max_tokens: int = 96
    max_lines: int = 12
    debounce_ms: int = 0
    undecided_chars: int = 12
    max_file_chars: int = 1_000_000
    max_prompt_tokens: int = 2048  # 0: no limit; each prompt token costs ~25 ms on a 2-core CPU when cold
    token_healing: bool = True  # a prompt never ends inside a word: the engine writes the word again (heal.py)
    prompt: prompts.PromptOptions = field(default_factory=prompts.PromptOptions)
    context: assemble.ContextConfig = field(default_factory=assemble.ContextConfig)
    log_prompts: bool = False


class Completer:
    """Turns completion requests into suggestions, sharing generations between keystrokes."""

    def __init__(self, engine: Engine, settings: CompletionSettings | None = None,
                 on_updated: Callable[[Generation], None] | None = None,
                 record: Callable[[dict], None] | None = None,
                 on_state: Callable[[str, str], None] | None = None,
                 sources: Callable[[CompletionRequest], assemble.Sources] | None = None,
                 pacer: Pacer | None = None) -> None:
        self.engine = engine
        self.settings = settings or CompletionSettings()
        self.generator = Generator(engine, pacer)
        self.template = prompts.template_for(engine.family)
        self.on_updated = on_updated
        self.record = record
        self.on_state = on_state
        self.engine_failed = False
        self.recent: dict[str, list[Generation]] = {}
        self.sources = sources or (lambda req: assemble.Sources(tree=req.syntax_tree()))
        self.blocks: dict[str, assemble.Block] = {}
        self.prompt_opts: dict[str, prompts.PromptOptions] = {}  # per-document windows shrunk to fit
        self.last_prompt: dict[str, tuple[str, prompts.Prompt]] = {}  # uri -> (suggestion id, prompt)
        self.seq: dict[str, int] = {}
        self._ids = itertools.count(1)

    # -- the pipeline ---------------------------------------------------------------
    async def complete(self, req: CompletionRequest) -> Suggestion | None:
        """The suggestion for a cursor, or None to show nothing."""
        s = self.settings
        t0 = req.received or time.perf_counter()
        seq = self.seq[req.uri] = self.seq.get(req.uri, 0) + 1

        reason = prefilter.skip_reason(req, s.enabled, s.disabled_languages, s.max_file_chars)
        if reason:
            self._log(req, None, "skipped", t0, reason=reason)
            return None

        hit = self._attach(req)
        if hit is not None:
            gen, typed = hit
            answer = await self._respond(req, gen, typed, t0, cached=True)
            if answer is not DIVERGED:
                return answer  # type: ignore[return-value]
            # the generation we waited for went another way than the user: start afresh

        if s.debounce_ms:
            await asyncio.sleep(s.debounce_ms / 1000)
            if self.seq[req.uri] != seq:
                self._log(req, None, "debounced", t0)
                return None

        cursor = self._cursor_context(req)
        t_prompt = time.perf_counter()
        prompt = self.build_prompt(req)
        build_ms = (time.perf_counter() - t_prompt) * 1000

        gen = Generation(f"tacit-{uuid.uuid4().hex[:12]}", req.uri, req.prefix, req.suffix, cursor.mode)
        gen.statements = len(req.line_text) > LONG_LINE_CHARS
        gen.sources = prompt.sources
        gen.left_out = prompt.indent
        self.last_prompt[req.uri] = (gen.id, prompt)
        gen.on_done.append(self._finished)
        options = GenOptions(max_tokens=min(s.max_tokens, LONG_LINE_TOKENS) if gen.statements else s.max_tokens,
                             stop=list(self.template.stops), head_chars=prompt.head_chars, heal=prompt.heal,
                             document=req.uri)
        chain = partial(self._filters, cursor=cursor, req=req, template=self.template, left_out=prompt.indent,
                        statements_after=STATEMENT_CHARS if gen.statements else 0)
        self._remember(gen)
        self._state("generating", "")
        self.generator.start(gen, prompt.text, options, chain)
        gen.build_ms = build_ms  # type: ignore[attr-defined]
        if s.log_prompts:
            gen.prompt_text = prompt.text  # type: ignore[attr-defined]
        answer = await self._respond(req, gen, "", t0, cached=False)
        return None if answer is DIVERGED else answer  # type: ignore[return-value]

    def build_prompt(self, req: CompletionRequest) -> prompts.Prompt:
        """The prompt for a request, with context; keeps each document's snippet block stable."""
        s = self.settings
        block = self.blocks.get(req.uri)
        opts = self.prompt_opts.get(req.uri, s.prompt)
        text, offset, indent = indentation.cut(req.text, req.offset)  # never end mid-token in the indentation
        heal = healing.tail(text, offset) if s.token_healing and getattr(self.engine, "heals", False) else ""
        while True:
            prompt, block = assemble.build(
                self.template, text, offset, req.path or req.uri.rsplit("/", 1)[-1], req.language_id,
                s.context, self.sources(req), opts, self.engine.count_tokens, block=block,
                anchor=block.anchor if block else None, heal=heal)  # nor inside a word
            # head and tail apart, as the engine reads them (the two parts' tokens, remembered for it)
            count, head = self.engine.count_tokens, prompt.head_chars
            tokens = count(prompt.text[head:]) + count(prompt.text[:head]) if s.max_prompt_tokens else 0
            if tokens <= s.max_prompt_tokens or opts.prefix_chars <= 600:
                break
            # Dense text (numbers, data) packs more tokens per character than code: shrink this document's
            # window for good (kept per document, so the window stays stable for the KV cache).
            scale = 0.9 * s.max_prompt_tokens / tokens
            opts = dataclasses.replace(opts, prefix_chars=max(600, int(opts.prefix_chars * scale)),
                                       prefix_keep_chars=max(400, int(opts.prefix_keep_chars * scale)))
            self.prompt_opts[req.uri] = opts
            block = None
        self.blocks[req.uri] = block
        return dataclasses.replace(prompt, indent=indent)

    def _attach(self, req: CompletionRequest) -> tuple[Generation, str] | None:
        """A recent or running generation this request can be served from, if any."""
        for gen in reversed(self.recent.get(req.uri, [])):
            typed = gen.typed_since(req.prefix, req.suffix)
            if typed is None:
                continue
            rest = gen.remaining(typed)
            if rest is None or (gen.done and not rest.strip()):
                continue
            if gen.done and gen.stopped and not gen.text:
                continue
            # Undecided (the model has not got that far yet): waiting for it is cheaper than
            # starting again, which re-reads the prompt's tail, unless the user is well past it.
            undecided = not gen.done and not gen.text.startswith(typed)
            if undecided and (gen.stop_flag.is_set()
                              or len(typed) - len(gen.text) > self.settings.undecided_chars):
                continue
            return gen, typed
        return None

    def _cursor_context(self, req: CompletionRequest) -> syntax.CursorContext:
        tree = req.syntax_tree()
        if tree is None and req.language_id in syntax.GRAMMARS:
            tree = syntax.parse(req.language_id, req.text)
        line_text = req.line_text
        col_bytes = len(line_text[: req.character].encode("utf-8", "surrogatepass"))
        return syntax.classify(req.language_id, tree, line_text, req.character, req.line, col_bytes)

    def _filters(self, pieces, *, cursor: syntax.CursorContext, req: CompletionRequest,
                 template: prompts.Template, left_out: str, statements_after: int = 0):
        """The output filter chain. Line mode still generates the following lines of the block:
        only the first is shown, the rest is kept for typing through. `left_out`: the indentation
        character the prompt left for the model to write (`Prompt.indent`). `statements_after`: a
        long line's statements are lines too (`filters.lines`)."""
        s = self.settings
        stream = filters.lines(filters.stop_strings(pieces, list(template.stops)), statements_after)
        stream = indentation.strip(stream, left_out)
        stream = filters.block_end(stream, cursor.base_indent, req.language_id in syntax.INDENT_LANGUAGES)
        stream = filters.max_lines(stream, s.max_lines)
        stream = filters.stop_at_suffix(stream, req.suffix)
        stream = filters.stop_at_prefix_header(stream, req.prefix)
        previous = req.prefix.rsplit("\n", 2)[-2] if cursor.blank_line and "\n" in req.prefix else ""
        return filters.repeated_lines(stream, previous)

    async def _respond(self, req: CompletionRequest, gen: Generation, typed: str, t0: float,
                       cached: bool) -> Suggestion | object | None:
        """Wait for `gen` to have something after `typed`; DIVERGED when it went elsewhere."""
        cached = cached and gen.ready_after(typed)  # answered without waiting for the model
        gen.waiters += 1
        try:
            await gen.wait_ready(typed)
        except asyncio.CancelledError:
            gen.waiters -= 1
            if gen.waiters == 0 and not gen.served_partial and not gen.done:
                # Editors cancel the old request just before sending the next keystroke's:
                # give that one a moment (about one token) to attach before stopping.
                asyncio.get_running_loop().call_later(CANCEL_GRACE_S, self._stop_if_orphaned, gen)
            self._log(req, gen, "cancelled", t0)
            raise
        gen.waiters -= 1
        if gen.error is None and gen.remaining(typed) is None:
            self._log(req, gen, "diverged", t0, cache=cached)
            return DIVERGED
        shown = gen.shown(typed)
        if shown is None or gen.error is not None:
            self._log(req, gen, "error" if gen.error else "empty", t0,
                      reason=repr(gen.error) if gen.error else None)
            return None
        text, complete = shown
        line_after = req.line_text[req.character:]
        final = postprocess.finalize(text, line_after, req.suffix, complete)
        latency = (time.perf_counter() - t0) * 1000
        if final is None:
            self._log(req, gen, "empty", t0, cache=cached)
            return None
        text, replace = final
        if not complete:
            gen.served_partial = True
        self._log(req, gen, "served", t0, cache=cached, chars=len(text), complete=complete)
        return Suggestion(id=gen.id, text=text, start=req.offset, end=req.offset + replace,
                          complete=complete, from_cache=cached, sources=gen.sources, latency_ms=latency,
                          mode=gen.mode, confidence=gen.confidence(typed, text))

    # -- bookkeeping ----------------------------------------------------------------
    @staticmethod
    def _stop_if_orphaned(gen: Generation) -> None:
        if gen.waiters == 0 and not gen.served_partial and not gen.done:
            gen.stop()

    def _remember(self, gen: Generation) -> None:
        recent = self.recent.setdefault(gen.uri, [])
        recent.append(gen)
        del recent[:-4]

    def _state(self, state: str, message: str) -> None:
        if self.on_state is not None:
            self.on_state(state, message)

    def _finished(self, gen: Generation) -> None:
        self._log_generation(gen)
        if gen.error is not None:
            self.engine_failed = True
            self._state("error", f"the {self.engine.name} engine failed: {gen.error}")
        elif self.generator.current is gen or self.engine_failed:
            self.engine_failed = False
            self._state("ready", f"{self.engine.name} ready")
        if gen.served_partial and gen.error is None and self.on_updated is not None:
            self.on_updated(gen)

    def forget(self, uri: str) -> None:
        """Drop state for a closed document, stopping its generation."""
        for gen in self.recent.pop(uri, []):
            gen.stop(hard=True)
        self.blocks.pop(uri, None)
        self.prompt_opts.pop(uri, None)
        self.last_prompt.pop(uri, None)
        self.seq.pop(uri, None)

    def drop_generations(self) -> None:
        """Forget every generation (the model changed: what they hold would be served stale)."""
        for gens in self.recent.values():
            for gen in gens:
                gen.stop(hard=True)
        self.recent.clear()

    def shutdown(self) -> bool:
        """Stop generating; True when the engine is idle and may be freed."""
        return self.generator.shutdown()

    def _log(self, req: CompletionRequest, gen: Generation | None, outcome: str, t0: float, **extra) -> None:
        entry = {"event": "request", "n": next(self._ids), "uri": req.uri, "offset": req.offset,
                 "outcome": outcome, "latency_ms": round((time.perf_counter() - t0) * 1000, 2),
                 "id": gen.id if gen else None, "mode": gen.mode if gen else None}
        entry.update({k: v for k, v in extra.items() if v is not None})
        self._emit(entry)

    def _log_generation(self, gen: Generation) -> None:
        st = gen.stats
        entry = {"event": "generation", "id": gen.id, "uri": gen.uri, "mode": gen.mode,
                 "prompt_tokens": st.prompt_tokens, "reused_tokens": st.reused_tokens,
                 "restored_tokens": st.restored_tokens,
                 "prefilled_tokens": st.prompt_tokens - st.reused_tokens,
                 "generated_tokens": st.generated_tokens, "engine_first_token_ms": round(st.first_token_ms, 2),
                 "engine_ms": round(st.total_ms, 2), "build_prompt_ms": round(getattr(gen, "build_ms", 0.0), 3),
                 "first_line_ms": round(gen.first_ms, 2) if gen.first_ms is not None else None,
                 "first_line_tokens": gen.first_line_tokens,
                 "full_ms": round(gen.full_ms or 0.0, 2), "stopped": gen.stopped,
                 "error": repr(gen.error) if gen.error else None, "chars": len(gen.text),
                 "sources": gen.sources}
        if hasattr(gen, "prompt_text"):
            entry["prompt"] = gen.prompt_text  # type: ignore[attr-defined]
        self._emit(entry)

    def _emit(self, entry: dict) -> None:
        if self.record is not None:
            self.record(entry)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(json.dumps(entry))
