"""Long lines and large files: typing where no line starts near the cursor, and indexing them.

Generates, seeded, a minified JavaScript bundle (one line, about 600 KB) and a large Python module
(about 900 KB of short lines), each with a session that re-types its last statement at 120 ms a key,
replays both with `bench/latency.py` (the real server and model; no raw-engine twin), and times
indexing each file (`WorkspaceIndex.update_path`, the watcher's path) and its first parse. Also
times building the context of a small file right after a key typed in the bundle (the recent
edit then goes into that prompt's candidates), with the model's own tokenizer.

    python bench/long_lines.py [--model NAME|FILE] [--seed 1]

Writes bench/results/long_lines.json: per file, its shape, the index and parse times, and
latency.py's figures for its session (each replayed by a server of its own).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from context import assemble  # noqa: E402
from context import prompt as prompts  # noqa: E402
from context.edits import RecentEdits  # noqa: E402
from context.index import WorkspaceIndex  # noqa: E402
from context.syntax import SyntaxDocument  # noqa: E402
from lsp_server.models import resolve_model  # noqa: E402

RESULTS = ROOT / "bench" / "results"
KEY_MS = 120.0
TYPED_CHARS = 30
# latency.py's figures kept per file
KEPT = ("keystrokes", "keystrokes_with_suggestion", "outcomes", "p50_first_ms", "p95_first_ms", "generations",
        "prompt_tokens_mean", "prefilled_tokens_p50", "prompt_reuse_share", "cold_context_ms")


def minified(rng: random.Random, functions: int = 10_000) -> str:
    """A bundle as a minifier writes it: short names, no line breaks."""
    parts = []
    for i in range(functions):
        a, b = rng.choice("abcdefgh"), rng.choice("ijklmnop")
        parts.append(f"function f{i}({a},{b}){{var c={a}+{b}*{rng.randint(1, 999)};"
                     f"return g{rng.randrange(60)}(c,{a})}}")
    return ";".join(parts) + ";"


def large_python(rng: random.Random, target_bytes: int = 900_000) -> str:
    out, size, i = [], 0, 0
    while size < target_bytes:
        block = (f"def func_{i}(alpha, beta):\n"
                 f"    return helper_{rng.randrange(97)}(alpha, beta) + {rng.randint(1, 9999)}\n\n\n")
        out.append(block)
        size += len(block)
        i += 1
    return "".join(out)


def write_session(folder: Path, path: Path, language: str, cut: tuple[int, int]) -> None:
    typed = path.read_text(encoding="utf-8")[cut[0]:cut[1]][:TYPED_CHARS]
    events = [{"dt_ms": KEY_MS, "text": ch} for ch in typed]
    # the whole statement is cut, its start typed: a cursor with code after it on its line gets no suggestion
    header = {"name": path.name, "file": str(path), "language": language, "cut": list(cut)}
    (folder / f"{path.name}.jsonl").write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n")


def index_times(path: Path, language: str) -> dict:
    index = WorkspaceIndex([path.parent])
    t0 = time.perf_counter()
    index.update_path(path, paced=False)
    indexed = time.perf_counter() - t0
    t0 = time.perf_counter()
    SyntaxDocument(language, path.read_text(encoding="utf-8"))
    parsed = time.perf_counter() - t0
    text = path.read_text(encoding="utf-8")
    return {"bytes": len(text.encode()), "lines": text.count("\n") + 1,
            "longest_line": max(map(len, text.split("\n"))), "definitions": index.stats()["definitions"],
            "index_s": round(indexed, 3), "first_parse_s": round(parsed, 3)}


def context_after_bundle_edit(bundle: str, model: str | None, builds: int = 5) -> dict:
    """Context build time (ms) of a small file's prompt, right after a key typed in the bundle."""
    from llama_cpp import Llama

    llm = Llama(str(resolve_model(model)), vocab_only=True, verbose=False)

    def count(text: str) -> int:
        return len(llm.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=True))

    edits = RecentEdits()
    at = bundle.rindex("return ")
    edits.record("bundle.min.js", bundle, bundle[:at] + "x" + bundle[at:], at, at, "x")
    text = "def area(width, height):\n    return width * height\n\n\nprint(area("
    times = []
    for _ in range(builds):
        t0 = time.perf_counter()
        built, _ = assemble.build(prompts.TEMPLATES["qwen2.5-coder"], text, len(text), "main.py", "python",
                                  assemble.ContextConfig(), assemble.Sources(edits=edits), prompts.PromptOptions(),
                                  count)
        times.append((time.perf_counter() - t0) * 1000)
    return {"context_ms_p50": round(sorted(times)[len(times) // 2], 1), "prompt_chars": len(built.text),
            "builds": builds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(RESULTS / "long_lines.json"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="tacit-long-lines-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        bundle, module = work / "bundle.min.js", work / "large.py"
        bundle.write_text(minified(rng), encoding="utf-8")
        module.write_text(large_python(rng), encoding="utf-8")
        js, py = bundle.read_text(encoding="utf-8"), module.read_text(encoding="utf-8")
        body = py.rindex("    return ")
        cuts = {bundle: ("javascript", (js.rindex("function "), len(js))),
                module: ("python", (body, py.index("\n", body)))}
        for path, (language, cut) in cuts.items():
            sessions = Path(tmp) / f"sessions-{path.name}"
            sessions.mkdir()
            write_session(sessions, path, language, cut)
            replayed = Path(tmp) / f"{path.name}.json"
            cmd = [sys.executable, str(ROOT / "bench" / "latency.py"), "--sessions", str(sessions), "--no-raw",
                   "--out", str(replayed)] + (["--model", args.model] if args.model else [])
            subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            figures = json.loads(replayed.read_text())
            results[path.name] = {**index_times(path, language), **{k: figures[k] for k in KEPT}}
        after_edit = context_after_bundle_edit(js, args.model)
    result = {"model": figures["model"], "typed_chars": TYPED_CHARS, "key_ms": KEY_MS, "seed": args.seed,
              "files": results, "small_file_context_after_a_bundle_edit": after_edit}
    out = Path(args.out)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
