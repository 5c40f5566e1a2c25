"""Owns the engine and the completer: builds them from options, off the event loop, and reports state."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from context.assemble import ContextConfig
from context.prompt import PromptOptions

from .engines.base import Engine
from .errors import TacitError
from .models import family_of, resolve_model
from .options import Options
from .pacing import Pacer
from .pipeline.generate import Generation
from .pipeline.orchestrator import Completer, CompletionSettings

log = logging.getLogger(__name__)


def settings_from(opts: Options) -> CompletionSettings:
    """The pipeline's settings from the server options."""
    c = opts.completion
    return CompletionSettings(
        enabled=opts.enabled, disabled_languages=list(opts.disabled_languages), max_tokens=c.max_tokens,
        max_lines=c.max_lines, debounce_ms=c.debounce_ms, token_healing=c.token_healing,
        max_file_chars=c.max_file_chars, max_prompt_tokens=c.max_prompt_tokens, log_prompts=opts.log_prompts,
        context=ContextConfig(definitions="definitions" in opts.context.sources,
                              usages="usages" in opts.context.sources,
                              similar="similar" in opts.context.sources, edits="edits" in opts.context.sources,
                              scopes="scopes" in opts.context.sources, budget_tokens=opts.context.budget_tokens,
                              refresh_s=opts.context.refresh_s, selective=opts.context.selective),
        prompt=PromptOptions(prefix_chars=c.prefix_chars, prefix_keep_chars=max(1, c.prefix_chars * 2 // 3),
                             suffix_chars=c.suffix_chars, suffix_lines=c.suffix_lines))


def engine_key(opts: Options) -> tuple:
    """What identifies an engine: options that need a reload when they change."""
    if opts.engine == "remote":
        r = opts.remote
        return ("remote", r.url, r.model, r.api_key, r.timeout_ms, r.family)
    m = opts.model
    return ("llama", m.path, m.context_size, m.threads, m.saved_states_mb)


def make_engine(opts: Options) -> Engine:
    """Build the engine the options ask for (blocking: loads the model)."""
    if opts.engine == "remote":
        from .engines.remote import RemoteEngine

        r = opts.remote
        return RemoteEngine(r.url, r.model, r.api_key, r.timeout_ms, r.family or None)
    from .engines.llama import LlamaEngine

    path = resolve_model(opts.model.path)
    m = opts.model
    return LlamaEngine(path, n_ctx=m.context_size, n_threads=m.threads or None,
                       family=family_of(path), saved_states_mb=m.saved_states_mb)


RETRY_S = 10.0  # how often a request may retry an engine that failed to load
ADAPTER_POLL_S = 2.0  # how often requests look for a newly activated adapter (one stat of active.json)


class EngineHost:
    """The current engine and completer, swapped atomically when options change."""

    def __init__(self, status: Callable[..., None], on_updated: Callable[[Generation], None],
                 record: Callable[[dict], None], report: Callable[[str], None],
                 sources: Callable | None = None, pacer: Pacer | None = None) -> None:
        self.status = status
        self.pacer = pacer  # generations mark the model busy there (background indexing gives way)
        self.on_updated = on_updated
        self.record = record
        self.report = report
        self.sources = sources
        self.completer: Completer | None = None
        self.key: tuple | None = None
        self.error: str | None = None
        self.failed_at = 0.0
        self.workspace: Path | None = None  # the first workspace folder: whose adapters "auto" uses
        self.adapter: str | None = None  # id (or file name) of the adapter applied now
        self._adapter_checked = 0.0
        self._adapter_failed: Path | None = None
        self._lock = asyncio.Lock()

    async def apply(self, opts: Options) -> None:
        """Load (or keep) the engine for `opts` and update the pipeline's settings."""
        async with self._lock:
            key = engine_key(opts)
            if self.completer is not None and key == self.key:
                self.completer.settings = settings_from(opts)
                await self._apply_adapter(opts)  # `model.adapter` may have changed
                return
            self.status("loading", f"loading {opts.engine} engine")
            loop = asyncio.get_running_loop()
            try:
                engine = await loop.run_in_executor(None, make_engine, opts)
            except TacitError as exc:
                self._drop()
                self.key, self.error, self.failed_at = key, str(exc), time.monotonic()
                self.status("error", str(exc))
                self.report(str(exc))
                return
            self._drop()
            self.completer = Completer(engine, settings_from(opts), self.on_updated, self.record,
                                       self._engine_state, self.sources, self.pacer)
            self.key, self.error, self.adapter, self._adapter_failed = key, None, None, None
            await self._apply_adapter(opts, announce=False)
            self.status("ready", self.ready_message(), model=describe(engine))

    async def retry(self, opts: Options) -> None:
        """After a failed load, try again now and then (the model file may have appeared or been fixed)."""
        if self.completer is not None or self.error is None or time.monotonic() - self.failed_at < RETRY_S:
            return
        self.key = None
        await self.apply(opts)

    def wanted_adapter(self, opts: Options) -> tuple[str | None, Path | None]:
        """(id, file) of the adapter the options ask for; (None, None) for the base model."""
        choice = opts.model.adapter
        engine = self.completer.engine if self.completer is not None else None
        if opts.engine == "remote" or choice in ("none", "") or engine is None:
            return None, None
        if choice != "auto":
            path = Path(choice).expanduser()
            return path.name, path
        if self.workspace is None:
            return None, None
        from tuning import adapters

        found = adapters.active(self.workspace)
        model = getattr(engine, "model_path", None)
        if found is None or model is None or found.base_model != model.name:
            return None, None  # an adapter only fits the model it was trained on
        return found.id, found.path

    async def sync_adapter(self, opts: Options) -> None:
        """Hot-swap the adapter when the workspace's active one changed (checked every few seconds)."""
        if time.monotonic() - self._adapter_checked < ADAPTER_POLL_S or self._lock.locked():
            return
        async with self._lock:
            await self._apply_adapter(opts)

    def ready_message(self) -> str:
        name = self.completer.engine.name if self.completer is not None else "engine"
        return f"{name} ready" + (f", adapter {self.adapter}" if self.adapter else "")

    async def _apply_adapter(self, opts: Options, announce: bool = True) -> None:
        self._adapter_checked = time.monotonic()
        completer = self.completer
        engine = completer.engine if completer is not None else None
        if engine is None or not hasattr(engine, "set_adapter"):
            return
        adapter_id, path = self.wanted_adapter(opts)
        if path == engine.adapter_path or (path is not None and path == self._adapter_failed):
            return
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, engine.set_adapter, path)
        except TacitError as exc:
            self._adapter_failed = path
            self.report(f"adapter not applied, using the model without it: {exc}")
            return
        completer.drop_generations()
        self.adapter = adapter_id
        log.info("adapter %s applied", adapter_id or "(none)")
        if announce:
            self.status("ready", self.ready_message(), model=describe(engine))

    def _engine_state(self, state: str, message: str) -> None:
        if state == "error":
            self.report(message)
        self.status(state, message)

    def _drop(self) -> None:
        if self.completer is not None:
            if self.completer.shutdown():
                self.completer.engine.close()
            else:  # still inside the engine: leaking it beats freeing memory it is using
                log.warning("the engine did not stop in time; not freeing it")
            self.completer = None

    def shutdown(self) -> None:
        """Stop generating and release the model."""
        self._drop()


def describe(engine: Engine) -> str:
    """A short name of the model behind an engine."""
    path = getattr(engine, "model_path", None)
    return path.name if path is not None else getattr(engine, "url", engine.name)
