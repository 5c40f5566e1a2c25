"""The offline context benchmark (bench/repo_eval.py): hole cutting and metrics, on tiny repositories."""

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

from context import prompt as prompts

BENCH = Path(__file__).resolve().parents[2] / "bench" / "repo_eval.py"


@pytest.fixture(scope="module")
def repo_eval():
    spec = importlib.util.spec_from_file_location("repo_eval", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["repo_eval"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


PY_FILES = {
    "pkg/__init__.py": "",
    "pkg/util.py": (
        'RATE = 3\n\n\n'
        'def scale(value, factor=2):\n'
        '    """Multiply value by factor."""\n'
        '    result = value * factor\n'
        '    return result\n\n\n'
        'class Meter:\n'
        '    def __init__(self, unit):\n'
        '        self.unit = unit\n'
        '        self.count = 0\n'
    ),
    "pkg/main.py": (
        'from pkg.util import scale, Meter\n'
        'from pkg import util\n\n\n'
        'def run(items):\n'
        '    """Scale every item."""\n'
        '    total = 0\n'
        '    for item in items:\n'
        '        total += scale(item, factor=3)\n'
        '    meter = Meter("cm")\n'
        '    return util.scale(total, 4), meter\n\n\n'
        'def local_helper(x):\n'
        '    return x + 1\n\n\n'
        'def use_local(y):\n'
        '    z = local_helper(y)\n'
        '    w = len(str(z))\n'
        '    return z + w\n'
    ),
}

JS_FILES = {
    "_baseSum.js": (
        "/** Sum of an array. */\n"
        "function baseSum(array, iteratee) {\n"
        "  var result = 0;\n"
        "  for (var i = 0; i < array.length; i++) {\n"
        "    result += iteratee(array[i]);\n"
        "  }\n"
        "  return result;\n"
        "}\n\n"
        "export default baseSum;\n"
    ),
    "sumBy.js": (
        "import baseSum from './_baseSum.js';\n\n"
        "function identity(value) {\n"
        "  return value;\n"
        "}\n\n"
        "function sumBy(array, iteratee) {\n"
        "  var total = baseSum(array, iteratee || identity);\n"
        "  return total + identity(0);\n"
        "}\n\n"
        "export default sumBy;\n"
    ),
}

CUT = {"line": 20, "api": 20, "block": 20}


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture
def py_ws(repo_eval, tmp_path):
    source = make_repo(tmp_path / "src", PY_FILES)
    (tmp_path / "copy").mkdir()
    return repo_eval.open_workspace("pkg", source, "python", tmp_path / "copy", 0)


@pytest.fixture
def js_ws(repo_eval, tmp_path):
    source = make_repo(tmp_path / "src", JS_FILES)
    (tmp_path / "copy").mkdir()
    return repo_eval.open_workspace("lodashy", source, None, tmp_path / "copy", 0)


def test_cutting_is_deterministic(repo_eval, py_ws):
    first = repo_eval.cut_holes(py_ws, CUT, seed=7)
    assert first == repo_eval.cut_holes(py_ws, CUT, seed=7)
    assert {h.kind for h in first} == {"line", "api", "block"}
    lines = {h for h in first if h.kind == "line"}
    others = [{h for h in repo_eval.cut_holes(py_ws, CUT, seed=s) if h.kind == "line"} for s in range(8, 12)]
    assert any(o != lines for o in others)  # the seed matters


def test_holes_are_spans_of_the_file(repo_eval, py_ws):
    for hole in repo_eval.cut_holes(py_ws, CUT, seed=0):
        text = py_ws.texts[hole.path]
        assert text[hole.start:hole.end] == hole.truth and hole.truth.strip()
        assert hole.document(text) == text[:hole.start] + text[hole.end:]


def test_line_holes_run_to_the_end_of_a_code_line(repo_eval, py_ws):
    holes = [h for h in repo_eval.cut_holes(py_ws, CUT, seed=0) if h.kind == "line"]
    assert holes
    for hole in holes:
        text = py_ws.texts[hole.path]
        assert text[hole.end:hole.end + 1] in ("\n", "") and "\n" not in hole.truth
        line = text[text.rfind("\n", 0, hole.start) + 1: hole.end]
        assert not line.lstrip().startswith("#") and '"""' not in line


def test_api_holes_call_a_function_defined_in_another_file(repo_eval, py_ws):
    holes = [h for h in repo_eval.cut_holes(py_ws, CUT, seed=0) if h.kind == "api"]
    found = {(h.path, h.callee, h.defined_in, h.truth) for h in holes}
    assert found == {
        ("pkg/main.py", "scale", "pkg/util.py", "item, factor=3)"),
        ("pkg/main.py", "Meter", "pkg/util.py", '"cm")'),
        ("pkg/main.py", "scale", "pkg/util.py", "total, 4), meter"),
    }  # not local_helper (same file), not len/str (builtins)
    for hole in holes:
        assert py_ws.texts[hole.path][:hole.start].endswith(hole.callee + "(")
        assert all(d.path != hole.path for d in py_ws.index.lookup(hole.callee))


def test_call_holes_start_at_the_called_name(repo_eval, py_ws):
    with_calls = repo_eval.cut_holes(py_ws, {**CUT, "call": 20}, seed=0)
    calls = {(h.callee, h.truth) for h in with_calls if h.kind == "call"}
    assert calls == {("scale", "scale(item, factor=3)"), ("Meter", 'Meter("cm")'),
                     ("scale", "util.scale(total, 4), meter")}  # the api holes' calls, from the first name
    for hole in with_calls:
        assert py_ws.texts[hole.path][hole.start:hole.end] == hole.truth
    # cutting call holes too leaves the other kinds' seeded picks as they were
    assert [h for h in with_calls if h.kind != "call"] == repo_eval.cut_holes(py_ws, CUT, seed=0)


def test_block_holes_are_bodies_after_the_docstring(repo_eval, py_ws):
    holes = {h.truth: h for h in repo_eval.cut_holes(py_ws, CUT, seed=0) if h.kind == "block"}
    assert "result = value * factor\n    return result" in holes  # docstring left in the prompt
    assert "self.unit = unit\n        self.count = 0" in holes
    assert "return x + 1" not in holes  # one line is not a block
    hole = holes["result = value * factor\n    return result"]
    assert hole.indent == 4
    assert hole.document(py_ws.texts[hole.path]).endswith('"""Multiply value by factor."""\n    \n\n\nclass Meter:\n'
                                                          '    def __init__(self, unit):\n        self.unit = unit\n'
                                                          '        self.count = 0\n')


def test_javascript_holes(repo_eval, js_ws):
    assert js_ws.language == "javascript"
    holes = repo_eval.cut_holes(js_ws, CUT, seed=0)
    api = {(h.path, h.callee, h.defined_in, h.truth) for h in holes if h.kind == "api"}
    assert api == {("sumBy.js", "baseSum", "_baseSum.js", "array, iteratee || identity);")}
    blocks = {h.truth for h in holes if h.kind == "block"}
    assert "var total = baseSum(array, iteratee || identity);\n  return total + identity(0);" in blocks
    assert js_ws.imports["sumBy.js"] == {"_baseSum.js"}


def test_ground_truth_is_never_indexed_or_prompted(repo_eval, py_ws):
    text = py_ws.texts["pkg/util.py"]
    start = text.index("RATE = 3")
    hole = repo_eval.Hole("line", "pkg/util.py", start, start + len("RATE = 3"), "RATE = 3")
    assert py_ws.index.lookup("RATE")
    with repo_eval.holed(py_ws, hole) as document:
        assert "RATE" not in document
        assert not py_ws.index.lookup("RATE")
        assert all("RATE" not in p.read_text() for p in py_ws.root.rglob("*.py"))
    assert py_ws.index.lookup("RATE") and (py_ws.root / "pkg/util.py").read_text() == text

    holes = [*repo_eval.cut_holes(py_ws, CUT, seed=0), hole]
    template = prompts.template_for("qwen2.5-coder")
    opts = prompts.PromptOptions(prefix_chars=3000, prefix_keep_chars=2000)
    unique = {h.id for h in holes if sum(t.count(h.truth) for t in py_ws.texts.values()) == 1}
    assert hole.id in unique
    built = list(repo_eval.build_prompts(py_ws, holes, repo_eval.configs(), template, opts, lambda s: len(s) // 4))
    assert len(built) == len(holes)
    for h, by_config in built:
        assert set(by_config) == set(repo_eval.configs()) and "prefix" in by_config and "all" in by_config
        for b in by_config.values():
            assert b.context_ms >= 0 and b.prompt_tokens > 0
            if h.id in unique:
                assert h.truth not in b.prompt.text
    for rel, original in py_ws.texts.items():  # everything restored afterwards
        assert (py_ws.root / rel).read_text() == original


def test_crossfile_prompt_shows_the_definition(repo_eval, py_ws):
    hole = next(h for h in repo_eval.cut_holes(py_ws, CUT, seed=0) if h.kind == "api" and h.truth == '"cm")')
    template = prompts.template_for("qwen2.5-coder")
    opts = prompts.PromptOptions()
    [(_, built)] = repo_eval.build_prompts(py_ws, [hole], repo_eval.configs(), template, opts, lambda s: len(s) // 4)
    assert "class Meter" in built["crossfile"].prompt.text
    assert "class Meter" not in built["prefix"].prompt.text
    assert "<|fim_suffix|><|fim_middle|>" in built["prefix"].prompt.text  # no suffix
    # the hole runs to the end of its line: by default nothing after the cursor goes in; suffix10 adds ten lines
    assert built["suffix"].prompt.text == built["prefix"].prompt.text
    assert "<|fim_suffix|>\n" in built["suffix10"].prompt.text


def test_neighbours_prefer_imports(repo_eval, py_ws):
    assert py_ws.imports["pkg/main.py"] == {"pkg/util.py"}
    assert repo_eval.neighbours(py_ws, "pkg/util.py", set()) == ["pkg/main.py", "pkg/__init__.py"]


def test_repowide_draws_similar_code_from_files_that_are_not_open(repo_eval, tmp_path):
    body = ("def tally(rows):\n    counts = {}\n    for row in rows:\n        key = row.name\n"
            "        counts[key] = counts.get(key, 0) + 1\n    return counts\n")
    files = {"a/one.py": body.replace("tally", "tally_one"), "a/two.py": "VALUE = 1\n",
             "b/three.py": "X = 2\n", "c/far.py": body.replace("row.name", "row.label")}
    source = make_repo(tmp_path / "src", files)
    (tmp_path / "copy").mkdir()
    ws = repo_eval.open_workspace("far", source, "python", tmp_path / "copy", 0)
    assert "c/far.py" not in repo_eval.neighbours(ws, "a/one.py", set())
    start = files["a/one.py"].index("counts[key]")
    hole = repo_eval.Hole("line", "a/one.py", start, files["a/one.py"].index("\n", start), "")
    cfgs = {name: repo_eval.configs()[name] for name in ("all", "repowide")}
    [(_, built)] = repo_eval.build_prompts(ws, [hole], cfgs, prompts.template_for("qwen2.5-coder"),
                                          prompts.PromptOptions(), lambda s: len(s) // 4)
    assert "similar" in built["repowide"].sources and "row.label" in built["repowide"].prompt.text
    assert "similar" not in built["all"].sources and "row.label" not in built["all"].prompt.text


@pytest.mark.parametrize("prediction,truth,kind,em,es", [
    ("abc", "abc", "line", True, 1.0),
    ("abc  ", "abc", "line", True, 1.0),
    ("kitten", "sitting", "line", False, 1 - 3 / 7),
    ("", "", "api", True, 1.0),
    ("", "abcd", "api", False, 0.0),
    ("x = 1\n\n    return x  \n", "x = 1\n    return x", "block", True, 1.0),
    ("x = 1\n  return x", "x = 1\n    return x", "block", False, 1 - 2 / 18),
])
def test_metrics(repo_eval, prediction, truth, kind, em, es):
    assert repo_eval.exact_match(prediction, truth, kind) is em
    assert repo_eval.edit_similarity(prediction, truth, kind) == pytest.approx(es)


def test_levenshtein(repo_eval):
    assert repo_eval.levenshtein("", "abc") == 3
    assert repo_eval.levenshtein("flaw", "lawn") == 2
    assert repo_eval.levenshtein("abc", "abc") == 0


def test_model_subsample_is_stratified_and_seeded(repo_eval, py_ws):
    holes = repo_eval.cut_holes(py_ws, CUT, seed=0)
    picked = repo_eval.pick_for_model(holes, 6, seed=1)
    assert picked == repo_eval.pick_for_model(holes, 6, seed=1)
    kinds = sorted(i.split(":", 1)[0] for i in picked)
    assert kinds == ["api", "api", "block", "block", "line", "line"]


def test_summary_shape(repo_eval):
    records = [{"id": "a", "kind": "line", "config": "prefix", "context_ms": 2.0, "prompt_tokens": 10,
                "sources": ["definitions", "prefix"]},
               {"id": "b", "kind": "api", "config": "prefix", "context_ms": 4.0, "prompt_tokens": 30,
                "sources": ["prefix"], "exact_match": True, "edit_similarity": 1.0, "model_ms": 5.0}]
    summary = repo_eval.summarize(records, ["prefix"])
    assert summary["prefix"]["line"] == {"n": 1, "model_n": 0, "exact_match": None, "edit_similarity": None,
                                         "context_ms_p50": 2.0, "context_ms_p95": 2.0, "context_ms_max": 2.0,
                                         "prompt_tokens_mean": 10, "with_source": {"definitions": 1.0}}
    assert summary["prefix"]["all"]["n"] == 2 and summary["prefix"]["all"]["exact_match"] == 1.0
    assert summary["prefix"]["all"]["with_source"] == {"definitions": 0.5}


class EchoEngine:
    """Answers every prompt with the same line and counts the prompts it read."""

    def __init__(self):
        from lsp_server.engines.base import EngineStats
        self.prompts: list[str] = []
        self.last_stats = EngineStats()

    def generate(self, text, options, stop):
        self.prompts.append(text)
        yield "x)\n"


def test_a_prompt_already_run_is_answered_from_that_run(repo_eval, py_ws):
    import argparse
    holes = [h for h in repo_eval.cut_holes(py_ws, CUT, seed=0) if h.kind in ("line", "api")]
    args = argparse.Namespace(configs=["local", "gated", "all"], prefix_chars=3000, holes=len(holes), seed=0,
                              block_tokens=16, line_tokens=16, block_lines=4)
    engine = EchoEngine()
    records = repo_eval.evaluate(py_ws, holes, args, engine, prompts.template_for("qwen2.5-coder"),
                                 lambda s: len(s) // 4)
    ran = [r for r in records if "prediction" in r]
    assert len(ran) == 3 * len(holes) and all(r["prediction"] == "x)" for r in ran)
    copied = [r for r in ran if "same_prompt_as" in r]
    assert len(engine.prompts) == len(ran) - len(copied)  # a hole never reads the same prompt twice
    # outside a workspace call `gated` is `local`; inside one (every api hole) `all` is `gated`
    by = {(r["config"], r["id"]): r for r in ran}
    for h in holes:
        if h.kind == "api":
            assert "same_prompt_as" not in by["gated", h.id] and by["all", h.id]["same_prompt_as"] == "gated"
    line_copies = [by["gated", h.id].get("same_prompt_as") for h in holes if h.kind == "line"]
    assert line_copies.count("local") >= len(line_copies) - 1 and line_copies


def test_only_runs_the_model_on_the_listed_holes(repo_eval, py_ws, tmp_path):
    import argparse
    holes = [h for h in repo_eval.cut_holes(py_ws, CUT, seed=0) if h.kind in ("line", "api")]
    listed = tmp_path / "ids.txt"
    listed.write_text(f"{py_ws.name}/{holes[0].id}\n\nother/{holes[1].id}\n")
    args = argparse.Namespace(configs=["all"], prefix_chars=3000, holes=len(holes), seed=0, block_tokens=16,
                              line_tokens=16, block_lines=4, only=repo_eval.read_ids(str(listed)))
    records = repo_eval.evaluate(py_ws, holes, args, EchoEngine(), prompts.template_for("qwen2.5-coder"),
                                 lambda s: len(s) // 4)
    assert [r["id"] for r in records if "prediction" in r] == [holes[0].id]  # another repository's id: not run
    assert len(records) == len(holes)  # context metrics still cover every hole
    listed.write_text("api:util.py:12\n")
    with pytest.raises(argparse.ArgumentTypeError, match="REPO/HOLE_ID"):
        repo_eval.read_ids(str(listed))
    with pytest.raises(argparse.ArgumentTypeError, match="cannot read"):
        repo_eval.read_ids(str(tmp_path / "none.txt"))


def test_call_elsewhere_says_whether_the_whole_call_is_written_in_another_place(repo_eval, py_ws):
    holes = [h for h in repo_eval.cut_holes(py_ws, {**CUT, "call": 20}, seed=0) if h.kind in ("api", "call")]
    assert holes and all(repo_eval.call_elsewhere(py_ws.texts, h) is False for h in holes)  # each call once
    texts = {**py_ws.texts, "pkg/other.py": "from pkg.util import Meter\nm = Meter(\"cm\")\nn = scale(item, 9)\n"}
    meter = {h.kind: repo_eval.call_elsewhere(texts, h) for h in holes if h.callee == "Meter"}
    assert meter == {"api": True, "call": True}  # `Meter("cm")` is written in other.py too
    scale = {repo_eval.call_elsewhere(texts, h) for h in holes if h.truth.startswith(("item", "scale(item"))}
    assert scale == {False}  # the same function with other arguments does not count
    line = next(h for h in repo_eval.cut_holes(py_ws, CUT, seed=0) if h.kind == "line")
    assert repo_eval.call_elsewhere(texts, line) is None


def test_summary_splits_api_holes_by_call_elsewhere(repo_eval):
    def row(i, elsewhere, em):
        return {"id": i, "kind": "api", "config": "all", "context_ms": 1.0, "prompt_tokens": 5, "sources": [],
                "call_elsewhere": elsewhere, "exact_match": em, "edit_similarity": 1.0}
    records = [row("a", True, True), row("b", True, False), row("c", False, False), row("d", False, False)]
    records.append({k: v for k, v in row("e", False, False).items() if k not in ("exact_match", "edit_similarity")})
    got = repo_eval.summarize(records, ["all"])["all"]["api"]["call_elsewhere"]
    assert got == {"share": 0.4, "yes": {"model_n": 2, "exact_match": 0.5}, "no": {"model_n": 2, "exact_match": 0.0}}


def test_call_in_prompt_says_where_the_prompt_shows_the_whole_call(repo_eval):
    text = 'import util\nm = util.Meter("cm")\n'
    start = text.index('Meter(') + len('Meter(')
    end = text.index("\n", start)
    hole = repo_eval.Hole("api", "a.py", start, end, text[start:end], callee="Meter", call_start=text.index("util."))
    line = repo_eval.Hole("line", "a.py", start, end, text[start:end])

    def prompt(snippets, window):
        return prompts.Prompt(snippets + window + '<|fim_suffix|>', "qwen2.5-coder", 0, window, "")

    assert repo_eval.call_in_prompt(text, hole, prompt("", 'n = util.Meter("cm")\nm = util.Meter(')) == "window"
    # another file's call without the module qualifier counts; the same function with other arguments does not
    assert repo_eval.call_in_prompt(text, hole, prompt('k = Meter("cm")\n', "m = util.Meter(")) == "snippets"
    assert repo_eval.call_in_prompt(text, hole, prompt('k = Meter("km")\n', "m = util.Meter(")) == "absent"
    assert repo_eval.call_in_prompt(text, line, prompt("", 'Meter("cm")')) is None


def test_summary_splits_api_holes_by_call_in_prompt(repo_eval):
    def row(i, where, em):
        return {"id": i, "kind": "api", "config": "all", "context_ms": 1.0, "prompt_tokens": 5, "sources": [],
                "call_in_prompt": where, "exact_match": em, "edit_similarity": 1.0}
    records = [row("a", "window", True), row("b", "snippets", True), row("c", "snippets", False),
               row("d", "absent", False)]
    got = repo_eval.summarize(records, ["all"])["all"]["api"]["call_in_prompt"]
    assert got == {"window": {"share": 0.25, "model_n": 1, "exact_match": 1.0},
                   "snippets": {"share": 0.5, "model_n": 2, "exact_match": 0.5},
                   "absent": {"share": 0.25, "model_n": 1, "exact_match": 0.0}}


def test_picked_holes_record_their_prompt_hash_and_prompts_only_predicts_nothing(repo_eval, py_ws):
    import argparse
    holes = [h for h in repo_eval.cut_holes(py_ws, CUT, seed=0) if h.kind in ("line", "api")]
    args = argparse.Namespace(configs=["prefix", "all"], prefix_chars=3000, holes=3, seed=0, block_tokens=16,
                              line_tokens=16, block_lines=4, prompts_only=True)
    engine = EchoEngine()
    records = repo_eval.evaluate(py_ws, holes, args, engine, prompts.template_for("qwen2.5-coder"),
                                 lambda s: len(s) // 4)
    assert not engine.prompts and not any("prediction" in r for r in records)
    hashed = [r for r in records if "prompt_sha" in r]
    assert {r["id"] for r in hashed} == repo_eval.pick_for_model(holes, 3, 0) and len(hashed) == 6
    by = {(r["config"], r["id"]): r["prompt_sha"] for r in hashed}
    assert all(by["prefix", i] != by["all", i] for _, i in by)  # the full context shows more than the prefix
    # a model run on the same holes builds the same prompts: the hashes agree, and hash what the model read
    args.prompts_only = False
    again = repo_eval.evaluate(py_ws, holes, args, engine, prompts.template_for("qwen2.5-coder"),
                               lambda s: len(s) // 4)
    assert {(r["config"], r["id"]): r["prompt_sha"] for r in again if "prompt_sha" in r} == by
    assert len(engine.prompts) == 6 and all("prediction" in r for r in again if "prompt_sha" in r)
    # a prompt with another healed word or indentation is another prompt
    one = prompts.Prompt("text", "qwen2.5-coder", 0, "text", "", ["prefix"])
    shas = {repo_eval.prompt_sha(p) for p in (one, dataclasses.replace(one, heal="ab"),
                                              dataclasses.replace(one, indent=" "))}
    assert len(shas) == 3
