"""The embedded engine on the real model: stop within a token, abortable prefill, KV-cache reuse."""

from __future__ import annotations

import threading
import time

import pytest

from lsp_server.engines.base import GenOptions, StopFlag
from lsp_server.engines.llama import LlamaEngine

from .conftest import DEMO


@pytest.fixture(scope="module")
def engine(model_path):
    eng = LlamaEngine(model_path, family="qwen2.5-coder")
    yield eng
    eng.close()


PROMPT = "<|fim_prefix|>def fib(n):\n    <|fim_suffix|>\n<|fim_middle|>"


def test_stop_flag_stops_within_one_token(engine):
    stop = threading.Event()
    pieces = []
    for piece in engine.generate(PROMPT, GenOptions(max_tokens=60), stop):
        pieces.append(piece)
        if len(pieces) == 3:
            stop.set()
    assert len(pieces) == 3
    assert engine.last_stats.generated_tokens == 3


@pytest.mark.parametrize("flag_type", [StopFlag, threading.Event], ids=["C check", "Python callback"])
def test_abort_stops_a_long_prefill(engine, flag_type):
    text = (DEMO / "textwrap.py").read_text()[:6000]
    prompt = f"<|fim_prefix|>{text}<|fim_suffix|><|fim_middle|>"
    abort = flag_type()
    engine.llm.n_tokens = 0  # nothing cached: the prefill starts at the prompt's first token
    timer = threading.Timer(0.3, abort.set)
    timer.start()
    t0 = time.perf_counter()
    out = list(engine.generate(prompt, GenOptions(max_tokens=8, head_chars=len(prompt) - 30,
                                                  abort_prefill=abort), StopFlag()))
    elapsed = time.perf_counter() - t0
    assert out == [] and elapsed < 3.0  # the full prefill takes ~10 s here
    # Stopped inside llama.cpp's first chunk (about 2 s here), not between two chunks.
    assert engine.llm.n_tokens < LlamaEngine.PREFILL_CHUNK
    # The next request starts clean: the aborted flag no longer reaches llama.cpp.
    assert "".join(engine.generate(PROMPT, GenOptions(max_tokens=4), StopFlag()))


def test_the_abort_check_runs_in_c_for_a_stop_flag(engine):
    assert engine._native_abort is not None  # libc's strlen passed the probe on this platform
    stop = StopFlag()
    pieces = list(engine.generate(PROMPT, GenOptions(max_tokens=4), stop))
    assert pieces and engine._abort_native is True
    stop.set()  # set after the generation: the engine no longer listens to it
    assert engine._abort_byte.raw == b"\x00\x00"


def test_kv_cache_is_reused_when_the_prompt_grows_at_the_cursor(engine):
    head = "<|fim_prefix|>" + (DEMO / "shlex.py").read_text()[:1500]
    list(engine.generate(head + "<|fim_suffix|>\n<|fim_middle|>", GenOptions(max_tokens=2, head_chars=len(head)),
                         threading.Event()))
    grown = head + "x = "
    list(engine.generate(grown + "<|fim_suffix|>\n<|fim_middle|>", GenOptions(max_tokens=2, head_chars=len(grown)),
                         threading.Event()))
    stats = engine.last_stats
    assert stats.prompt_tokens - stats.reused_tokens <= 8


def test_user_gguf_family_is_detected_from_its_tokens(model_path):
    eng = LlamaEngine(model_path)  # no manifest family given
    try:
        assert eng.family == "qwen2.5-coder"
    finally:
        eng.close()


HEALED = "<|fim_prefix|>def f(formatter, epilog):\n    if epilog:\n       <|fim_suffix|>\n<|fim_middle|>"


def test_token_healing_writes_the_left_out_word_again_and_yields_what_follows(engine):
    out = "".join(engine.generate(HEALED, GenOptions(max_tokens=12, heal=" form"), threading.Event()))
    assert out.startswith("atter")  # ` formatter` as one token, as in training: only "atter" is new
    stats = engine.last_stats
    assert stats.token_logprobs and stats.token_logprobs[0][0] == 0  # scored from the output's start


