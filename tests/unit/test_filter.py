"""The acceptance filter: features, training, threshold choice, held-out evaluation, JSON round trip."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tuning.features import features
from tuning.filter import Filter, evaluate, example, train


def test_features_of_a_suggestion() -> None:
    f = features("python", "line", "    return ", "x + 1", ["definitions", "prefix"], -0.4, 0.5)
    assert f["lang=python"] == 1 and f["mode=line"] == 1 and f["prefix_keyword"] == 1
    assert f["source=definitions"] == 1 and f["source=similar"] == 0
    assert f["logprob"] == -0.4 and "logprob_missing" not in f
    g = features("klingon", "", "", "", [], None, None)
    assert g["lang=other"] == 1 and g["logprob_missing"] == 1 and g["recent_missing"] == 1 and g["text_blank"] == 1
    assert features("python", "line", "x = ", "f(a)", ["usages"], -0.4, 0.5)["source=usages"] == 1


def test_a_stored_suggestion_and_a_live_one_get_the_same_features() -> None:
    stored = {**record("accepted", -0.5, "f(a)", 4),
              "features": json.dumps({"meanLogprob": -0.5, "recentAcceptRate": 0.3,
                                      "confidence": {"first": -0.1, "min": -2.0, "mean": -0.7}})}
    f, label, chars = example(stored)
    assert f == features("python", "line", "    x = ", "f(a)", ["prefix"], -0.5, 0.3) and label == 1 and chars == 4


def record(outcome: str, logprob: float, text: str = "foo(bar)", accepted_length: int = 0) -> dict:
    return {"shown": True, "outcome": outcome, "accepted_length": accepted_length, "language": "python",
            "mode": "line", "line_prefix": "    x = ", "text": text, "sources": ["prefix"],
            "features": json.dumps({"meanLogprob": logprob, "recentAcceptRate": 0.3})}


def synthetic(n: int, seed: int) -> list:
    """Confident suggestions are accepted more often: the filter has something real to learn."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        lp = rng.uniform(-3, 0)
        accepted = rng.random() < 0.9 * (1 + lp / 3) ** 2
        text = "x" * rng.randint(3, 40)
        out.append(example(record("accepted" if accepted else rng.choice(["dismissed", "typedOver", "rejected"]),
                                  lp, text, len(text) if accepted else 0)))
    return out


def test_examples_skip_what_was_never_shown_or_decided() -> None:
    assert example({**record("accepted", -1), "shown": False}) is None
    assert example(record("", -1)) is None
    f, y, chars = example(record("partiallyAccepted", -1, accepted_length=3))
    assert y == 1 and chars == 3


def test_trained_filter_withholds_rejections_and_keeps_accepted_characters(tmp_path: Path) -> None:
    flt = train(synthetic(600, 1), keep_chars=0.95)
    held_out = evaluate(flt, synthetic(400, 2))
    assert held_out["accepted_chars_kept"] >= 0.85  # the 95% was chosen on other data: some slack
    assert held_out["rejected_shown_reduction"] >= 0.3  # confident-vs-not is learnable here
    flt.save(tmp_path / "filter.json")
    again = Filter.load(tmp_path / "filter.json")
    f = synthetic(1, 3)[0][0]
    assert again.score(f) == pytest.approx(flt.score(f))


def test_training_needs_both_outcomes() -> None:
    with pytest.raises(ValueError):
        train([example(record("accepted", -0.1, accepted_length=3))] * 5)


def test_a_broken_filter_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f.json").write_text(json.dumps({"names": ["a"], "weights": [], "bias": 0, "mean": [0],
                                                 "scale": [1], "threshold": 0.5}))
    with pytest.raises(ValueError):
        Filter.load(tmp_path / "f.json")


def test_tune_filter_cli_trains_evaluates_and_installs(tmp_path: Path, capsys) -> None:
    import time

    from lsp_server.cli import main
    from tuning.store import EventStore

    store = EventStore(tmp_path / "events.db")
    rng = random.Random(5)
    for i in range(200):
        lp = rng.uniform(-3, 0)
        accepted = rng.random() < 0.9 * (1 + lp / 3) ** 2
        store.suggestion({"id": f"s{i}", "created": time.time() + i, "workspace": "/w", "path": "a.py",
                          "language": "python", "mode": "line", "line_prefix": "x = ", "offset": 0, "prompt": None,
                          "sources": [], "model": "m", "adapter": None, "latency_ms": 1.0, "text": "foo(1)",
                          "features": {"meanLogprob": lp, "recentAcceptRate": None}})
        store.signal(f"s{i}", "shown")
        store.signal(f"s{i}", "accepted" if accepted else "dismissed")
    assert store.flush()
    store.close()
    assert main(["tune", "filter", "--db", str(tmp_path / "events.db")]) == 0
    out = capsys.readouterr().out
    report = json.loads(out[: out.rindex("}") + 1])
    assert report["train"] == 160 and report["held_out"]["n"] == 40
    assert Filter.load(tmp_path / "filter.json").threshold > 0
    # tune model refuses a workspace that is not there, with a message rather than a traceback
    assert main(["tune", "model", "--workspace", str(tmp_path / "nowhere")]) == 2
    assert "no workspace folder" in capsys.readouterr().err


@pytest.mark.parametrize(("start", "end", "expected"), [
    (0, 2, [-1.0]),  # " )": one token holds the left-out indent and the shown ")"
    (1, 2, [-1.0]),
    (1, 9, [-1.0, -0.5, -2.0]),  # every token overlapping the shown text
    (3, 5, [-0.5]),
    (8, 20, [-2.0]),  # the last token, still growing
    (2, 2, None),  # nothing shown
])
def test_confidence_of_the_shown_characters(start: int, end: int, expected: list | None) -> None:
    from lsp_server.engines.base import confidence

    tokens = [(0, -1.0), (2, -0.5), (6, -2.0)]  # " )", "\n   ", "return"
    got = confidence(tokens, start, end)
    assert confidence([], start, end) is None  # an engine without log-probabilities
    if expected is None:
        assert got is None
    else:
        assert got == {"first": expected[0], "min": min(expected), "mean": pytest.approx(sum(expected) / len(expected))}
