"""bench/changed_prompts.py: the picked holes whose hashed prompt two repo_eval runs disagree on."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import changed_prompts  # noqa: E402


def write(folder: Path, repo: str, tag: str, shas: dict, counted: str = "model") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"repo_eval-{repo}-{tag}.json").write_text(
        json.dumps({"tokens_counted_by": counted, "prompt_sha": shas, "samples": []}))


def run(monkeypatch, capsys, *argv):
    monkeypatch.setattr(sys, "argv", ["changed_prompts", *argv])
    changed_prompts.main()
    return capsys.readouterr()


def test_lists_changed_and_one_sided_holes_per_repository(tmp_path, monkeypatch, capsys):
    before = tmp_path / "before"
    write(before, "requests", "old", {"all": {"a": "1", "b": "2", "c": "3"}, "prefix": {"a": "9"}})
    write(tmp_path, "requests", "new", {"all": {"a": "1", "b": "5", "d": "4"}, "prefix": {"a": "8"}})
    write(before, "click", "old", {"all": {"x": "1"}})
    write(tmp_path, "click", "new", {"all": {"x": "1"}})
    monkeypatch.setattr(changed_prompts, "RESULTS", tmp_path)
    got = run(monkeypatch, capsys, "--old", f"{before}:old", "--new", "new", "--repos", "requests,click,rich")
    assert got.out.split() == ["requests/b", "requests/c", "requests/d"]  # rich has no files: skipped
    assert "requests: 3 of 4 prompts changed" in got.err and "click: 0 of 1" in got.err
    out = tmp_path / "ids.txt"
    run(monkeypatch, capsys, "--old", f"{before}:old", "--new", "new", "--repos", "requests", "--config", "prefix",
        "--out", str(out))
    assert out.read_text() == "requests/a\n"
    got = run(monkeypatch, capsys, "--old", f"{before}:old", "--new", "new", "--repos", "requests",
              "--config", "prefix", "--new-config", "all")
    assert got.out.split() == ["requests/a", "requests/b", "requests/d"]  # old prefix {a: 9} against new all


@pytest.mark.parametrize("problem, message", [
    ("missing", "No such file"), ("old-run", "no prompt hashes"), ("config", "no configuration 'all'"),
    ("counted", "tokens were counted by"), ("garbled", "not a repo_eval result")])
def test_bad_inputs_are_named(tmp_path, monkeypatch, capsys, problem, message):
    monkeypatch.setattr(changed_prompts, "RESULTS", tmp_path)
    write(tmp_path, "flask", "new", {"all": {"a": "1"}})
    old = tmp_path / "repo_eval-flask-old.json"
    if problem == "old-run":
        old.write_text(json.dumps({"samples": []}))
    elif problem == "config":
        write(tmp_path, "flask", "old", {"prefix": {"a": "1"}})
    elif problem == "counted":
        write(tmp_path, "flask", "old", {"all": {"a": "1"}}, counted="len/4")
    elif problem == "garbled":
        old.write_text("{")
    with pytest.raises(SystemExit, match=message):
        run(monkeypatch, capsys, "--old", "old", "--new", "new", "--repos", "flask")