def test_token_healing_forces_text_the_model_would_not_write(engine):
    # the greedy model would never start with "zq": it must, and only what follows is yielded
    out = "".join(engine.generate(HEALED, GenOptions(max_tokens=6, heal=" zq"), threading.Event()))
    written = engine.llm.detokenize(engine.llm._input_ids[engine.last_stats.prompt_tokens:].tolist())
    assert written.startswith(b" zq") and not out.startswith(" zq")  # in the cache, not in the output
    stop = threading.Event()
    stop.set()  # stopped before it starts: nothing, no error
    assert list(engine.generate(HEALED, GenOptions(max_tokens=6, heal=" form"), stop)) == []


def _file_prompt(name: str) -> str:
    return "<|fim_prefix|>" + (DEMO / name).read_text()[:2400] + "<|fim_suffix|>\n<|fim_middle|>"


def test_coming_back_to_a_file_restores_its_kv_cache_and_writes_the_same(model_path):
    eng = LlamaEngine(model_path, family="qwen2.5-coder", saved_states_mb=256)

    def complete(prompt: str) -> str:
        return "".join(eng.generate(prompt, GenOptions(max_tokens=8), threading.Event()))

    a, b, c = _file_prompt("calendar.py"), _file_prompt("shlex.py"), _file_prompt("textwrap.py")
    try:
        first_a, first_b, first_c = complete(a), complete(b), complete(c)
        assert eng.last_stats.restored_tokens == 0 and len(eng._saved) == 2  # a's and b's kept on leaving them
        assert complete(b) == first_b  # from b's saved cache (not the oldest): what reading it again would write
        assert eng.last_stats.restored_tokens == eng.last_stats.prompt_tokens
        assert complete(a) == first_a and eng.last_stats.restored_tokens == eng.last_stats.prompt_tokens
        assert complete(c) == first_c and eng.last_stats.restored_tokens == eng.last_stats.prompt_tokens
        assert len(eng._saved) == 3
        # room for one saved cache only: leaving b keeps b's and drops a's, so a is read again (and b then)
        eng.saved_states_bytes = max(len(s.data) for s in eng._saved) + 1
        complete(a)
        assert eng.last_stats.restored_tokens == 0 and len(eng._saved) == 1
        complete(b)
        assert eng.last_stats.restored_tokens == 0 and len(eng._saved) == 1
        eng.set_adapter(None)  # new weights (or none): no saved cache is theirs
        assert eng._saved == []
        eng.saved_states_bytes = 0  # off: nothing is kept
        complete(a)
        complete(b)
        assert eng._saved == [] and eng.last_stats.restored_tokens == 0
    finally:
        eng.close()


def test_one_saved_kv_cache_is_kept_per_document(engine):
    # the window moved on in one file: its older cache is replaced, not kept beside the new one
    def complete(prompt: str, document: str) -> None:
        list(engine.generate(prompt, GenOptions(max_tokens=2, document=document), threading.Event()))

    text = (DEMO / "calendar.py").read_text()
    early, later = (f"<|fim_prefix|>{text[a:a + 1400]}<|fim_suffix|>\n<|fim_middle|>" for a in (0, 3000))
    other = "<|fim_prefix|>" + (DEMO / "shlex.py").read_text()[:1400] + "<|fim_suffix|>\n<|fim_middle|>"
    engine._saved.clear()
    complete(early, "calendar.py")
    complete(later, "calendar.py")  # keeps the early window's cache, as calendar.py's
    complete(other, "shlex.py")  # keeps the later one in its place
    assert [s.document for s in engine._saved] == ["calendar.py"]
    complete(early, "calendar.py")
    assert engine.last_stats.restored_tokens == 0  # that cache is gone: read again
    complete(other, "shlex.py")  # shlex.py's is there; calendar.py's early window replaces its later one
    assert engine.last_stats.restored_tokens == engine.last_stats.prompt_tokens
    assert sorted(s.document for s in engine._saved) == ["calendar.py", "shlex.py"]
