"""Offline experiment (not kept): pick among the calls the prompt shows by the model's own likelihood.

For each API-call hole of a repo_eval run (config `all`), score the model's greedy line and up to
eight other argument lists of the same callee that the prompt shows (each to its line's end) by the
default model's log-probability given the same prompt: the sum over its tokens plus the
log-probability that the middle ends there. `sum` picks the highest total, `mean` the highest
per-token mean; `oracle` counts holes whose truth is the greedy line or one of the candidates.

    python bench/rerank_shown_calls.py [TAG] [REPOS]   (default: inprompt, the five Python repositories)
"""
import collections
import json
import math
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]

import repo_eval as R  # noqa: E402

from context import prompt as prompts  # noqa: E402
from lsp_server.engines.llama import LlamaEngine  # noqa: E402
from lsp_server.models import family_of, resolve_model  # noqa: E402


def main() -> None:
    tag = sys.argv[1] if len(sys.argv) > 1 else "inprompt"
    repos = sys.argv[2].split(",") if len(sys.argv) > 2 else list(R.ALL)
    path = resolve_model(None)
    eng = LlamaEngine(path, family=family_of(path))
    llm = eng.llm
    template = prompts.template_for(eng.family)
    newline = eng.tokenize("\n")[0]
    eog = [t for t in range(llm.n_vocab()) if eng._llama_cpp.llama_vocab_is_eog(eng._vocab, t)]

    def logprobs() -> np.ndarray:
        n = llm.n_vocab()
        lg = np.ctypeslib.as_array(eng._llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(n,))
        lg = lg.astype(np.float64)
        top = lg.max()
        return lg - top - math.log(np.exp(lg - top).sum())

    def prime(tokens: list[int]) -> None:
        start = min(eng.cached_prefix(tokens), len(tokens) - 1)
        llm.n_tokens = start
        for i in range(start, len(tokens), 256):
            llm.eval(tokens[i:i + 256])

    def score(tokens: list[int], cand: str) -> tuple[float, float, int]:
        llm.n_tokens = len(tokens) - 1
        llm.eval(tokens[-1:])
        total = 0.0
        cand_tokens = eng.tokenize(cand)
        for t in cand_tokens:
            total += logprobs()[t]
            llm.eval([t])
        lp = logprobs()
        end = float(np.logaddexp.reduce([lp[e] for e in eog] + [lp[newline]]))  # the middle or the line ends
        return total, end, len(cand_tokens)

    tot: collections.Counter = collections.Counter()
    rows = []
    for name in repos:
        runs = json.loads((ROOT / f"bench/results/repo_eval-{name}-{tag}.json").read_text())["samples"]
        em = {s["id"]: s for s in runs if s["config"] == "all"}
        with tempfile.TemporaryDirectory() as tmp:
            ws = R.open_workspace(name, R.fetch(name, R.default_cache()), None, Path(tmp), 0)
            holes = R.cut_holes(ws, dict(R.DEFAULT_CUT), 0, 12)
            keep = R.pick_for_model(holes, {"api": 40}, 0)
            opts = prompts.PromptOptions(prefix_chars=3000, prefix_keep_chars=2000)
            built_all = R.build_prompts(ws, holes, {"all": R.configs()["all"]}, template, opts,
                                        eng.count_tokens, keep)
            for hole, built in built_all:
                if hole.id not in keep or hole.kind != "api":
                    continue
                p = built["all"].prompt
                doc = ws.texts[hole.path]
                callee = R.QUALIFIER.sub("", doc[hole.call_start:hole.start])  # "f("
                cands: list[str] = []
                for m in re.finditer(r"(?<![A-Za-z0-9_])" + re.escape(callee), p.text):
                    rest = p.text[m.end():].split("\n", 1)[0].rstrip()
                    if rest and rest not in cands:
                        cands.append(rest)
                pred, truth = em[hole.id]["prediction"].rstrip(), hole.truth.rstrip()
                others = [c for c in cands if c != pred]
                tot["n"] += 1
                tot["greedy"] += pred == truth
                tot["oracle"] += pred == truth or truth in cands
                if not others:
                    tot["sum"] += pred == truth
                    tot["mean"] += pred == truth
                    continue
                head = eng.tokenize(p.text[:p.head_chars]) if p.head_chars else []
                tokens = head + eng.tokenize(p.text[p.head_chars:])
                prime(tokens)
                scored = [(c, *score(tokens, c)) for c in [pred, *others[:8]]]
                best_sum = max(scored, key=lambda x: x[1] + x[2])[0]
                best_mean = max(scored, key=lambda x: (x[1] + x[2]) / (x[3] + 1))[0]
                tot["sum"] += best_sum == truth
                tot["mean"] += best_mean == truth
                rows.append({"id": hole.id, "truth": truth, "pred": pred, "sum": best_sum, "mean": best_mean,
                             "scored": [(c, round(a, 2), round(b, 2), n) for c, a, b, n in scored]})
                print(name, hole.id, "greedy", pred == truth, "sum", best_sum == truth, flush=True)
        print(name, dict(tot), flush=True)
    out = ROOT / f"bench/results/rerank_shown_calls-{tag}.json"
    out.write_text(json.dumps({"tot": dict(tot), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
