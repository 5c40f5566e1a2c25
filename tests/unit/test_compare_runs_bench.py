"""bench/compare_runs.py: two configurations of repo_eval runs, compared on the holes both predicted."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import compare_runs  # noqa: E402


def sample(hole, config, prediction, truth, kind="block"):
    return {"id": hole, "kind": kind, "config": config, "prediction": prediction, "truth": truth,
            "exact_match": prediction == truth, "edit_similarity": 1.0 if prediction == truth else 0.0}


def test_holes_are_matched_by_id_across_files_and_won_and_lost_counted(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(compare_runs, "RESULTS", tmp_path)
    old = [sample("a", "prefix", "x = 1", "x = 1"), sample("b", "prefix", "pass", "y = 2"),
           sample("c", "prefix", "z", "z"), sample("d", "prefix", None, "w"),  # no model run: left out
           sample("a", "all", "...", "x = 1"), sample("a", "prefix", "q", "q", kind="line")]
    new = [sample("a", "all", "x = 2", "x = 1"), sample("b", "all", "y = 2", "y = 2"),
           sample("c", "all", "z", "z"), sample("d", "all", "w", "w"), sample("e", "all", "v", "v")]
    (tmp_path / "repo_eval-requests-old.json").write_text(json.dumps({"samples": old}))
    (tmp_path / "repo_eval-requests-new.json").write_text(json.dumps({"samples": new}))
    out = tmp_path / "out.json"
    monkeypatch.setattr(sys, "argv", ["compare_runs", "--base", "old:prefix", "--new", "new:all", "--also",
                                      "old:all", "--kind", "block", "--repos", "requests,click", "--out", str(out)])
    compare_runs.main()
    got = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == got
    # only hole a has all three sides (b, c lack an old `all`; d has no prefix prediction; e is new only)
    assert got["requests"]["n"] == 1 and got["requests"]["also"]["just_dots"] == 1
    assert got["requests"]["changed_from_also"] == 1 and got["requests"]["new_lost"] == 1
    assert "missing" in got["click"]  # no result file for click: said, not a crash
    monkeypatch.setattr(sys, "argv", ["compare_runs", "--base", "old:prefix", "--new", "new:all", "--kind", "block",
                                      "--repos", "requests", "--out", str(out)])
    compare_runs.main()
    got = json.loads(out.read_text())["total"]
    assert got["n"] == 3 and got["base"]["exact"] == 2 and got["new"]["exact"] == 2
    assert (got["new_won"], got["new_lost"]) == (1, 1)


def test_a_malformed_configuration_is_refused_before_any_file_is_read(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["compare_runs", "--base", "heal", "--new", "nodots:all", "--kind", "line"])
    with pytest.raises(SystemExit):
        compare_runs.main()
    assert "expected tag:config" in capsys.readouterr().err


def test_a_side_of_several_runs_takes_each_hole_from_the_first_that_predicted_it(tmp_path, monkeypatch):
    monkeypatch.setattr(compare_runs, "RESULTS", tmp_path)
    base = [sample(h, "prefix", "p", "t") for h in "abc"]
    full = [sample("a", "all", "t", "t"), sample("b", "all", "t", "t"), sample("c", "all", "t", "t")]
    touched = [sample("b", "all", "x", "t")]  # a rerun of the one hole a change touched
    for tag, rows in (("sbs", base + full), ("dedup", touched)):
        (tmp_path / f"repo_eval-requests-{tag}.json").write_text(json.dumps({"samples": rows}))
    out = tmp_path / "out.json"
    monkeypatch.setattr(sys, "argv", ["compare_runs", "--base", "sbs:prefix", "--new", "dedup:all,sbs:all",
                                      "--also", "sbs:all", "--kind", "block", "--repos", "requests",
                                      "--out", str(out)])
    compare_runs.main()
    got = json.loads(out.read_text())["total"]
    assert got["n"] == 3 and got["new"]["exact"] == 2 and got["also"]["exact"] == 3
    assert got["changed_from_also"] == 1 and got["new_won"] == 2
    monkeypatch.setattr(sys, "argv", ["compare_runs", "--base", "sbs:prefix", "--new", "dedup:all,sbs", "--kind",
                                      "line"])
    with pytest.raises(SystemExit):
        compare_runs.main()


def test_an_ids_file_scores_both_runs_on_the_listed_holes_only(tmp_path, monkeypatch):
    monkeypatch.setattr(compare_runs, "RESULTS", tmp_path)
    holes = [f"block:m.py:{n}" for n in (1, 2, 3)]
    rows = [sample(h, c, "p" if (h, c) == (holes[1], "prefix") else "t", "t") for h in holes for c in ("prefix", "all")]
    (tmp_path / "repo_eval-requests-run.json").write_text(json.dumps({"samples": rows}))
    ids = tmp_path / "ids.txt"
    ids.write_text(f"requests/{holes[1]}\nrequests/{holes[2]}\nclick/{holes[0]}\n\n")  # click's: not requests'
    out = tmp_path / "out.json"
    monkeypatch.setattr(sys, "argv", ["compare_runs", "--base", "run:prefix", "--new", "run:all", "--kind", "block",
                                      "--repos", "requests", "--ids", str(ids), "--out", str(out)])
    compare_runs.main()
    got = json.loads(out.read_text())
    assert got["ids"] == 3 and got["total"]["n"] == 2  # the first hole is listed for click only
    assert got["total"]["base"]["exact"] == 1 and got["total"]["new_won"] == 1
    ids.write_text("")  # nothing listed: nothing compared, said as such
    compare_runs.main()
    got = json.loads(out.read_text())
    assert got["ids"] == 0 and got["total"]["n"] == 0
    ids.write_text(f"{holes[0]}\n")
    with pytest.raises(SystemExit):  # not REPO/HOLE_ID: refused by argparse, not silently matching nothing
        compare_runs.main()


def test_api_holes_are_split_by_where_the_prompt_shows_the_call(tmp_path, monkeypatch):
    monkeypatch.setattr(compare_runs, "RESULTS", tmp_path)

    def api(hole, config, prediction, place):
        return {**sample(hole, config, prediction, "t", kind="api"), "call_in_prompt": place}

    rows = [api("a", "prefix", "t", "window"), api("a", "all", "t", "window"),
            api("b", "prefix", "p", "absent"), api("b", "all", "x", "snippets"),  # shown only in the full context
            api("c", "prefix", "t", "absent"), api("c", "all", "t", "absent"),
            api("d", "prefix", "p", "absent"), api("d", "all", "p", "absent")]
    (tmp_path / "repo_eval-requests-run.json").write_text(json.dumps({"samples": rows}))
    out = tmp_path / "out.json"
    monkeypatch.setattr(sys, "argv", ["compare_runs", "--base", "run:prefix", "--new", "run:all", "--kind", "api",
                                      "--repos", "requests", "--out", str(out)])
    compare_runs.main()
    places = json.loads(out.read_text())["total"]["by_place"]
    assert {p: places[p]["n"] for p in ("window", "snippets", "absent")} == {"window": 1, "snippets": 1, "absent": 2}
    assert places["snippets"]["base"]["exact"] == 0 and places["absent"]["new"]["exact"] == 1
    assert places["copy_bound"] == 3  # a and b shown (b copied would be right), c right, d neither
    rows = [sample("a", c, "t", "t") for c in ("prefix", "all")]  # block holes: no place recorded
    (tmp_path / "repo_eval-requests-run.json").write_text(json.dumps({"samples": rows}))
    monkeypatch.setattr(sys, "argv", ["compare_runs", "--base", "run:prefix", "--new", "run:all", "--kind", "block",
                                      "--repos", "requests", "--out", str(out)])
    compare_runs.main()
    assert "by_place" not in json.loads(out.read_text())["total"]
