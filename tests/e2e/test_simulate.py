"""The simulated developer end to end: a real LSP session, the real model, signals in a real SQLite file."""

from __future__ import annotations

import json

from tuning.events import records, summary
from tuning.simulate import Developer, simulate

from .conftest import DEMO


async def test_simulated_developer_produces_signals(model_path, tmp_path):
    db = tmp_path / "events.db"
    options = {"completion": {"prefixChars": 2500}, "signals": {"database": str(db), "retentionSeconds": [1]}}
    # twelve lines: a good model can complete a short region in one accepted suggestion, leaving nothing to decide
    outcome = await simulate(DEMO, [DEMO / "textwrap.py"], Developer(seed=3, lines=12), options,
                             env={"TACIT_CONFIG": str(tmp_path)})
    decided = {k: v for k, v in outcome.counts.items() if k not in ("none", "stored_signals")}
    assert sum(decided.values()) >= 2, outcome.counts
    # Every suggestion the developer reacted to was shown, then decided: two signals each.
    assert outcome.counts["stored_signals"] == 2 * sum(decided.values())
    s = summary(db)
    assert s["shown"] == sum(decided.values())
    assert s["accepted"] == outcome.counts["accepted"] + outcome.counts["rewritten"]
    assert s["partiallyAccepted"] == outcome.counts["partiallyAccepted"]
    assert s["dismissed"] == outcome.counts["dismissed"] and s["typedOver"] == outcome.counts["typedOver"]
    # each shown suggestion carries the model's confidence in the text it showed (the filter's input)
    shown = [r for r in records(db) if r["shown"]]
    confidences = [json.loads(r["features"]).get("confidence") for r in shown]
    assert shown and all(c is not None and c["min"] <= c["mean"] <= 0 and c["min"] <= c["first"] for c in confidences)
