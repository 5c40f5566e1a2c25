"""tacit tune model without a model: training examples, the adapter registry, the schedule, and
how the engine host picks the adapter to apply (with a fake engine)."""

from __future__ import annotations

import asyncio
import itertools
import random
from pathlib import Path

import pytest

from context.prompt import TEMPLATES, PromptOptions
from lsp_server.engine_host import EngineHost
from lsp_server.engines.fake import FakeEngine
from lsp_server.options import Options
from lsp_server.pipeline import heal
from lsp_server.pipeline.orchestrator import Completer
from tuning import adapters
from tuning.adapt import LLAMA_NAMES, LORA_PARAM, encode, learning_rate, planned_steps
from tuning.dataset import (
    Example,
    accepted_examples,
    chunk_examples,
    chunks,
    held_out,
    holes,
    render,
    workspace_examples,
)

QWEN = TEMPLATES["qwen2.5-coder"]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TACIT_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "proj"
    (ws / "pkg").mkdir(parents=True)
    for i in range(30):
        (ws / "pkg" / f"mod{i}.py").write_text(
            f"def handler_{i}(request, retries=3):\n    result = fetch(request, retries)\n    return result\n")
    (ws / ".env").write_text("API_KEY=sk-live-abcdefabcdefabcdefabcdef\n")
    (ws / "notes.txt").write_text("not code\n")
    return ws


def test_holes_are_inside_code_lines_and_never_empty():
    text = "import os\n\ndef f(x):\n    return x + 1\n"
    rng = random.Random(3)
    for start, end in holes(text, rng, 200):
        assert text[start:end].strip()
        assert start < end <= len(text)
        if text[start - 1:start] != "\n" and start:  # rest-of-line holes end at the line's end
            assert text[end:end + 1] in ("\n", "")
            # and never start right after the indentation: like the server, they take its last space
            line_start = text.rfind("\n", 0, start) + 1
            assert text[line_start:start].strip() or text[start] == " "


def test_healed_holes_start_where_the_server_prompt_ends():
    # token healing: the server's prompt for a cursor inside a word ends before the word, so the hole
    # a training example fills starts there too; the same seed gives the same cursors either way
    text = "import os\n\ndef load(path):\n    with open(path) as fh:\n        return fh.read().split()\n"
    healed = list(holes(text, random.Random(5), 200))
    raw = list(holes(text, random.Random(5), 200, healed=False))
    moved = 0
    for (start, end), (cursor, raw_end) in zip(healed, raw, strict=True):
        assert end == raw_end and start <= cursor
        assert text[start:cursor] == heal.tail(text, cursor)
        moved += start < cursor
        if start < cursor:  # the prompt then ends on a whole word (or indentation), never inside one
            assert not (text[start - 1:start].isalpha() and text[start].isalpha())
    assert moved > 50


def test_render_matches_the_server_template():
    prompt = render(QWEN, "proj", "pkg/a.py", "python", "def f(x):\n    return g(", "x)\nprint(f(1))\n",
                    PromptOptions())
    assert prompt.startswith("<|repo_name|>proj\n<|file_sep|>pkg/a.py\n<|fim_prefix|>def f(x):\n    return g(")
    assert prompt.endswith("<|fim_suffix|>x)<|fim_middle|>")


def test_workspace_examples_split_by_path_and_skip_secrets(tmp_path):
    ws = workspace(tmp_path)
    train = workspace_examples(ws, QWEN, per_file=3, split="train")
    test = workspace_examples(ws, QWEN, per_file=3, split="held_out")
    assert train and test
    assert {e.path for e in train}.isdisjoint({e.path for e in test})
    assert all(held_out(e.path) for e in test) and not any(held_out(e.path) for e in train)
    every = train + test
    assert all(e.completion.endswith("<|endoftext|>") for e in every)
    assert not any("sk-live" in e.prompt + e.completion or e.path in (".env", "notes.txt") for e in every)
    assert workspace_examples(ws, QWEN, per_file=3, split="train") == train  # seeded


@pytest.mark.parametrize("text,size,expected", [
    ("a\nb\nc\n", 4, ["a\nb\n", "c\n"]),
    ("a\nb\nc", 100, ["a\nb\nc"]),
    ("long line here\nx\n", 4, ["long line here\n", "x\n"]),  # a line longer than size is a span
    ("ab\ncd\nef", 5, ["ab\n", "cd\nef"]),  # the last span runs to the end
    ("", 10, []),
])
def test_chunks_cut_at_line_ends_and_cover_the_text(text, size, expected):
    spans = list(chunks(text, size))
    assert [text[s:e] for s, e in spans] == expected
    assert "".join(text[s:e] for s, e in spans) == text


