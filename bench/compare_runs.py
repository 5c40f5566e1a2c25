"""Compare two configurations of `bench/repo_eval.py` hole by hole, across result files.

The model's greedy predictions do not depend on the other configurations of a run, so a change that
only touches one configuration (say, how definitions are rendered, which the bare prefix never
shows) can be run for that configuration alone (`--configs all --tag new`) and compared with the
bare prefix of an earlier run on the same seeded holes:

    python bench/compare_runs.py --base heal:prefix --new nodots:all --kind line
    python bench/compare_runs.py --base block:prefix --new nodots:all --kind block --also block:all
    python bench/compare_runs.py --base sbs:prefix --new dedup:all,sbs:all --also sbs:all --kind api

A side may name several `tag:config`s, comma-separated: the first that predicted a hole answers for it
(a run with `repo_eval.py --only` on the holes a change touched, then the earlier run for the rest).

Prints, per repository and in total, exact matches and mean edit similarity on the holes both
runs predicted, and how many holes the new side won and lost; `--also` adds a third column (the
configuration the new one replaces), with how many of its predictions changed. For API-call and
call holes the total is also split by where the new side's prompt shows the whole call (`by_place`),
with the most that copying it could reach. `--ids FILE` keeps only the REPO/HOLE_ID lines of a file
(the `--only` file a change's run used), so the earlier run is scored on the same holes:

    python bench/compare_runs.py --base sbs:prefix --new dedup:all,sbs:all --kind api
        --ids bench/results/window8000-holes.txt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from changed_prompts import result_file
from repo_eval import ALL, KINDS, RESULTS, read_ids  # the benchmark's repositories, hole kinds, results, id files


def load(repo: str, spec: str, kind: str) -> dict[str, dict]:
    """The predicted samples of `tag:config[,tag:config...]` (tag "" is the untagged file), by hole id;
    a hole is answered by the first of them that predicted it."""
    out: dict[str, dict] = {}
    for one in reversed(spec.split(",")):
        tag, config = one.split(":")
        samples = json.loads(result_file(RESULTS, tag, repo).read_text())["samples"]
        out.update({s["id"]: s for s in samples
                    if s["kind"] == kind and s["config"] == config and s.get("prediction") is not None})
    return out


def summary(rows: list[tuple[dict, ...]]) -> dict:
    n = len(rows)
    out = {"n": n}
    for i, name in enumerate(("base", "new", "also")[:len(rows[0]) if rows else 0]):
        out[name] = {"exact": sum(r[i]["exact_match"] for r in rows),
                     "edit_similarity": round(sum(r[i]["edit_similarity"] for r in rows) / max(n, 1), 3),
                     "just_dots": sum(r[i]["prediction"].strip() == "..." for r in rows)}
    out["new_won"] = sum(r[1]["exact_match"] and not r[0]["exact_match"] for r in rows)
    out["new_lost"] = sum(r[0]["exact_match"] and not r[1]["exact_match"] for r in rows)
    if rows and len(rows[0]) == 3:
        out["changed_from_also"] = sum(r[1]["prediction"] != r[2]["prediction"] for r in rows)
    return out


def by_place(rows: list[tuple[dict, ...]]) -> dict | None:
    """API-call and call holes: the summary per place the new side's prompt shows the whole call
    (`window`, only the `snippets`, `absent`), and `copy_bound`: the new side's exact matches if it
    wrote every call its prompt shows, with the other holes as predicted."""
    if not rows or "call_in_prompt" not in rows[0][1]:
        return None
    places = sorted({r[1]["call_in_prompt"] for r in rows})
    out = {place: summary([r for r in rows if r[1]["call_in_prompt"] == place]) for place in places}
    out["copy_bound"] = sum(r[1]["call_in_prompt"] != "absent" or r[1]["exact_match"] for r in rows)
    return out


def spec(text: str) -> str:
    """A `tag:config[,tag:config...]` argument, checked before any file is read."""
    for one in text.split(","):
        if one.count(":") != 1 or not one.split(":")[1]:
            raise argparse.ArgumentTypeError(f"expected tag:config (e.g. heal:prefix), got {one!r}")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=spec, required=True, help="tag:config, e.g. heal:prefix")
    parser.add_argument("--new", type=spec, required=True, help="tag:config, e.g. nodots:all, or several: "
                                                                        "dedup:all,sbs:all (the first that has a hole)")
    parser.add_argument("--also", type=spec, help="tag:config the new one replaces, e.g. heal:all")
    parser.add_argument("--kind", required=True, choices=KINDS)
    parser.add_argument("--repos", default=",".join(ALL))
    parser.add_argument("--ids", type=read_ids, metavar="FILE",
                        help="only the holes listed in FILE (REPO/HOLE_ID lines, as for repo_eval.py --only)")
    parser.add_argument("--out", help="also write the figures to this JSON file")
    args = parser.parse_args()
    specs = [args.base, args.new] + ([args.also] if args.also else [])
    report, every = {}, []
    for repo in args.repos.split(","):
        try:
            sides = [load(repo, spec, args.kind) for spec in specs]
        except (OSError, ValueError) as e:  # a run not finished yet, or another tag's repositories
            report[repo] = {"missing": str(e)}
            continue
        common = sorted(i for i in set.intersection(*(set(s) for s in sides))
                        if args.ids is None or f"{repo}/{i}" in args.ids)
        rows = [tuple(s[i] for s in sides) for i in common]
        every += rows
        report[repo] = summary(rows)
    report["total"] = summary(every)
    if (places := by_place(every)) is not None:
        report["total"]["by_place"] = places
    text = json.dumps({"kind": args.kind, "base": args.base, "new": args.new, "also": args.also,
                       "ids": None if args.ids is None else len(args.ids), **report}, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
