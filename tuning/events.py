"""`tacit events`: what the event store holds, as counts and rates, and as a JSONL dataset.

One exported line per suggestion, with what became of it (its outcome and accepted length)
and its retention checks; the fields keep one type each so Hugging Face `datasets` loads it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .store import rows

ACCEPTED = ("accepted", "partiallyAccepted")


def records(db: Path, workspace: str | None = None) -> Iterator[dict[str, Any]]:
    """Each stored suggestion with its signals folded in, oldest first."""
    signals: dict[str, list[Any]] = defaultdict(list)
    for r in rows(db, "SELECT id, kind, accepted_length, inferred FROM signals ORDER BY seq"):
        signals[r["id"]].append(r)
    retention: dict[str, list[dict]] = defaultdict(list)
    for r in rows(db, "SELECT id, after_s, similarity, chars FROM retention ORDER BY after_s"):
        retention[r["id"]].append({"after_s": float(r["after_s"]), "similarity": float(r["similarity"])})
    sql, args = "SELECT * FROM suggestions", ()
    if workspace:
        sql, args = sql + " WHERE workspace = ?", (workspace,)
    for r in rows(db, sql + " ORDER BY created", args):
        mine = signals.get(r["id"], [])
        kinds = [s["kind"] for s in mine]
        outcome = next((k for k in ("accepted", "dismissed", "typedOver", "rejected") if k in kinds), None)
        lengths = [s["accepted_length"] or 0 for s in mine if s["kind"] in ACCEPTED]
        if outcome is None and "partiallyAccepted" in kinds:
            outcome = "partiallyAccepted"
        yield {"id": r["id"], "created": r["created"], "workspace": r["workspace"], "path": r["path"],
               "language": r["language"], "mode": r["mode"], "line_prefix": r["line_prefix"],
               "prompt": r["prompt"] or "", "sources": json.loads(r["sources"]), "model": r["model"],
               "adapter": r["adapter"] or "", "latency_ms": float(r["latency_ms"] or 0.0), "text": r["text"],
               "features": json.dumps(json.loads(r["features"])),  # free-form: kept as a JSON string
               "shown": "shown" in kinds, "outcome": outcome or "", "accepted_length": max(lengths, default=0),
               "inferred": any(s["inferred"] for s in mine), "retention": retention.get(r["id"], [])}


def summary(db: Path, workspace: str | None = None) -> dict[str, Any]:
    """Counts, and acceptance rates (accepted or partly accepted / shown) by language and by context source."""
    out: dict[str, Any] = {"suggestions": 0, "shown": 0, "accepted": 0, "partiallyAccepted": 0,
                           "dismissed": 0, "typedOver": 0, "rejected": 0}
    by: dict[str, dict[str, list[int]]] = {"language": defaultdict(lambda: [0, 0]),
                                           "source": defaultdict(lambda: [0, 0])}
    kept: list[float] = []
    for rec in records(db, workspace):
        out["suggestions"] += 1
        if rec["outcome"]:
            out[rec["outcome"]] += 1
        if not rec["shown"]:
            continue
        out["shown"] += 1
        hit = int(rec["outcome"] in ACCEPTED or rec["accepted_length"] > 0)
        for key, values in (("language", [rec["language"]]), ("source", rec["sources"] or ["none"])):
            for value in values:
                by[key][value][0] += hit
                by[key][value][1] += 1
        if rec["retention"]:
            kept.append(rec["retention"][-1]["similarity"])
    out["acceptance_rate"] = round((out["accepted"] + out["partiallyAccepted"]) / out["shown"], 3) \
        if out["shown"] else None
    for key, table in by.items():
        out[f"by_{key}"] = {k: {"shown": n, "acceptance_rate": round(a / n, 3)} for k, (a, n) in sorted(table.items())}
    out["retained_similarity_mean"] = round(sum(kept) / len(kept), 3) if kept else None
    return out


def export(db: Path, out: Path, workspace: str | None = None) -> int:
    """Write the JSONL dataset; return how many lines."""
    n = 0
    with open(out, "w", encoding="utf-8") as fh:
        for rec in records(db, workspace):
            fh.write(json.dumps(rec) + "\n")
            n += 1
    return n


def format_summary(s: dict[str, Any]) -> str:
    lines = [f"suggestions {s['suggestions']}, shown {s['shown']}: accepted {s['accepted']}, "
             f"partly accepted {s['partiallyAccepted']}, dismissed {s['dismissed']}, typed over {s['typedOver']}, "
             f"rejected (inferred or not) {s['rejected']}",
             f"acceptance rate {s['acceptance_rate']}; mean retained similarity {s['retained_similarity_mean']}"]
    for key in ("language", "source"):
        lines.append(f"by {key}:")
        for name, v in s[f"by_{key}"].items():
            lines.append(f"  {name:<20} shown {v['shown']:>6}  accepted {v['acceptance_rate']:.1%}")
    return "\n".join(lines)
