"""`tacit tune model`: adapt the served model to a codebase with LoRA, exported as a GGUF adapter.

1. Base weights: transformers reads the very GGUF file the engine serves (dequantized, `gguf_file=`),
   so the adapter is trained against the weights it will be applied to (about 10 s for 0.5B).
2. Examples: `tuning.dataset` (the workspace's own code as FIM holes and as chunks read straight
   through, plus accepted-and-kept suggestions), tokenized with llama.cpp's own tokenizer, so
   training sees exactly the tokens the engine will see. The loss is on the completion tokens only.
3. LoRA (peft) on the attention and MLP projections, AdamW with warm-up and linear decay, for a
   number of steps or a time budget, whichever ends first; on a GPU when there is one.
4. Export: the LoRA matrices in llama.cpp's GGUF adapter format (`general.type = adapter`), which the
   engine attaches to the model it already has loaded (`LlamaEngine.set_adapter`).

torch, transformers, peft and gguf are imported here only, and only when tuning runs: the server
never needs them.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .dataset import Example

log = logging.getLogger(__name__)

# Hugging Face module names -> llama.cpp tensor names (Qwen2, Llama and most decoder-only models).
LLAMA_NAMES = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
               "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
               "mlp.down_proj": "ffn_down"}
LORA_PARAM = re.compile(r"layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\.lora_([AB])\.")
# Architectures whose q/k weights llama.cpp's converter permutes: a LoRA for them would need the
# same permutation, which we do not do, so we refuse them rather than export a wrong adapter.
PERMUTED = {"llama"}


class TuneError(Exception):
    """Tuning cannot run or failed; the message says why."""


@dataclass
class TrainConfig:
    rank: int = 16
    alpha: float = 32.0
    lr: float = 3e-4
    steps: int = 400  # optimizer steps at most
    minutes: float = 30.0  # ...and at most this long
    accumulate: int = 4  # examples per optimizer step
    max_tokens: int = 512  # longer examples are skipped (never truncated: that would break the template)
    seed: int = 0
    targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    # LoRA on the last N layers only: the backward pass stops there, which on a CPU is most of the cost
    # (measured: a 300-token example takes about 35 s on 2 busy cores with all 24 layers); 0: all layers
    top_layers: int = 8


@dataclass
class TrainResult:
    steps: int = 0
    examples_seen: int = 0
    examples_used: int = 0
    skipped_long: int = 0
    loss_first: float | None = None  # mean of the first five steps
    loss_last: float | None = None  # ...and of the last five
    minutes: float = 0.0
    load_minutes: float = 0.0
    device: str = "cpu"
    losses: list[float] = field(default_factory=list)


def _require() -> None:
    try:
        import gguf  # noqa: F401
        import peft  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise TuneError(f"tuning the model needs torch, transformers, peft and gguf ({exc}); "
                        "install them with: pip install 'tacit[tune]'") from None


def architecture(gguf_path: Path) -> str:
    """`general.architecture` of a GGUF file."""
    from gguf import GGUFReader

    field_ = GGUFReader(str(gguf_path)).fields.get("general.architecture")
    if field_ is None:
        raise TuneError(f"{gguf_path} has no general.architecture")
    return bytes(field_.parts[field_.data[0]]).decode()


def load_base(gguf_path: Path, device: str, progress: Callable[[str], None] = print):
    """The model as a transformers model, dequantized from the GGUF file the engine serves (seconds)."""
    import torch
    from transformers import AutoModelForCausalLM

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    progress(f"base weights: dequantizing {gguf_path.name}")
    model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name, dtype=dtype)
    return model.to(device)


class LlamaTokenizer:
    """llama.cpp's tokenizer for the model (vocabulary only): the engine's exact tokens."""

    def __init__(self, gguf_path: Path) -> None:
        import llama_cpp

        self.llm = llama_cpp.Llama(model_path=str(gguf_path), vocab_only=True, verbose=False)

    def __call__(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=True)

    def close(self) -> None:
        self.llm.close()


def encode(examples: list[Example], tokenize: Callable[[str], list[int]], max_tokens: int
           ) -> tuple[list[tuple[list[int], list[int]]], int]:
    """(input ids, labels) per example, labels -100 on the prompt; and how many were too long."""
    out, skipped = [], 0
    for ex in examples:
        prompt, completion = tokenize(ex.prompt), tokenize(ex.completion)
        if not completion or len(prompt) + len(completion) > max_tokens:
            skipped += 1
            continue
        out.append((prompt + completion, [-100] * len(prompt) + completion))
    return out, skipped


def learning_rate(step: int, total: int, peak: float, warmup: int = 10) -> float:
    """Linear warm-up, then linear decay to a tenth of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = (step - warmup) / max(1, total - warmup)
    return peak * max(0.1, 1.0 - 0.9 * frac)


def planned_steps(step: int, elapsed_s: float, budget_s: float, most: int) -> int:
    """How many steps the run will make: `most`, or fewer when the time budget ends first, estimated
    from the pace so far. The schedule decays over these, so on a CPU, where the budget ends long
    before `most`, the learning rate still comes down before training stops."""
    if step == 0 or elapsed_s <= 0:
        return most
    return max(step + 1, min(most, round(step * budget_s / elapsed_s)))


