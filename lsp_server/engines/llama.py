"""The embedded engine: llama.cpp through llama-cpp-python. The only module that imports llama_cpp.

Latency comes from KV-cache reuse: llama-cpp-python keeps the tokens it evaluated last
and only evaluates the part of a new prompt after the longest shared prefix. We also set
llama.cpp's abort callback to the request's stop flag, so even a long prefill stops within
one graph step when a request is cancelled or superseded.

llama.cpp calls that callback on every node of every graph, thousands of times per token. A
Python callback takes the GIL each time, competing with the server's other threads (measured by
bench/abort_check.py: 3.5% slower while another Python thread works). So the flag lives in a byte, written when a
StopFlag is set, and the callback is C code that reads it: libc's strlen over [flag, NUL] returns
0 or 1, exactly the bool the callback must return. The engine checks this at start and falls back
to the Python callback if it does not hold (and for plain threading.Events, which cannot notify).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import EngineError, ModelError
from ..models import check_gguf
from .base import EngineStats, GenOptions, StopFlag

log = logging.getLogger(__name__)


class LlamaEngine:
    """Generates with a local GGUF model, one generation at a time."""

    name = "llama.cpp"
    PREFILL_CHUNK = 256  # prompt tokens per llama_decode call in the durable prefill

    def __init__(self, model_path: Path, n_ctx: int = 4096, n_threads: int | None = None,
                 family: str | None = None) -> None:
        check_gguf(model_path)
        try:
            import llama_cpp
        except ImportError as exc:  # pragma: no cover - an install problem
            raise EngineError(f"llama-cpp-python is not installed: {exc}") from exc
        self._llama_cpp = llama_cpp
        self.model_path = model_path
        t0 = time.perf_counter()
        try:
            self.llm = llama_cpp.Llama(
                model_path=str(model_path), n_ctx=n_ctx, n_threads=n_threads or os.cpu_count() or 2,
                n_batch=256, verbose=False, swa_full=True)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"llama.cpp could not load {model_path}: {exc}") from exc
        self.load_ms = (time.perf_counter() - t0) * 1000
        self.architecture = self.llm.metadata.get("general.architecture", "")
        self.family = family or self._detect_family()
        self._vocab = llama_cpp.llama_model_get_vocab(self.llm._model.model)
        self.last_stats = EngineStats()
        self._lock = threading.Lock()
        self._adapter = None  # the llama_adapter_lora applied to the context, if any
        self.adapter_path: Path | None = None
        # The abort check: which flag it follows, and the byte a StopFlag is mirrored into.
        self._stop: threading.Event | None = None
        self._stop_lock = threading.Lock()
        self._abort_byte = ctypes.create_string_buffer(2)
        # Keep references to both ctypes callbacks for the life of the context.
        self._python_abort = llama_cpp.ggml_abort_callback(self._should_abort)
        self._native_abort = _native_abort_callback(llama_cpp.ggml_abort_callback)
        self._abort_native: bool | None = None  # which callback llama.cpp has now
        self._watch(None)

    def _should_abort(self, _data: ctypes.c_void_p) -> bool:
        stop = self._stop
        return bool(stop is not None and stop.is_set())

    def _watch(self, flag: threading.Event | None) -> None:
        """Make llama.cpp's abort check follow `flag` (None: never abort)."""
        native = self._native_abort is not None and (flag is None or isinstance(flag, StopFlag))
        with self._stop_lock:
            if isinstance(self._stop, StopFlag):
                self._stop.remove_listener(self._on_stop)
            self._stop = flag
            if native and flag is not None:
                flag.add_listener(self._on_stop)
            self._abort_byte[0] = bool(flag is not None and flag.is_set())
        if native != self._abort_native:
            callback = self._native_abort if native else self._python_abort
            self._llama_cpp.llama_set_abort_callback(self.llm._ctx.ctx, callback,
                                                     ctypes.addressof(self._abort_byte))
            self._abort_native = native

    def _on_stop(self, flag: StopFlag) -> None:
        """A watched StopFlag was set (on any thread): let the C check see it."""
        with self._stop_lock:
            if flag is self._stop:
                self._abort_byte[0] = 1

    def _detect_family(self) -> str | None:
        from context.prompt import PROBES

        for token, family in PROBES:
            if len(self.llm.tokenize(token.encode(), add_bos=False, special=True)) == 1:
                return family
        return None

    def tokenize(self, text: str) -> list[int]:
        """Tokens of a prompt; special tokens in the text are parsed as such."""
        return self.llm.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=True)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def cached_prefix(self, tokens: list[int]) -> int:
        """How many leading tokens of `tokens` are already in the KV cache."""
        return self.llm.longest_token_prefix(self.llm._input_ids.tolist(), tokens)

    def generate(self, prompt: str, options: GenOptions, stop_flag: threading.Event) -> Iterator[str]:
        with self._lock:
            yield from self._generate(prompt, options, stop_flag)

    def _generate(self, prompt: str, options: GenOptions, stop_flag: threading.Event) -> Iterator[str]:
        llm = self.llm
        t0 = time.perf_counter()
        head = self.tokenize(prompt[: options.head_chars]) if options.head_chars else []
        tokens = head + self.tokenize(prompt[options.head_chars:])
        room = llm.n_ctx() - options.max_tokens - 1
        if len(tokens) > room:
            cut = len(tokens) - room
            tokens, head = tokens[cut:], head[cut:]
        stats = EngineStats(prompt_tokens=len(tokens), reused_tokens=self.cached_prefix(tokens))
        self.last_stats = stats
        try:
            # Phase 1: the durable head (shared with the next keystroke), aborted only on request.
            if not self._prefill(head, options.abort_prefill) or stop_flag.is_set():
                return
            # Phase 2: the rest of the prompt and the generation, stopped by the request's flag.
            yield from self._decode(tokens, options, stop_flag, stats, t0)
        finally:
            self._watch(None)
            stats.total_ms = (time.perf_counter() - t0) * 1000

    def _prefill(self, head: list[int], abort: threading.Event | None) -> bool:
        """Evaluate `head` after the cached prefix, in chunks; False when `abort` was set."""
        llm = self.llm
        start = self.cached_prefix(head)
        if start >= len(head) - 1:
            return True
        llm.n_tokens = start
        self._watch(abort)
        aborted = abort.is_set if abort is not None else lambda: False
        for i in range(start, len(head) - 1, self.PREFILL_CHUNK):
            if aborted():
                return False
            try:
                llm.eval(head[i: min(i + self.PREFILL_CHUNK, len(head) - 1)])
            except RuntimeError as exc:
                if aborted():
                    return False
                raise EngineError(f"llama.cpp failed while reading the prompt: {exc}") from exc
        return True

    def _decode(self, tokens: list[int], options: GenOptions, stop_flag: threading.Event,
                stats: EngineStats, t0: float) -> Iterator[str]:
        llm = self.llm
        eos = llm.token_eos()
        decoder = _Utf8Decoder(llm)
        self._watch(stop_flag)
        logprob_sum = 0.0
        emitted = 0  # characters yielded so far
        gen = llm.generate(tokens, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0)
        try:
            for token in gen:
                if stop_flag.is_set():
                    return
                if token == eos or self._llama_cpp.llama_vocab_is_eog(self._vocab, token):
                    return
                stats.generated_tokens += 1
                if stats.generated_tokens == 1:
                    stats.first_token_ms = (time.perf_counter() - t0) * 1000
                logprob = self._logprob(token)
                logprob_sum += logprob
                stats.mean_logprob = logprob_sum / stats.generated_tokens
                stats.token_logprobs.append((emitted, logprob))
                piece = decoder.push(token)
                if piece:
                    emitted += len(piece)
                    yield piece
                if stats.generated_tokens >= options.max_tokens:
                    return
        except RuntimeError as exc:
            if stop_flag.is_set():  # llama_decode was aborted by our callback
                return
            raise EngineError(f"llama.cpp failed while generating: {exc}") from exc
        finally:
            with contextlib.suppress(Exception):
                gen.close()

    def _logprob(self, token: int) -> float:
        """Log-probability of `token` under the logits it was just sampled from (before the next eval)."""
        n_vocab = self.llm.n_vocab()
        logits = np.ctypeslib.as_array(self._llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, -1),
                                       shape=(n_vocab,))
        top = float(logits.max())
        return float(logits[token]) - top - float(np.log(np.exp(logits - top).sum()))

    def set_adapter(self, path: Path | None, scale: float = 1.0) -> None:
        """Apply a LoRA adapter (GGUF) to the loaded model, or remove it (None), without reloading.

        Waits for a generation in progress; the KV cache is dropped, since it was computed with the
        old weights. A bad adapter file raises ModelError and leaves the current one in place."""
        llama_cpp = self._llama_cpp
        with self._lock:
            new = None
            if path is not None:
                check_gguf(path)
                new = llama_cpp.llama_adapter_lora_init(self.llm._model.model, str(path).encode())
                if not new:
                    raise ModelError(f"llama.cpp could not load the adapter {path} (made for another model?)")
                adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(new)
                scales = (ctypes.c_float * 1)(scale)
                if llama_cpp.llama_set_adapters_lora(self.llm._ctx.ctx, adapters, 1, scales) != 0:
                    llama_cpp.llama_adapter_lora_free(new)
                    raise ModelError(f"llama.cpp could not apply the adapter {path}")
            else:
                llama_cpp.llama_set_adapters_lora(self.llm._ctx.ctx, None, 0, None)
            if self._adapter is not None:
                llama_cpp.llama_adapter_lora_free(self._adapter)
            self._adapter, self.adapter_path = new, path
            self.llm.n_tokens = 0  # the cached keys and values belong to the old weights

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.llm.close()


def _native_abort_callback(callback_type):
    """llama.cpp's abort callback as C code reading a [flag, NUL] byte buffer: libc's strlen.
    None when libc cannot be found or strlen does not answer 0 and 1 as a bool here."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        callback = callback_type(ctypes.cast(libc.strlen, ctypes.c_void_p).value)
        probe = ctypes.create_string_buffer(2)
        if callback(ctypes.addressof(probe)) is not False:
            return None
        probe[0] = 1
        if callback(ctypes.addressof(probe)) is not True:
            return None
    except (OSError, TypeError, AttributeError, ValueError) as exc:
        log.info("the C abort check is not available (%s); using a Python callback", exc)
        return None
    return callback


class _Utf8Decoder:
    """Turn token ids into text, holding back incomplete UTF-8 sequences."""

    def __init__(self, llm) -> None:
        self.llm = llm
        self.pending = b""

    def push(self, token: int) -> str:
        self.pending += self.llm.detokenize([token], special=False)
        try:
            text = self.pending.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.reason == "unexpected end of data" and len(self.pending) - exc.start < 4:
                return ""
            text = self.pending.decode("utf-8", "replace")
        self.pending = b""
        return text
