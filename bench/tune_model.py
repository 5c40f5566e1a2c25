"""Does `tacit tune model` make the model better on a codebase? Base vs tuned, side by side, one run.

    python bench/tune_model.py --repo PATH|NAME [--other PATH|NAME] [--holes N] [--minutes M] [--steps S]
                               [--no-chunks] [--no-heal] [--tag NAME]

1. Files of the repository are split by a stable hash of their path (`tuning.dataset.held_out`):
   the adapter trains on the others only (the workspace's own code, cut into FIM holes and read
   straight through in chunks).
2. Evaluation holes (the rest of a line, from a cursor inside it) are cut from the held-out files,
   and from another repository that training never saw at all (it must not get worse there).
3. One engine serves every hole twice: without the adapter and with it (hot-swapped in with
   `LlamaEngine.set_adapter`, as the server does), greedy decoding, prompts rendered exactly as in
   training and in the server (the file header, FIM prefix and one line of suffix). With token
   healing (the default, as in the server; `--no-heal` for the prompts before it) a prompt for a
   cursor inside a word ends before the word, the engine writes the word again first, and only
   what follows it is compared with the rest of the line; training holes start there too.

Writes bench/results/tune_model-<repo>.json (base_exact_match, tuned_exact_match,
other_repo_base_exact_match, other_repo_tuned_exact_match, train_minutes, examples, ...) and a PNG.
NAME is one of the pinned repositories of bench/repo_eval.py (fetched from PyPI on first use).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from context import prompt as prompts  # noqa: E402
from lsp_server import models  # noqa: E402
from lsp_server.engines.base import GenOptions  # noqa: E402
from lsp_server.pipeline import heal  # noqa: E402
from tuning.dataset import (  # noqa: E402
    TRAIN_PROMPT,
    chunk_examples,
    held_out,
    holes,
    render,
    source_files,
    split_files,
    workspace_examples,
)
from tuning.metrics import similarity  # noqa: E402

RESULTS = ROOT / "bench" / "results"
EVAL_OPTS = TRAIN_PROMPT  # evaluation prompts are shaped like the training ones


def repository(spec: str) -> Path:
    """A checkout path, or the name of a pinned repository (fetched once)."""
    path = Path(spec)
    if path.is_dir():
        return path.resolve()
    import repo_eval

    if spec not in repo_eval.PINNED:
        raise SystemExit(f"{spec}: not a directory nor one of {', '.join(repo_eval.PINNED)}")
    return repo_eval.fetch(spec, repo_eval.default_cache())


def eval_holes(root: Path, template: prompts.Template, n: int, seed: int, only_held_out: bool,
               language: str, healed: bool = True) -> list[dict]:
    """`n` rest-of-line holes from the repository's files (only the held-out ones if asked), seeded.
    `healed`: as in the server, a prompt for a cursor inside a word ends before the word, and the
    engine must write it again (`heal`) before the rest of the line (the truth) is compared."""
    rng = random.Random(seed)
    files = [f for f in split_files(root, "held_out" if only_held_out else "all") if f[1] == language]
    if not files:
        raise SystemExit(f"no {language} files to cut holes from in {root}")
    out = []
    per_file = max(1, -(-n // len(files)))
    for rel, lang, text in files:
        for start, end in holes(text, rng, per_file, line_share=1.0, healed=False):
            truth = text[start:end]
            if len(truth.strip()) < 2:
                continue
            cut = start - len(heal.tail(text, start) if healed else "")
            out.append({"path": rel, "truth": truth, "heal": text[cut:start],
                        "prompt": render(template, root.name, rel, lang, text[:cut], text[end:], EVAL_OPTS)})
    rng.shuffle(out)
    out = sorted(out[:n], key=lambda h: (h["path"], len(h["prompt"])))  # neighbours share KV-cache prefixes
    return out


def complete_line(engine, prompt: str, healed: str = "") -> str:
    """Greedy completion of the rest of the line (after `healed`, which the engine writes first)."""
    stop = threading.Event()
    text = ""
    for piece in engine.generate(prompt, GenOptions(max_tokens=48, heal=healed), stop):
        text += piece
        if "\n" in text:
            stop.set()
            break
    return text.split("\n", 1)[0]


def score(engine, hs: list[dict], label: str) -> dict:
    """Exact match and edit similarity of the rest of the line, with every prediction (`samples`, in
    hole order) so that two runs can be compared hole by hole."""
    exact, sims, samples = 0, [], []
    t0 = time.monotonic()
    for i, h in enumerate(hs):
        got = complete_line(engine, h["prompt"], h["heal"])
        want = h["truth"].split("\n", 1)[0]
        hit = got.strip() == want.strip()
        exact += hit
        sims.append(similarity(got.strip(), want.strip()))
        samples.append({"path": h["path"], "truth": want, "heal": h["heal"], "prediction": got, "exact_match": hit})
        print(f"\r  {label}: {i + 1}/{len(hs)} exact {exact}", end="", flush=True)
    print()
    return {"n": len(hs), "exact_match": round(exact / len(hs), 3) if hs else None,
            "edit_similarity": round(sum(sims) / len(sims), 3) if sims else None,
            "minutes": round((time.monotonic() - t0) / 60, 2), "samples": samples}


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{report['repo']}\n(held-out files)", f"{report['other_repo']}\n(never trained on)"]
    base = [report["base_exact_match"], report["other_repo_base_exact_match"]]
    tuned = [report["tuned_exact_match"], report["other_repo_tuned_exact_match"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], base, 0.4, label="base model")
    seen = report.get("examples_seen")
    ax.bar([x + 0.2 for x in xs], tuned, 0.4, label=f"tuned ({seen} of {report['examples']} examples seen, "
                                                   f"{report['train_minutes']:.0f} min)" if seen else "tuned")
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("exact match (rest of line)")
    ax.set_title(f"tacit tune model: {report['model']}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", required=True, help="a checkout, or a pinned name from bench/repo_eval.py")
    ap.add_argument("--other", default="requests", help="a repository the adapter never sees")
    ap.add_argument("--language", default="python")
    ap.add_argument("--holes", type=int, default=80, help="holes per repository")
    ap.add_argument("--minutes", type=float, default=30.0, help="training time budget")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--top-layers", type=int, default=8, help="LoRA on the last N layers (0: all)")
    ap.add_argument("--per-file", type=int, default=6, help="training holes per file")
    ap.add_argument("--chunks", action=argparse.BooleanOptionalAction, default=True,
                    help="also learn the training files read straight through")
    ap.add_argument("--heal", action=argparse.BooleanOptionalAction, default=True,
                    help="token healing, as in the server: training holes and evaluation prompts end before "
                         "the word at the cursor (--no-heal: at the cursor, as before it)")
    ap.add_argument("--model", help="model name or GGUF path (default: the default model)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--adapter", type=Path, help="evaluate this adapter instead of training one")
    ap.add_argument("--tag", help="write tune_model-<repo>-<tag>.json, beside the default run's files")
    args = ap.parse_args()

    from tqdm import tqdm

    from lsp_server.engines.llama import LlamaEngine
    from tuning.adapt import TrainConfig, tune

    repo, other = repository(args.repo), repository(args.other)
    path = models.resolve_model(args.model)
    template = prompts.template_for(models.family_of(path))
    name = repo.name
    cache = models.cache_dir().parent / "bench-adapters"
    cache.mkdir(parents=True, exist_ok=True)
    # The held-out split hashes each file's path relative to the root: the same tree read from its
    # parent folder splits differently, so the report says what was read.
    paths = [rel for rel, _, _ in source_files(repo)]
    held = sum(map(held_out, paths))
    report: dict = {"repo": name, "other_repo": other.name, "model": path.name, "seed": args.seed,
                    "token_healing": args.heal, "root": str(repo), "other_root": str(other),
                    "files": {"train": len(paths) - held, "held_out": held}}
    if args.adapter is None:
        examples = workspace_examples(repo, template, per_file=args.per_file, seed=args.seed, split="train",
                                      healed=args.heal)
        examples += chunk_examples(repo, template, split="train") if args.chunks else []
        adapter = cache / f"{name}-{path.stem}.gguf"
        cfg = TrainConfig(steps=args.steps, minutes=args.minutes, lr=args.lr, rank=args.rank, seed=args.seed,
                          top_layers=args.top_layers)
        trained = tune(path, examples, adapter, cfg, bar=lambda **kw: tqdm(file=sys.stderr, **kw))
        report.update(train_minutes=round(trained["minutes"], 2), load_minutes=round(trained["load_minutes"], 2),
                      examples=trained["examples_used"], examples_seen=trained["examples_seen"],
                      sources=trained["sources"],
                      steps=trained["steps"], loss_first=trained["loss_first"], loss_last=trained["loss_last"],
                      train_config=trained["config"], device=trained["device"])
    else:
        adapter = args.adapter
        report.update(train_minutes=None, examples=None)
    hs = eval_holes(repo, template, args.holes, args.seed + 1, True, args.language, args.heal)
    hs_other = eval_holes(other, template, args.holes, args.seed + 2, False, args.language, args.heal)
    engine = LlamaEngine(path, n_ctx=2048)
    results = {}
    for label, use in (("base", None), ("tuned", adapter)):
        engine.set_adapter(use)
        results[label] = {"repo": score(engine, hs, f"{label} {name}"),
                          "other": score(engine, hs_other, f"{label} {other.name}")}
    engine.close()
    report.update(
        base_exact_match=results["base"]["repo"]["exact_match"],
        tuned_exact_match=results["tuned"]["repo"]["exact_match"],
        other_repo_base_exact_match=results["base"]["other"]["exact_match"],
        other_repo_tuned_exact_match=results["tuned"]["other"]["exact_match"],
        holes=len(hs), other_holes=len(hs_other), details=results)
    b, t = report["base_exact_match"], report["tuned_exact_match"]
    report["relative_gain"] = round((t - b) / b, 3) if b else None
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"tune_model-{name}{'-' + args.tag if args.tag else ''}.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    plot(report, out.with_suffix(".png"))
    print(json.dumps({k: v for k, v in report.items() if k not in ("details", "train_config")}, indent=1))
    print(f"wrote {out} and {out.with_suffix('.png').name}")


if __name__ == "__main__":
    main()
