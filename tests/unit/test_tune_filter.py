"""The acceptance-filter benchmark (bench/tune_filter.py) and its trade-off curve, with a fake simulator."""

from __future__ import annotations

import importlib.util
import json
import random
import sys
import time
from pathlib import Path

import pytest

from tuning.filter import tradeoff, train
from tuning.simulate import Outcome

BENCH = Path(__file__).resolve().parents[2] / "bench" / "tune_filter.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("tune_filter", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["tune_filter"] = module
    spec.loader.exec_module(module)
    return module


def test_tradeoff_walks_the_thresholds() -> None:
    scored = [(0.9, 1, 10), (0.8, 0, 0), (0.6, 1, 30), (0.6, 0, 0), (0.2, 0, 0), (0.1, 1, 10)]
    curve = tradeoff(scored)
    points = [(p["threshold"], p["rejected_shown_reduction"], p["accepted_chars_kept"]) for p in curve]
    assert points[0] == (0.1, 0.0, 1.0)  # the lowest threshold keeps everything
    assert points[1:-1] == [(0.2, 0.0, 0.8), (0.6, 0.3333, 0.8), (0.8, 0.6667, 0.2), (0.9, 1.0, 0.2)]
    assert points[-1][0] > 0.9 and points[-1][1:] == (1.0, 0.0)  # above every score: nothing shown
    assert [p["threshold"] for p in curve] == sorted(p["threshold"] for p in curve)


def test_tradeoff_of_nothing() -> None:
    assert [(p["rejected_shown_reduction"], p["accepted_chars_kept"]) for p in tradeoff([])] == [(1.0, 0.0)]


def test_best_at_is_the_largest_reduction_keeping_enough(bench) -> None:
    curve = tradeoff([(0.9, 1, 10), (0.8, 0, 0), (0.6, 1, 30), (0.6, 0, 0), (0.2, 0, 0), (0.1, 1, 10)])
    assert bench.best_at(curve, 0.8)["threshold"] == 0.6
    assert bench.best_at(curve, 1.0)["threshold"] == 0.1
    assert bench.best_at([], 0.5) is None


def synthetic(n: int, rng: random.Random, shift: float = 0.0) -> list:
    from tuning.features import features

    out = []
    for _ in range(n):
        lp = rng.uniform(-3, 0)
        y = int(rng.random() < 0.9 * (1 + (lp + shift) / 3) ** 2)
        text = "x" * rng.randint(3, 40)
        out.append((features("python", "line", "x = ", text, [], lp, None), y, len(text) * y))
    return out


def test_threshold_chosen_leaving_one_group_out() -> None:
    rng = random.Random(3)
    examples = synthetic(150, rng) + synthetic(150, rng, shift=0.3)
    flt = train(examples, keep_chars=0.95, groups=["a"] * 150 + ["b"] * 150)
    assert 0 < flt.threshold < 1


def test_threshold_keeps_enough_in_every_group() -> None:
    # group b's accepted suggestions score lower: a threshold that keeps 95% of all of them pooled
    # keeps less of b's; the default rule keeps 95% of each group's
    rng = random.Random(5)
    examples = synthetic(200, rng) + synthetic(200, rng, shift=-0.6) + synthetic(200, rng, shift=0.4)
    groups = ["a"] * 200 + ["b"] * 200 + ["c"] * 200
    each = train(examples, keep_chars=0.95, groups=groups)
    pooled = train(examples, keep_chars=0.95, groups=groups, fold_rule="pooled")
    assert each.threshold < pooled.threshold
    with pytest.raises(ValueError):
        train(examples, groups=groups, fold_rule="mean")


