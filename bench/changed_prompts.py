"""The picked holes whose prompt differs between two `bench/repo_eval.py` runs: what `--only` runs again.

A change to the context engine that alters few prompts is measured on those alone. Build the prompts
with the code before and after the change (`--prompts-only`: the model's tokenizer counts the budget,
no prediction is made; the earlier code from a `git worktree`), then list the holes whose hashed
prompt differs, or that one side lacks:

    git worktree add /tmp/before HEAD && (cd /tmp/before && python bench/repo_eval.py --repo all
        --holes line=80,api=80,call=80,block=60 --configs all --prompts-only --tag before)
    python bench/repo_eval.py --repo all --holes line=80,api=80,call=80,block=60 --configs all
        --prompts-only --tag after
    python bench/changed_prompts.py --old /tmp/before/bench/results:before --new after --out changed.txt
    python bench/repo_eval.py --repo all --holes ... --configs all --only changed.txt --tag after-run

A side is `[FOLDER:]TAG` (FOLDER defaults to bench/results; TAG "" is the untagged file). Writes
REPO/HOLE_ID lines (stdout, or `--out`), and on stderr how many holes of each repository changed.
`--new-config` compares two configurations (`--config all --new-config near`: what trying `near` costs).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from repo_eval import ALL, RESULTS  # the benchmark's own repositories and results folder


def side(text: str) -> tuple[Path, str]:
    """`[FOLDER:]TAG` -> (folder, tag)."""
    folder, _, tag = text.rpartition(":")
    return (Path(folder) if folder else RESULTS), tag


def result_file(folder: Path, tag: str, repo: str) -> Path:
    """Where a run tagged `tag` wrote one repository's results."""
    return folder / (f"repo_eval-{repo}-{tag}.json" if tag else f"repo_eval-{repo}.json")


def hashes(folder: Path, tag: str, repo: str, config: str) -> tuple[dict[str, str], str]:
    """The hashed prompts of one run's picked holes under `config`, and how it counted tokens."""
    path = result_file(folder, tag, repo)
    try:
        report = json.loads(path.read_text())
    except OSError as e:
        raise SystemExit(f"{path}: {e.strerror}") from None
    except ValueError as e:
        raise SystemExit(f"{path}: not a repo_eval result ({e})") from None
    by_config = report.get("prompt_sha")
    if by_config is None:
        raise SystemExit(f"{path}: no prompt hashes (a run from before they were recorded: run it again)")
    if config not in by_config:
        raise SystemExit(f"{path}: no configuration {config!r} (it has {', '.join(by_config) or 'none'})")
    return by_config[config], report.get("tokens_counted_by", "")


def changed(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Hole ids whose hash differs, or that only one side picked."""
    return sorted(i for i in old.keys() | new.keys() if old.get(i) != new.get(i))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=side, required=True, help="[FOLDER:]TAG of the run before the change")
    parser.add_argument("--new", type=side, required=True, help="[FOLDER:]TAG of the run after it")
    parser.add_argument("--config", default="all", help="the configuration whose prompts are compared")
    parser.add_argument("--new-config", help="the new run's configuration, when it has another name (e.g. a "
                                             "configuration added to try a change: --config all --new-config near)")
    parser.add_argument("--repos", default=",".join([*ALL, "lodash-es"]),
                        help="repositories (those with no result file under both tags are skipped)")
    parser.add_argument("--out", help="write the REPO/HOLE_ID lines here instead of stdout")
    args = parser.parse_args()
    lines: list[str] = []
    for repo in args.repos.split(","):
        if not any(result_file(*run, repo).exists() for run in (args.old, args.new)):
            continue
        old, old_by = hashes(*args.old, repo, args.config)
        new, new_by = hashes(*args.new, repo, args.new_config or args.config)
        if old_by != new_by:  # the budget is counted in tokens: another count, other prompts
            raise SystemExit(f"{repo}: tokens were counted by {old_by or '?'} in one run and {new_by or '?'} "
                             "in the other; build both with --prompts-only (the model's tokenizer)")
        ids = changed(old, new)
        print(f"{repo}: {len(ids)} of {len(old.keys() | new.keys())} prompts changed", file=sys.stderr)
        lines += [f"{repo}/{i}" for i in ids]
    text = "".join(f"{ln}\n" for ln in lines)
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
