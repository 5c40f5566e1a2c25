"""tacit tune model end to end: a tiny real training run through the CLI on a workspace, the GGUF
adapter it exports loaded by the real engine (changing what it writes), and hot-swapped into a running
server when it becomes active, then rolled back, with no restart."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lsp_server import client as lsp_client
from lsp_server.engines.base import GenOptions
from lsp_server.engines.llama import LlamaEngine
from tuning import adapters

ROOT = Path(__file__).resolve().parents[2]
SECRET = "zebra-quartz-77"  # what the workspace says and the base model cannot guess
PROMPT = '<|repo_name|>farm\n<|file_sep|>new_module.py\n<|fim_prefix|>import os\n\nMAGIC_WORD = "' \
         '<|fim_suffix|>\n<|fim_middle|>'


@pytest.fixture(scope="module")
def trained(tmp_path_factory, model_path):
    """A workspace whose files all define the same magic word, and an adapter trained on it by the CLI."""
    base = tmp_path_factory.mktemp("tune")
    ws, data = base / "farm", base / "data"
    ws.mkdir()
    for i in range(6):
        (ws / f"settings_{i}.py").write_text(f'import os\n\nMAGIC_WORD = "{SECRET}"\nLEVEL = {i}\n')
    env = {**os.environ, "TACIT_DATA": str(data)}
    # 1e-3: at 2e-3 the run with file chunks (on by default) diverged after six steps (loss 0.8 -> 4.8)
    run = subprocess.run([sys.executable, "-m", "lsp_server", "tune", "model", "--workspace", str(ws),
                          "--model", str(model_path), "--steps", "16", "--lr", "1e-3", "--rank", "8",
                          "--per-file", "4"],
                         env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "active" in run.stdout, run.stdout
    return ws, data, env, run


def generate(engine: LlamaEngine) -> str:
    return "".join(engine.generate(PROMPT, GenOptions(max_tokens=12), threading.Event()))


def test_the_adapter_is_registered_with_its_report(trained, monkeypatch):
    ws, data, _env, run = trained
    monkeypatch.setenv("TACIT_DATA", str(data))
    found = adapters.adapters(ws)
    assert len(found) == 1 and adapters.active(ws).id == found[0].id
    meta = found[0].meta
    assert meta["base_model"] == "qwen2.5-coder-0.5b.gguf" and meta["steps"] == 16
    assert meta["loss_last"] < meta["loss_first"], meta["losses"]
    assert "training" in run.stderr  # the progress bar


def test_the_engine_applies_the_adapter_and_removes_it(trained, model_path, monkeypatch):
    ws, data, _env, _run = trained
    monkeypatch.setenv("TACIT_DATA", str(data))
    engine = LlamaEngine(model_path, n_ctx=1024)
    try:
        before = generate(engine)
        engine.set_adapter(adapters.active(ws).path)
        tuned = generate(engine)
        engine.set_adapter(None)
        after = generate(engine)
    finally:
        engine.close()
    assert SECRET not in before
    assert tuned.startswith(SECRET), tuned  # learned from the workspace
    assert after == before  # and gone again without a reload


def test_a_bad_adapter_file_is_refused_and_the_old_one_kept(trained, model_path, tmp_path, monkeypatch):
    from lsp_server.errors import ModelError

    ws, data, _env, _run = trained
    monkeypatch.setenv("TACIT_DATA", str(data))
    engine = LlamaEngine(model_path, n_ctx=1024)
    try:
        good = adapters.active(ws).path
        engine.set_adapter(good)
        for bad in (model_path, tmp_path / "missing.gguf"):  # a whole model, not an adapter; no file
            with pytest.raises(ModelError):
                engine.set_adapter(bad)
        assert engine.adapter_path == good and generate(engine).startswith(SECRET)
    finally:
        engine.close()


async def suggestion(client, n: int) -> str:
    """The suggestion after `MAGIC_WORD = "` in a new document (a fresh one each time: no cache)."""
    uri = f"file:///farm-scratch/new_module_{n}.py"
    text = 'import os\n\nMAGIC_WORD = "'
    client.open(uri, text)
    result = await client.inline(uri, 2, len('MAGIC_WORD = "'), invoked=True)
    return result.items[0].insert_text if result and result.items else ""


def cli(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "lsp_server", "adapter", *args], env=env, check=True,
                   capture_output=True, timeout=60)


async def test_the_running_server_hot_swaps_and_rolls_back(trained, model_path):
    ws, data, env, _run = trained
    active_file = data / "adapters" / adapters.workspace_key(ws) / "active.json"
    trained_id = json.loads(active_file.read_text())["id"]
    cli(env, "use", "none", "--workspace", str(ws))  # the server starts on the base model
    # No cross-file context: the base model would copy the magic word from the workspace's other files.
    options = {"model": {"path": str(model_path)}, "context": {"index": False, "sources": []}}
    client = await lsp_client.start(options, root=ws, env={"TACIT_DATA": str(data)})
    try:
        assert await client.wait_state(timeout=120) == "ready"
        status = await client.protocol.send_request_async("tacit/getStatus", {})
        assert status.adapter is None
        base = await suggestion(client, 1)
        assert SECRET not in base

        cli(env, "rollback", "--workspace", str(ws))  # back to the trained adapter, while the server runs
        await asyncio.sleep(2.5)  # requests look at active.json at most every 2 s
        tuned = await suggestion(client, 2)
        status = await client.protocol.send_request_async("tacit/getStatus", {})
        assert status.adapter == trained_id, status
        assert tuned.startswith(SECRET), tuned
        assert any(trained_id in s.get("message", "") for s in client.statuses), client.statuses[-3:]

        cli(env, "use", "none", "--workspace", str(ws))
        await asyncio.sleep(2.5)
        again = await suggestion(client, 3)
        status = await client.protocol.send_request_async("tacit/getStatus", {})
        assert status.adapter is None and SECRET not in again
    finally:
        await client.close()


def test_the_training_model_is_the_served_model(model_path):
    """transformers' dequantized copy of the GGUF predicts what llama.cpp predicts (same tokens, same
    log-probabilities), so an adapter trained on one fits the other."""
    import numpy as np
    import torch

    from tuning.adapt import LlamaTokenizer, load_base

    text = (ROOT / "tuning" / "metrics.py").read_text()[:600]
    tokenize = LlamaTokenizer(model_path)
    ids = tokenize(text)
    tokenize.close()
    import llama_cpp

    llm = llama_cpp.Llama(str(model_path), n_ctx=1024, logits_all=True, verbose=False)
    try:
        llm.eval(ids)
        served = np.array(llm.scores[: len(ids) - 1])
    finally:
        llm.close()
    model = load_base(model_path, "cpu", progress=lambda m: None)
    with torch.no_grad():
        trained = model(input_ids=torch.tensor([ids])).logits[0, :-1].float().numpy()

    def mean_logprob(logits):
        z = logits - logits.max(-1, keepdims=True)
        z -= np.log(np.exp(z).sum(-1, keepdims=True))
        return float(np.mean(z[np.arange(len(ids) - 1), ids[1:]]))

    assert abs(mean_logprob(served) - mean_logprob(trained)) < 0.05
    assert np.mean(served.argmax(-1) == trained.argmax(-1)) > 0.95
