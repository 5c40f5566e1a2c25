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
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import EngineError, ModelError
from ..models import check_gguf
from . import constrain
from .base import EngineStats, GenOptions, StopFlag

log = logging.getLogger(__name__)


@dataclass(eq=False)  # compared by identity: tuple equality would compare token arrays elementwise
class SavedState:
    """The KV cache of one sequence of tokens, kept to come back to."""

    tokens: np.ndarray  # np.intc
    data: ctypes.Array  # llama_state_seq_get_data's bytes
    document: str  # whose prompt it was (GenOptions.document): one state kept per document


class LlamaEngine:
    """Generates with a local GGUF model, one generation at a time."""

    name = "llama.cpp"
    heals = True  # honours GenOptions.heal (token healing)
    PREFILL_CHUNK = 256  # prompt tokens per llama_decode call in the durable prefill
    SAVE_TOKENS = 256  # a prompt that would drop at least this much of the KV cache keeps it first
    RESTORE_GAIN = 64  # a saved state is brought back when it spares reading at least this many tokens

    def __init__(self, model_path: Path, n_ctx: int = 4096, n_threads: int | None = None,
                 family: str | None = None, saved_states_mb: int = 256) -> None:
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
        # every token's text, indexed for healing: built beside the first requests (about 1 s for 150k tokens)
        self._pieces: constrain.Pieces | None = None
        self._pieces_ready = threading.Thread(target=self._vocabulary, name="tacit-vocabulary", daemon=True)
        self._pieces_lock = threading.Lock()
        self._pieces_ready.start()
        self.last_stats = EngineStats()
        self._tokenized: tuple[tuple[str, list[int]], ...] = (("", []), ("", []))  # see tokenize
        # KV caches of earlier prompts (another file's), newest last, within `saved_states_mb`: see _switch
        self._saved: list[SavedState] = []
        self.saved_states_bytes = max(0, saved_states_mb) * 2**20
        self._document = ""  # whose prompt the KV cache holds
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
        """Tokens of a prompt; special tokens in the text are parsed as such. The last two texts are
        remembered: the pipeline counts a new prompt's head and tail (about 3 ms each for 1,500
        tokens here), then the engine tokenizes the same two before reading them."""
        recent = self._tokenized
        for seen, tokens in recent:
            if seen == text:
                return list(tokens)
        tokens = self.llm.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=True)
        self._tokenized = ((text, tokens), recent[0])
        return list(tokens)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def cached_prefix(self, tokens: list[int]) -> int:
        """How many leading tokens of `tokens` are already in the KV cache."""
        return _shared_prefix(self.llm._input_ids, np.asarray(tokens, dtype=np.intc))

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
        cached = self.cached_prefix(tokens)
        restored = self._switch(tokens, cached, options.document)
        stats = EngineStats(prompt_tokens=len(tokens), reused_tokens=restored or cached, restored_tokens=restored)
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

    def _switch(self, tokens: list[int], cached: int, document: str = "") -> int:
        """Before reading a prompt that shares little (`cached` tokens) with the KV cache (the developer
        moved to another file): keep what the cache holds, to come back to, and start from the saved
        state that shares the most with `tokens`. Returns how many of its tokens that state brought
        back (0: none).

        Reading a file's prompt again costs seconds on a CPU (1,500 tokens at ~135 a second); copying
        its saved KV cache back costs milliseconds."""
        if not self.saved_states_bytes:
            return 0
        if self.llm.n_tokens - cached >= self.SAVE_TOKENS:
            self._save()  # it shares `cached` tokens with this prompt: never the one brought back below
        self._document = document
        wanted = np.asarray(tokens, dtype=np.intc)
        best, shared = None, cached
        for state in self._saved:
            n = _shared_prefix(state.tokens, wanted)
            if n > shared:
                best, shared = state, n
        if best is None or shared - cached < self.RESTORE_GAIN or not self._restore(best):
            return 0
        return self.cached_prefix(tokens)

    def _save(self) -> None:
        """Keep the KV cache of the tokens read so far, in place of its document's older one (the
        window moved on, or the snippets changed) and of any state it extends."""
        llama_cpp, llm = self._llama_cpp, self.llm
        tokens = np.array(llm.input_ids[: llm.n_tokens], dtype=np.intc)
        llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)  # cells past n_tokens belong to no token
        size = llama_cpp.llama_state_seq_get_size(llm._ctx.ctx, 0)
        if not size or size > self.saved_states_bytes:
            return
        data = (ctypes.c_uint8 * size)()
        if llama_cpp.llama_state_seq_get_data(llm._ctx.ctx, data, size, 0) != size:
            log.warning("llama.cpp could not save the KV cache (%d bytes)", size)
            return
        document = self._document
        self._saved = [s for s in self._saved if not (document and s.document == document)
                       and _shared_prefix(s.tokens, tokens) < len(s.tokens)]
        self._saved.append(SavedState(tokens, data, document))
        while sum(len(s.data) for s in self._saved) > self.saved_states_bytes:
            self._saved.pop(0)

    def _restore(self, state: SavedState) -> bool:
        """Make `state` the KV cache; False (and an empty cache) if llama.cpp refuses it."""
        llama_cpp, llm = self._llama_cpp, self.llm
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        llm.n_tokens = 0
        if llama_cpp.llama_state_seq_set_data(llm._ctx.ctx, state.data, len(state.data), 0) != len(state.data):
            log.warning("llama.cpp could not restore a saved KV cache; reading the prompt instead")
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            self._saved = [s for s in self._saved if s is not state]
            return False
        llm.input_ids[: len(state.tokens)] = state.tokens
        llm.n_tokens = len(state.tokens)
        llm._requires_eval = True  # the logits are not this state's: a token is read before sampling
        self._saved = [s for s in self._saved if s is not state] + [state]  # the most recently used last
        return True

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
        decoder = _Utf8Decoder(llm)
        self._watch(stop_flag)
        try:
            if options.heal:
                healed = yield from self._heal(tokens, options.heal.encode("utf-8"), stop_flag, stats, t0, decoder)
                if healed is None or stats.generated_tokens >= options.max_tokens:
                    return
                tokens = healed
            gen = llm.generate(tokens, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0)
            try:
                for token in gen:
                    if stop_flag.is_set() or self._is_end(token):
                        return
                    piece = self._count(token, decoder, decoder.push(token), stats, t0)
                    if piece:
                        yield piece
                    if stats.generated_tokens >= options.max_tokens:
                        return
            finally:
                with contextlib.suppress(Exception):
                    gen.close()
        except RuntimeError as exc:
            if stop_flag.is_set():  # llama_decode was aborted by our callback
                return
            raise EngineError(f"llama.cpp failed while generating: {exc}") from exc

    def _heal(self, tokens: list[int], rest: bytes, stop_flag: threading.Event, stats: EngineStats, t0: float,
              decoder: _Utf8Decoder) -> Generator[str, None, list[int] | None]:
        """Read the prompt, then write `rest` (what the prompt left out before the cursor) again with
        tokens that agree with it, yielding only the text past it. Returns the prompt and the tokens
        written (all evaluated: generation goes on from the cache), or None when stopped."""
        llm = self.llm
        if not tokens:  # nothing before the word (a prefix-only prompt at the start of a file): read it
            return llm.tokenize(rest, add_bos=False, special=False)
        pieces = self._vocabulary()
        llm.n_tokens = min(self.cached_prefix(tokens), len(tokens) - 1)  # re-read one token at least: its logits
        llm.eval(tokens[llm.n_tokens:])
        tokens = list(tokens)
        while rest:
            if stop_flag.is_set():
                return None
            choice = pieces.choose(self._logits(), rest)
            if choice is None:  # no token agrees (a vocabulary without single bytes): read it as prompt
                more = llm.tokenize(rest, add_bos=False, special=False)
                llm.eval(more)
                return tokens + more
            token, rest, past = choice
            piece = self._count(token, decoder, decoder.push_bytes(past), stats, t0)
            if piece:
                yield piece
            tokens.append(token)
            llm.eval([token])
        return tokens

    def _vocabulary(self) -> constrain.Pieces:
        """Every token's text, indexed for healing (built once)."""
        with self._pieces_lock:
            if self._pieces is None:
                llama_cpp = self._llama_cpp
                buf = ctypes.create_string_buffer(256)
                texts = []
                for token in range(self.llm.n_vocab()):
                    n = llama_cpp.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
                    texts.append(buf.raw[:n] if n > 0 else b"")
                self._pieces = constrain.Pieces(texts)
            return self._pieces

    def _is_end(self, token: int) -> bool:
        return token == self.llm.token_eos() or bool(self._llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def _count(self, token: int, decoder: _Utf8Decoder, piece: str, stats: EngineStats, t0: float) -> str:
        """Book a generated token in `stats` (its log-probability under the logits it came from, at the
        output position before `piece`, its text) and pass `piece` on."""
        stats.generated_tokens += 1
        if stats.generated_tokens == 1:
            stats.first_token_ms = (time.perf_counter() - t0) * 1000
        logprob = self._logprob(token)
        n = len(stats.token_logprobs)
        stats.mean_logprob = ((stats.mean_logprob or 0.0) * n + logprob) / (n + 1)
        stats.token_logprobs.append((decoder.emitted - len(piece), logprob))
        return piece

    def _logits(self) -> np.ndarray:
        """The logits of the last token read (before the next eval)."""
        return np.ctypeslib.as_array(self._llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, -1),
                                     shape=(self.llm.n_vocab(),))

    def _logprob(self, token: int) -> float:
        """Log-probability of `token` under the logits it was just chosen from (before the next eval)."""
        logits = self._logits()
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
            self._saved.clear()
            self._document = ""

    def close(self) -> None:
        self._pieces_ready.join()  # it reads the vocabulary that closing frees
        with contextlib.suppress(Exception):
            self.llm.close()


def _shared_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """How many leading tokens `a` and `b` share."""
    n = min(len(a), len(b))
    differ = np.flatnonzero(a[:n] != b[:n])
    return int(differ[0]) if len(differ) else n


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
        self.emitted = 0  # characters returned so far

    def push(self, token: int) -> str:
        return self.push_bytes(self.llm.detokenize([token], special=False))

    def push_bytes(self, data: bytes) -> str:
        self.pending += data
        if not self.pending:
            return ""
        try:
            text = self.pending.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.reason == "unexpected end of data" and len(self.pending) - exc.start < 4:
                return ""
            text = self.pending.decode("utf-8", "replace")
        self.pending = b""
        self.emitted += len(text)
        return text