def test_chunk_examples_read_each_training_file_through_after_its_header(tmp_path):
    ws = workspace(tmp_path)
    (ws / "pkg" / "big.py").write_text("".join(f"def f{i}(x):\n    return x * {i}\n" for i in range(200)))
    (ws / "pkg" / "keys.py").write_text('TOKEN = "ghp_abcdefabcdefabcdefabcdefabcdefabcdef12"\n')
    train = chunk_examples(ws, QWEN, split="train", size=300, context=60)
    test = chunk_examples(ws, QWEN, split="held_out", size=300, context=60)
    assert {e.path for e in train}.isdisjoint({e.path for e in test})
    assert all(e.source == "chunk" for e in train + test)
    every = {e.path for e in train + test}
    assert {"pkg/big.py", "pkg/keys.py"} <= every and ".env" not in every
    big = [e for e in train + test if e.path == "pkg/big.py"]
    text = (ws / "pkg" / "big.py").read_text()
    assert "".join(e.completion for e in big) == text  # every character is learned once, nothing ends it
    for e in big:
        assert e.prompt.startswith("<|repo_name|>proj\n<|file_sep|>pkg/big.py\n")
        before = e.prompt.split("pkg/big.py\n", 1)[1]
        assert len(before) <= 60 and text.find(before + e.completion) >= 0  # the lines right before it
        assert not before or before.startswith("def ") or before.startswith("    ")
    assert not any("ghp_" in e.prompt + e.completion for e in train + test)


def test_a_key_block_across_a_chunk_boundary_is_not_learned_in_pieces(tmp_path):
    ws = workspace(tmp_path)
    body = "\n".join(f"{i:02d}Q2xhc3NpYyBrZXkgbWF0ZXJpYWwgZm9yIGEgdGVzdC4" for i in range(12))
    key = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    (ws / "pkg" / "pem.py").write_text("x = 1\n" * 30 + f'KEY = """{key}"""\n' + "y = 2\n" * 30)
    chunked = [e for e in chunk_examples(ws, QWEN, split="all", size=300, context=60) if e.path == "pkg/pem.py"]
    assert len(chunked) >= 2 and any("<redacted>" in e.completion for e in chunked)
    holed = [e for e in workspace_examples(ws, QWEN, per_file=40, split="all") if e.path == "pkg/pem.py"]
    assert holed
    assert not any("Q2xhc3Np" in e.prompt + e.completion for e in chunked + holed)


@pytest.mark.parametrize("step,elapsed,budget,most,expected", [
    (0, 0.0, 60.0, 400, 400),  # no pace yet: the step limit
    (10, 30.0, 60.0, 400, 20),  # half the budget gone after 10 steps: 20 in all
    (10, 1.0, 60.0, 400, 400),  # fast enough for every step
    (10, 120.0, 60.0, 400, 11),  # already over: this is the last
])
def test_planned_steps_follow_the_time_budget(step, elapsed, budget, most, expected):
    assert planned_steps(step, elapsed, budget, most) == expected


def record(**kw):
    rec = {"shown": True, "outcome": "accepted", "accepted_length": 0, "retention": [], "prompt": "P",
           "text": "return x + 1", "path": "a.py"}
    return {**rec, **kw}


def test_accepted_examples_keep_only_kept_suggestions_with_prompts():
    recs = [record(), record(prompt=""), record(outcome="dismissed"),
            record(outcome="partiallyAccepted", accepted_length=6),
            record(retention=[{"after_s": 30, "similarity": 0.2}]), record(shown=False)]
    got = accepted_examples(recs, QWEN)
    assert [e.completion for e in got] == ["return x + 1<|endoftext|>", "return"]


def test_accepted_examples_put_back_the_indentation_the_prompt_left_out():
    recs = [record(features={"promptIndent": "    "}), record(features='{"promptIndent": "\\t"}'),
            record(features={"promptIndent": ""})]
    got = accepted_examples(recs, QWEN)
    assert [e.completion for e in got] == ["    return x + 1<|endoftext|>", "\treturn x + 1<|endoftext|>",
                                           "return x + 1<|endoftext|>"]


def test_encode_masks_the_prompt_and_skips_long_examples():
    tok = lambda s: [ord(c) for c in s]  # noqa: E731
    data, skipped = encode([Example("ab", "cd", "workspace", "x"), Example("a" * 50, "b", "workspace", "y")], tok, 10)
    assert skipped == 1
    assert data == [([97, 98, 99, 100], [-100, -100, 99, 100])]


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    rates = [learning_rate(s, 100, 1.0) for s in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(rates[9:]))
    assert rates[-1] >= 0.1


@pytest.mark.parametrize("name,expected", [
    ("base_model.model.model.layers.3.self_attn.q_proj.lora_A.default.weight", ("3", "self_attn.q_proj", "A")),
    ("base_model.model.model.layers.12.mlp.down_proj.lora_B.default.weight", ("12", "mlp.down_proj", "B")),
    ("base_model.model.model.layers.3.self_attn.q_proj.base_layer.weight", None),
])
def test_lora_parameter_names_map_to_llama_cpp_tensors(name, expected):
    m = LORA_PARAM.search(name)
    assert (m.groups() if m else None) == expected
    if m:
        assert m.group(2) in LLAMA_NAMES


