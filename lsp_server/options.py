"""Server options: nested dataclasses with defaults, read from camelCase JSON.

Options arrive in `initializationOptions` and `workspace/didChangeConfiguration`
(under a `tacit` key or bare). Anything invalid falls back to its default and is
reported once, so a typo never disables the server.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ModelOptions:
    path: str | None = None  # a manifest name or a GGUF path; None: the user's default
    context_size: int = 4096
    threads: int = 0  # 0: all cores
    saved_states_mb: int = 256  # KV caches of other files' prompts kept in memory to come back to (0: none)
    adapter: str = "auto"  # "auto": the workspace's active adapter (`tacit tune model`); "none"; or a GGUF path


@dataclass
class RemoteOptions:
    url: str = ""  # an OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1
    model: str = ""
    api_key: str = ""
    timeout_ms: int = 15000
    family: str = "qwen2.5-coder"  # prompt template the remote model expects


@dataclass
class CompletionOptions:
    max_tokens: int = 96
    max_lines: int = 12
    debounce_ms: int = 0
    max_file_chars: int = 1_000_000
    max_prompt_tokens: int = 2048  # 0: no limit
    prefix_chars: int = 8000
    suffix_chars: int = 48
    suffix_lines: int = 0  # lines after the cursor's own line in the prompt (the rest of that line always goes in)
    token_healing: bool = True  # the embedded engine re-writes the word before the cursor (pipeline/heal.py)


@dataclass
class ContextOptions:
    index: bool = True  # index the workspace folders (definitions, imports) on initialize
    watch: bool = True  # keep the index current with a file watcher (changes made outside the editor)
    max_file_bytes: int = 1_000_000
    max_files: int = 10_000  # the index never holds more (0: no limit); a build past it prefers recent files
    yield_to_model: bool = True  # background indexing waits while the model generates (`lsp_server.pacing`)
    sources: list[str] = field(default_factory=lambda: ["definitions", "usages", "similar", "edits", "scopes"])
    budget_tokens: int = 400  # prompt tokens for context snippets
    refresh_s: int = 20  # rebuild a document's snippet block at most this often (it costs a re-read)
    # "call": other files' snippets only inside a call of a function another workspace file defines;
    # "callee": there, that function's definition and callers only; "off": wherever symbols are near
    selective: str = "off"


@dataclass
class SignalOptions:
    record: bool = True  # keep suggestions and their signals in the local event store (never sent anywhere)
    database: str = ""  # "": events.db in the user's data directory
    retention_seconds: list[int] = field(default_factory=lambda: [15, 30, 120, 300, 600])
    max_days: int = 90
    max_suggestions: int = 100_000
    store_prompts: bool = True  # the prompt (secrets redacted) goes with each suggestion, for tuning
    use_filter: bool = True  # withhold suggestions the installed acceptance filter (`tacit tune filter`) rejects


@dataclass
class Options:
    enabled: bool = True
    engine: str = "llama"  # "llama" (embedded) or "remote"
    disabled_languages: list[str] = field(default_factory=list)
    model: ModelOptions = field(default_factory=ModelOptions)
    remote: RemoteOptions = field(default_factory=RemoteOptions)
    completion: CompletionOptions = field(default_factory=CompletionOptions)
    context: ContextOptions = field(default_factory=ContextOptions)
    signals: SignalOptions = field(default_factory=SignalOptions)
    log_file: str = ""
    log_prompts: bool = False


ENGINES = ("llama", "remote")
SELECTIVE = ("off", "call", "callee")
CONTEXT_SOURCES = ("definitions", "usages", "similar", "edits", "scopes")


def camel(name: str) -> str:
    """snake_case -> camelCase."""
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def snake(name: str) -> str:
    """camelCase -> snake_case."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _check(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        return any(_check(value, arg) for arg in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool) and -(2**53) <= value <= 2**53
    if tp is str:
        return isinstance(value, str)
    if origin is list:
        (item,) = typing.get_args(tp)
        return isinstance(value, list) and all(_check(v, item) for v in value)
    return False


def _merge(target: Any, data: Any, path: str, errors: list[str]) -> None:
    if not isinstance(data, dict):
        errors.append(f"{path or 'options'}: expected an object, got {type(data).__name__}")
        return
    hints = typing.get_type_hints(type(target))
    fields = {f.name: f for f in dataclasses.fields(target)}
    for key, value in data.items():
        name = snake(key) if isinstance(key, str) else None
        where = f"{path}.{key}" if path else str(key)
        if name not in fields:
            errors.append(f"{where}: unknown option")
            continue
        tp = hints[name]
        if dataclasses.is_dataclass(tp):
            _merge(getattr(target, name), value, where, errors)
        elif _check(value, tp):
            setattr(target, name, value)
        else:
            errors.append(f"{where}: invalid value {value!r}")


def _validate(opts: Options, errors: list[str]) -> None:
    defaults = Options()
    if opts.engine not in ENGINES:
        errors.append(f"engine: must be one of {', '.join(ENGINES)}, got {opts.engine!r}")
        opts.engine = defaults.engine
    for group in (opts.model, opts.remote, opts.completion, opts.context, opts.signals):
        fresh = type(group)()
        for f in dataclasses.fields(group):
            value = getattr(group, f.name)
            if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                errors.append(f"{camel(f.name)}: must not be negative, got {value}")
                setattr(group, f.name, getattr(fresh, f.name))
    unknown = [s for s in opts.context.sources if s not in CONTEXT_SOURCES]
    if unknown:
        errors.append(f"context.sources: unknown {unknown}; known: {', '.join(CONTEXT_SOURCES)}")
        opts.context.sources = [s for s in opts.context.sources if s in CONTEXT_SOURCES]
    if opts.context.selective not in SELECTIVE:
        errors.append(f"context.selective: one of {', '.join(SELECTIVE)}, got {opts.context.selective!r}")
        opts.context.selective = defaults.context.selective
    if any(s <= 0 for s in opts.signals.retention_seconds):
        errors.append("signals.retentionSeconds: times must be positive")
        opts.signals.retention_seconds = defaults.signals.retention_seconds
    if opts.completion.max_tokens == 0:
        errors.append("completion.maxTokens: must be positive")
        opts.completion.max_tokens = defaults.completion.max_tokens
    if opts.engine == "remote" and not opts.remote.url.startswith(("http://", "https://")):
        errors.append(f"remote.url: an http(s) URL is required for the remote engine, got {opts.remote.url!r}")
        opts.engine = defaults.engine


def parse_options(data: Any, base: Options | None = None) -> tuple[Options, list[str]]:
    """Options from client JSON (None or {} gives defaults), plus what was wrong with it."""
    opts = dataclasses.replace(base) if base is not None else Options()
    if base is not None:  # deep copy the groups so `base` is untouched
        opts.model = dataclasses.replace(base.model)
        opts.remote = dataclasses.replace(base.remote)
        opts.completion = dataclasses.replace(base.completion)
        opts.context = dataclasses.replace(base.context, sources=list(base.context.sources))
        opts.signals = dataclasses.replace(base.signals, retention_seconds=list(base.signals.retention_seconds))
        opts.disabled_languages = list(base.disabled_languages)
    errors: list[str] = []
    if data is None:
        return opts, errors
    if isinstance(data, dict) and isinstance(data.get("tacit"), dict):
        data = data["tacit"]
    _merge(opts, data, "", errors)
    _validate(opts, errors)
    return opts, errors


def to_json(opts: Options) -> dict:
    """camelCase JSON of the options (for `tacit/status` and docs)."""
    def conv(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            return {camel(f.name): conv(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return obj
    return conv(opts)