def test_main_suffixes_follow_the_main_language(bench, tmp_path: Path) -> None:
    for name in ("a.js", "b.js", "c.mjs", "d.py", "node_modules/e.py", "node_modules/f.py", "node_modules/g.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    assert set(bench.main_suffixes(tmp_path)) == {".js", ".mjs"}


def test_cache_keys_differ_by_settings(bench, tmp_path: Path) -> None:
    key = bench.cache_key("my repo", tmp_path, None, 3, 12, 0, "m")
    assert " " not in key and key.startswith("my_repo-f3-l12-s0-")
    assert key != bench.cache_key("my repo", tmp_path, None, 3, 12, 1, "m")
    assert key != bench.cache_key("my repo", tmp_path, None, 3, 12, 0, "other")
    assert key == bench.cache_key("my repo", tmp_path, None, 3, 12, 0, "m", 0)  # the first session: as before
    assert key != bench.cache_key("my repo", tmp_path, None, 3, 12, 0, "m", 1)


def test_sessions_type_other_files_and_the_first_keeps_its_own(bench, tmp_path: Path) -> None:
    for i in range(12):
        (tmp_path / f"m{i}.py").write_text("x = 1\n" * 50)
    first = bench.session_files(tmp_path, 4, 7, 0)
    second = bench.session_files(tmp_path, 4, 7, 1)
    assert first == bench.pick_files(tmp_path, 4, 7, (".py",))
    assert len(second) == 4 and not set(first) & set(second)


def fake_repo(root: Path, name: str) -> Path:
    repo = root / name
    repo.mkdir()
    for i in range(3):
        (repo / f"mod{i}.py").write_text("".join(f"def f{j}():\n    return {j}\n\n" for j in range(20)))
    return repo


def test_benchmark_trains_on_some_repositories_and_tests_on_another(bench, tmp_path: Path, monkeypatch) -> None:
    from tuning.store import EventStore

    calls, typed = [], []

    async def fake_simulate(repo, files, dev, options, env):
        """Confident suggestions get accepted: something to learn, the same in every repository."""
        calls.append(repo.name)
        typed.append((repo.name, {f.name for f in files}))
        assert options["signals"]["useFilter"] is False and env["TACIT_DATA"]
        store = EventStore(options["signals"]["database"])
        rng = random.Random(dev.seed)
        for i in range(120):
            lp = rng.uniform(-3, 0)
            accepted = rng.random() < 0.9 * (1 + lp / 3) ** 2
            sid = f"{repo.name}{len(calls)}-{i}"
            store.suggestion({"id": sid, "created": time.time() + i, "workspace": str(repo), "path": "a.py",
                              "language": "python", "mode": "line", "line_prefix": "x = ", "offset": 0,
                              "prompt": None, "sources": [], "model": "m", "adapter": None, "latency_ms": 1.0,
                              "text": "foo(1)", "features": {"meanLogprob": lp, "recentAcceptRate": None}})
            store.signal(sid, "shown")
            store.signal(sid, "accepted" if accepted else "typedOver")
        assert store.flush()
        store.close()
        return Outcome()

    monkeypatch.setattr(bench, "simulate", fake_simulate)
    repos = [fake_repo(tmp_path, n) for n in ("alpha", "beta", "held")]
    out = tmp_path / "out" / "tune_filter-held.json"
    argv = ["--repo", str(repos[2]), "--train-repo", str(repos[0]), "--train-repo", str(repos[1]),
            "--files", "1", "--lines", "4", "--sessions", "2", "--model", "m", "--out", str(out),
            "--cache-dir", str(tmp_path / "c")]
    assert bench.main(argv) == 0
    report = json.loads(out.read_text())
    assert calls == ["alpha", "alpha", "beta", "beta", "held", "held"]
    for first, second in zip(typed[::2], typed[1::2], strict=True):  # a repository's sessions share no file
        assert first[0] == second[0] and len(first[1]) == len(second[1]) == 1 and not first[1] & second[1]
    assert report["train_repos"] == ["alpha", "beta"] and report["repo"] == "held"
    assert report["counts"]["train"]["examples"] == 480 and report["counts"]["test"]["examples"] == 240
    assert report["counts"]["train_by_repo"]["alpha"]["examples"] == 240
    assert report["seeds"] == {"alpha": 0, "beta": 1, "held": 2}
    assert [s["session"] for s in report["simulations"]] == [1, 2, 1, 2, 1, 2]
    rotation = report["leave_one_repository_out"]
    assert set(rotation["repos"]) == {"alpha", "beta", "held"} and rotation["each"]["of"] == 3
    assert rotation["repos"]["held"]["each"] == {k: report[k] for k in ("rejected_shown_reduction",
                                                                        "accepted_chars_kept")} | \
        {k: rotation["repos"]["held"]["each"][k] for k in ("n", "rejected", "accepted_chars")}
    assert 0 <= report["rejected_shown_reduction"] <= 1 and 0 <= report["accepted_chars_kept"] <= 1
    assert out.with_suffix(".png").stat().st_size > 0
    assert bench.main(argv) == 0  # cached: no simulation the second time
    assert len(calls) == 6


def test_features_of_the_first_line() -> None:
    from tuning.features import features

    f = features("python", "line", "    ", "    return f(x, 'a')\nnext", [], -0.2, None)
    assert f["text_extra_indent"] == 1 and f["text_keyword"] == 1 and f["text_call"] == 1 and f["text_string"] == 1
    assert f["text_header"] == 0 and f["text_first_len"] > 0
    g = features("python", "line", "    ", "\nif x:", [], -0.2, None)
    assert g["text_extra_indent"] == 0 and g["text_first_len"] == 0 and g["text_header"] == 0
    assert features("python", "line", "    x = ", " 1", [], -0.2, None)["text_extra_indent"] == 0
