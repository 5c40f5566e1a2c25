"""Does prompt-lookup speculative decoding help Tacit? Greedy decode speed with and without it.

Completions often copy from the context (names, argument lists, repeated patterns), which
is what prompt-lookup drafting exploits. We complete the same holes (line starts in a real
file, a fixed prompt window so the KV cache is reused between holes) with plain decoding
and with llama-cpp-python's LlamaPromptLookupDecoding, check that greedy outputs agree,
and compare decode speed and memory. Writes bench/results/speculative.json.

    python bench/speculative.py [--holes 8] [--tokens 48] [--draft 8]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import psutil

from lsp_server.models import resolve_model

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "bench" / "results"


def holes(text: str, count: int) -> tuple[int, list[int]]:
    """A fixed window start and `count` line-start offsets after it."""
    starts = [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    window = starts[len(starts) // 2]
    later = [s for s in starts if s > window + 1500 and text[s:s + 8].strip()]
    step = max(1, len(later) // count)
    return window, later[::step][:count]


def run(model: Path, draft: int, text: str, window: int, offsets: list[int], tokens: int) -> dict:
    import llama_cpp

    rss0 = psutil.Process().memory_info().rss
    kwargs = {}
    if draft:
        from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

        kwargs["draft_model"] = LlamaPromptLookupDecoding(num_pred_tokens=draft)
    llm = llama_cpp.Llama(str(model), n_ctx=4096, n_batch=256, verbose=False, **kwargs)
    rss = psutil.Process().memory_info().rss - rss0
    outs, decode_s, generated = [], 0.0, 0
    for off in offsets:
        prompt = llm.tokenize(f"<|fim_prefix|>{text[window:off]}".encode(), add_bos=False, special=True)
        llm.create_completion(prompt=prompt, max_tokens=1, temperature=0.0)  # prefill, untimed
        t0 = time.perf_counter()
        res = llm.create_completion(prompt=prompt, max_tokens=tokens, temperature=0.0, top_k=1)
        decode_s += time.perf_counter() - t0
        generated += res["usage"]["completion_tokens"]
        outs.append(res["choices"][0]["text"])
    llm.close()
    return {"draft_tokens": draft, "tokens": generated, "seconds": round(decode_s, 2),
            "tokens_per_s": round(generated / decode_s, 2), "model_rss_mb": round(rss / 2**20), "outputs": outs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holes", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--draft", type=int, default=8)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    model = resolve_model(args.model)
    text = (ROOT / "seeds" / "demo" / "textwrap.py").read_text()
    window, offsets = holes(text, args.holes)
    plain = run(model, 0, text, window, offsets, args.tokens)
    result = {"model": model.name, "holes": len(offsets), "plain": plain}
    try:
        spec = run(model, args.draft, text, window, offsets, args.tokens)
    except (ValueError, RuntimeError) as exc:  # llama-cpp-python's draft path needs logits_all
        result["prompt_lookup"] = {"draft_tokens": args.draft, "error": f"{type(exc).__name__}: {exc}"}
        result["speedup"] = None
    else:
        agree = sum(a == b for a, b in zip(plain["outputs"], spec["outputs"], strict=True))
        result.update({"prompt_lookup": spec, "speedup": round(spec["tokens_per_s"] / plain["tokens_per_s"], 3),
                       "outputs_identical": f"{agree}/{len(offsets)}"})
        spec.pop("outputs")
    plain.pop("outputs")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speculative.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
