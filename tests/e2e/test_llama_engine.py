"""The embedded engine on the real model: stop within a token, abortable prefill, KV-cache reuse."""

from __future__ import annotations

import threading
import time

import pytest

from lsp_server.engines.base import GenOptions
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


def test_abort_stops_a_long_prefill(engine):
    text = (DEMO / "textwrap.py").read_text()[:6000]
    prompt = f"<|fim_prefix|>{text}<|fim_suffix|><|fim_middle|>"
    abort = threading.Event()
    timer = threading.Timer(0.3, abort.set)
    timer.start()
    t0 = time.perf_counter()
    out = list(engine.generate(prompt, GenOptions(max_tokens=8, head_chars=len(prompt) - 30,
                                                  abort_prefill=abort), threading.Event()))
    elapsed = time.perf_counter() - t0
    assert out == [] and elapsed < 3.0  # the full prefill takes ~30 s here


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