def completion_loss(model, ids: list[int], labels: list[int], device: str):
    """Cross-entropy on the completion tokens. The output layer (the vocabulary: a quarter of a 0.5B
    model) runs only at the completion's positions, not over the whole prompt."""
    import torch
    import torch.nn.functional as F

    base = model.get_base_model()
    body, head = getattr(base, "model", None), getattr(base, "lm_head", None)
    x = torch.tensor([ids], device=device)
    if body is None or head is None or getattr(base.config, "final_logit_softcapping", None):
        return model(input_ids=x, labels=torch.tensor([labels], device=device), use_cache=False).loss
    first = max(1, next(i for i, label in enumerate(labels) if label != -100))
    hidden = body(input_ids=x, use_cache=False).last_hidden_state[0, first - 1:-1]
    return F.cross_entropy(head(hidden).float(), x[0, first:])


def train(model, data: list[tuple[list[int], list[int]]], cfg: TrainConfig, device: str,
          bar: Callable[..., Any] | None = None) -> tuple[Any, TrainResult]:
    """Fit a LoRA on `data`; returns the peft model and what happened."""
    import torch
    from peft import LoraConfig, get_peft_model

    if not data:
        raise TuneError("no training examples")
    torch.manual_seed(cfg.seed)
    if device == "cpu":
        torch.set_num_threads(os.cpu_count() or 2)
    n_layers = model.config.num_hidden_layers
    layers = list(range(max(0, n_layers - cfg.top_layers), n_layers)) if cfg.top_layers else None
    model = get_peft_model(model, LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=0.0, bias="none",
                                             target_modules=list(cfg.targets), layers_to_transform=layers,
                                             task_type="CAUSAL_LM"))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    rng = random.Random(cfg.seed)
    order: list[int] = []
    result = TrainResult(device=device)
    t0 = time.monotonic()
    total = cfg.steps
    progress = bar(total=total, desc="training", unit="step") if bar else None
    window: list[float] = []
    for step in range(total):
        planned = planned_steps(step, time.monotonic() - t0, cfg.minutes * 60, total)
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, planned, cfg.lr)
        step_loss = 0.0
        for _ in range(cfg.accumulate):
            if not order:
                order = list(range(len(data)))
                rng.shuffle(order)
            ids, labels = data[order.pop()]
            loss = completion_loss(model, ids, labels, device)
            (loss / cfg.accumulate).backward()
            step_loss += float(loss.detach()) / cfg.accumulate
            result.examples_seen += 1
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        result.steps = step + 1
        result.losses.append(round(step_loss, 4))
        window = [*window, step_loss][-5:]
        if progress is not None:
            progress.update(1)
            progress.set_postfix(loss=f"{sum(window) / len(window):.3f}")
        if time.monotonic() - t0 > cfg.minutes * 60:
            break
    if progress is not None:
        progress.close()
    first, last = result.losses[:5], result.losses[-5:]
    result.loss_first, result.loss_last = sum(first) / len(first), sum(last) / len(last)
    result.minutes = (time.monotonic() - t0) / 60
    model.eval()
    return model, result


def export_gguf(model, out: Path, arch: str, alpha: float, meta: dict[str, Any] | None = None) -> int:
    """Write the LoRA matrices of a peft model as a llama.cpp GGUF adapter; returns the tensor count."""
    import gguf
    import numpy as np

    if arch in PERMUTED:
        raise TuneError(f"exporting a LoRA for the {arch!r} architecture is not supported")
    writer = gguf.GGUFWriter(str(out), arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    for key, value in (meta or {}).items():
        writer.add_string(f"tacit.{key}", str(value))
    n = 0
    for name, param in model.named_parameters():
        m = LORA_PARAM.search(name)
        if m is None:
            continue
        layer, module, ab = m.groups()
        tensor = param.detach().to("cpu").float().numpy().astype(np.float32)
        writer.add_tensor(f"blk.{layer}.{LLAMA_NAMES[module]}.weight.lora_{ab.lower()}", tensor)
        n += 1
    if n == 0:
        raise TuneError("the model has no LoRA weights to export")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return n


def tune(gguf_path: Path, examples: list[Example], out: Path, cfg: TrainConfig,
         progress: Callable[[str], None] = print, bar: Callable[..., Any] | None = None) -> dict[str, Any]:
    """The whole run: load, encode, train, export. Returns a report (also stored as the adapter's meta)."""
    _require()
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    arch = architecture(gguf_path)
    if arch in PERMUTED:
        raise TuneError(f"LoRA export for the {arch!r} architecture is not supported yet")
    t0 = time.monotonic()
    tokenize = LlamaTokenizer(gguf_path)
    data, skipped = encode(examples, tokenize, cfg.max_tokens)
    tokenize.close()
    progress(f"examples: {len(data)} ({skipped} longer than {cfg.max_tokens} tokens skipped)")
    model = load_base(gguf_path, device, progress)
    load_minutes = (time.monotonic() - t0) / 60
    model, result = train(model, data, cfg, device, bar)
    result.examples_used, result.skipped_long, result.load_minutes = len(data), skipped, load_minutes
    report = {"base_model": gguf_path.name, "architecture": arch, "config": asdict(cfg),
              "sources": {s: sum(1 for e in examples if e.source == s)
                          for s in ("workspace", "chunk", "accepted")},
              **{k: v for k, v in asdict(result).items() if k != "losses"}, "losses": result.losses[-200:]}
    out.parent.mkdir(parents=True, exist_ok=True)
    tensors = export_gguf(model, out, arch, cfg.alpha, {"base_model": gguf_path.name, "steps": result.steps})
    report["tensors"] = tensors
    progress(f"adapter: {out} ({tensors} tensors, {out.stat().st_size / 1e6:.1f} MB, "
             f"loss {_fmt(result.loss_first)} -> {_fmt(result.loss_last)}, {result.minutes:.1f} min)")
    return json.loads(json.dumps(report))


def _fmt(x: float | None) -> str:
    return "?" if x is None or math.isnan(x) else f"{x:.3f}"