def test_registry_installs_switches_and_rolls_back(tmp_path, data_dir):
    ws = tmp_path / "ws"
    ws.mkdir()
    f = tmp_path / "a.gguf"
    f.write_bytes(b"GGUF first")
    first = adapters.install(ws, f, {"base_model": "m.gguf"})
    f.write_bytes(b"GGUF second")
    second = adapters.install(ws, f, {"base_model": "m.gguf"})
    assert [a.id for a in adapters.adapters(ws)] == sorted([first.id, second.id])
    assert adapters.active(ws).id == second.id
    assert adapters.rollback(ws) == first.id and adapters.active(ws).id == first.id
    adapters.use(ws, None)
    assert adapters.active(ws) is None
    assert adapters.rollback(ws) == first.id
    with pytest.raises(KeyError):
        adapters.use(ws, "../../etc")
    with pytest.raises(KeyError):
        adapters.use(ws, "nope")


class AdapterEngine(FakeEngine):
    """A fake engine that records adapter switches like LlamaEngine.set_adapter."""

    def __init__(self, model_path: Path) -> None:
        super().__init__()
        self.model_path = model_path
        self.adapter_path: Path | None = None
        self.switches: list[Path | None] = []

    def set_adapter(self, path: Path | None, scale: float = 1.0) -> None:
        self.switches.append(path)
        self.adapter_path = path


def host_with(engine) -> tuple[EngineHost, list]:
    statuses: list = []
    host = EngineHost(lambda *a, **k: statuses.append(a), lambda g: None, lambda r: None, lambda m: statuses.append(m))
    host.completer = Completer(engine)
    return host, statuses


async def test_host_follows_the_workspace_active_adapter(tmp_path, data_dir, monkeypatch):
    monkeypatch.setattr("lsp_server.engine_host.ADAPTER_POLL_S", 0.0)
    ws = tmp_path / "ws"
    ws.mkdir()
    engine = AdapterEngine(tmp_path / "m.gguf")
    host, _ = host_with(engine)
    host.workspace = ws
    opts = Options()
    await host.sync_adapter(opts)
    assert engine.switches == []  # nothing trained: the base model, untouched
    f = tmp_path / "a.gguf"
    f.write_bytes(b"GGUF x")
    mine = adapters.install(ws, f, {"base_model": "m.gguf"})
    await host.sync_adapter(opts)
    assert engine.adapter_path == mine.path and host.adapter == mine.id
    adapters.install(ws, f, {"base_model": "other-model.gguf"})  # trained on another model: not applied
    await host.sync_adapter(opts)
    assert engine.adapter_path is None and host.adapter is None
    adapters.rollback(ws)
    await host.sync_adapter(opts)
    assert engine.adapter_path == mine.path
    opts.model.adapter = "none"
    await host.sync_adapter(opts)
    assert engine.adapter_path is None and len(engine.switches) == 4


async def test_a_broken_adapter_is_reported_once_and_not_retried(tmp_path, data_dir, monkeypatch):
    from lsp_server.errors import ModelError

    monkeypatch.setattr("lsp_server.engine_host.ADAPTER_POLL_S", 0.0)

    class Broken(AdapterEngine):
        def set_adapter(self, path, scale=1.0):
            self.switches.append(path)
            raise ModelError("bad adapter")

    engine = Broken(tmp_path / "m.gguf")
    host, statuses = host_with(engine)
    opts = Options()
    opts.model.adapter = str(tmp_path / "x.gguf")
    for _ in range(3):
        await host.sync_adapter(opts)
    await asyncio.sleep(0)
    assert len(engine.switches) == 1 and host.adapter is None
    assert sum("bad adapter" in str(s) for s in statuses) == 1


def test_bench_score_keeps_every_prediction_for_hole_by_hole_comparison():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "tune_model_bench", Path(__file__).resolve().parents[2] / "bench" / "tune_model.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # the second hole is healed: the engine writes `ret` again first, and only what follows is scored
    engine = FakeEngine([["foo(x)", "\n", "more"], ["ret", "urn b", "ar\n"]], heals=True)
    hs = [{"path": "a.py", "prompt": "p1", "heal": "", "truth": "foo(x)\nnext line"},
          {"path": "b.py", "prompt": "p2", "heal": "ret", "truth": "urn baz\n"}]
    got = bench.score(engine, hs, "base")
    assert got["n"] == 2 and got["exact_match"] == 0.5
    assert [s["prediction"] for s in got["samples"]] == ["foo(x)", "urn bar"]
    assert [s["exact_match"] for s in got["samples"]] == [True, False]
    assert [(s["path"], s["truth"], s["heal"]) for s in got["samples"]] == [("a.py", "foo(x)", ""),
                                                                           ("b.py", "urn baz", "ret")]
    assert [o.heal for o in engine.options] == ["", "ret"]
