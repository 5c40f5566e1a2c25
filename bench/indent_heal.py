"""Indentation healing, measured: suggestions where the cursor follows the indentation of a line.

Holes: indented code lines of real repositories (the pinned packages of `bench/repo_eval.py`, or
any checkout), the cursor right after the line's indentation (where an editor leaves it after
Enter), the rest of the line hidden. Seeded and deterministic. Each hole is completed twice by the
same engine, side by side:

- `plain`: the prompt ends with the indentation (what the server did before);
- `healed`: the prompt leaves out the indentation's last character, which the model writes as the
  start of its first token and which is taken off again (`lsp_server.pipeline.indent`, what the
  server does now).

Both use the server's template, a 3,000-character prefix and its short suffix, and the server's
stop strings; the first line is compared with the truth. Metrics per variant: exact match, edit
similarity, and the share of suggestions that start with whitespace (an extra indentation level
at a cursor that already sits at the indentation).

    python bench/indent_heal.py [--repo requests --repo click | --repo PATH ...] [--holes 30] [--seed 0]

Writes bench/results/indent_heal.json and indent_heal.png.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from repo_eval import PINNED, SourceFile, default_cache, edit_similarity, fetch, line_rows  # noqa: E402

from context import assemble  # noqa: E402
from context import prompt as prompts  # noqa: E402
from lsp_server.pipeline import filters, indent  # noqa: E402
from tuning.dataset import source_files  # noqa: E402

RESULTS = ROOT / "bench" / "results"
VARIANTS = ("plain", "healed")


def holes(root: Path, n: int, seed: int) -> list[dict]:
    """`n` seeded holes: the rest of an indented Python code line, the cursor after its indentation."""
    pool = []
    for rel, language, text in sorted(source_files(root)):
        if language != "python":
            continue
        src = SourceFile("python", text)
        for row in line_rows("python", src):
            start = src.line_starts[row]
            line = text[start: src.line_end(start)]
            width = len(line) - len(line.lstrip())
            if width and len(line.strip()) >= 2:
                pool.append((rel, text, start + width, start + len(line.rstrip())))
    rng = random.Random(f"indent-heal:{seed}")
    picked = sorted(rng.sample(range(len(pool)), min(n, len(pool))))
    return [{"path": rel, "document": text[:cur] + text[end:], "cursor": cur, "truth": text[cur:end]}
            for rel, text, cur, end in (pool[i] for i in picked)]


def complete(engine, template: prompts.Template, hole: dict, healed: bool) -> str:
    doc, offset, cut = hole["document"], hole["cursor"], ""
    if healed:
        doc, offset, cut = indent.cut(doc, offset)
    cfg = assemble.ContextConfig.prefix_only()
    cfg.suffix = True
    prompt, _ = assemble.build(template, doc, offset, hole["path"], "python", cfg, assemble.Sources(),
                               prompts.PromptOptions(prefix_chars=3000), engine.count_tokens)
    from lsp_server.engines.base import GenOptions

    pieces = engine.generate(prompt.text, GenOptions(max_tokens=48, stop=list(template.stops),
                                                     head_chars=prompt.head_chars), threading.Event())
    try:
        stream = indent.strip(filters.lines(filters.stop_strings(pieces, list(template.stops))), cut)
        return "".join(filters.first_line(stream))
    finally:
        pieces.close()


def summary(rows: list[dict]) -> dict:
    n = len(rows)
    return {"n": n, "exact_match": round(sum(r["exact"] for r in rows) / n, 3) if n else None,
            "edit_similarity": round(sum(r["similarity"] for r in rows) / n, 3) if n else None,
            "starts_with_whitespace": round(sum(r["prediction"][:1] in (" ", "\t") for r in rows) / n, 3)
            if n else None,
            "empty": round(sum(not r["prediction"].strip() for r in rows) / n, 3) if n else None}


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ("exact_match", "edit_similarity", "starts_with_whitespace")
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, v in enumerate(VARIANTS):
        vals = [report["variants"][v][m] for m in metrics]
        ax.bar([x + (i - 0.5) * 0.38 for x in range(len(metrics))], vals, 0.38,
               label="prompt ends with the indentation" if v == "plain" else "healed (the model writes it)")
    ax.set_xticks(range(len(metrics)), ["exact match", "edit similarity", "starts with whitespace\n(lower is better)"])
    ax.set_ylim(0, 1)
    ax.set_title(f"Cursor after indentation: {report['holes']} holes in {', '.join(report['repos'])}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", action="append", default=None, help="a pinned package or a folder (repeatable)")
    ap.add_argument("--holes", type=int, default=30, help="holes per repository")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default=None)
    ap.add_argument("--cache", default=None, help="where pinned repositories are unpacked")
    args = ap.parse_args()
    from lsp_server.engines.llama import LlamaEngine
    from lsp_server.models import family_of, resolve_model

    cache = Path(args.cache) if args.cache else default_cache()
    path = resolve_model(args.model)
    engine = LlamaEngine(path, family=family_of(path))
    template = prompts.template_for(engine.family)
    rows: list[dict] = []
    names = []
    t0 = time.perf_counter()
    for spec in args.repo or ["requests", "click"]:
        root = fetch(spec, cache) if spec in PINNED else Path(spec).resolve()
        names.append(spec if spec in PINNED else root.name)
        hs = holes(root, args.holes, args.seed)
        for healed in (False, True):  # all holes of one variant in a row: neighbours share the KV cache
            for i, h in enumerate(hs):
                got = complete(engine, template, h, healed)
                rows.append({"repo": names[-1], "variant": VARIANTS[healed], "path": h["path"],
                             "cursor": h["cursor"], "truth": h["truth"], "prediction": got,
                             "exact": got.rstrip() == h["truth"].rstrip(),
                             "similarity": round(edit_similarity(got, h["truth"], "line"), 4)})
                print(f"\r{names[-1]} {VARIANTS[healed]}: {i + 1}/{len(hs)}", end="", flush=True)
            print()
    engine.close()
    report = {"repos": names, "holes": len(rows) // 2, "seed": args.seed, "model": path.name,
              "template": template.name, "minutes": round((time.perf_counter() - t0) / 60, 1),
              "variants": {v: summary([r for r in rows if r["variant"] == v]) for v in VARIANTS},
              "by_repo": {n: {v: summary([r for r in rows if r["variant"] == v and r["repo"] == n])
                              for v in VARIANTS} for n in names},
              "samples": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "indent_heal.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    plot(report, out.with_suffix(".png"))
    print(json.dumps({k: report[k] for k in ("repos", "holes", "variants", "minutes")}, indent=1))
    print(f"wrote {out} and {out.with_suffix('.png').name}")


if __name__ == "__main__":
    main()
