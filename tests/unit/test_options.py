import json
from pathlib import Path

from lsp_server.options import Options, parse_options, to_json


def test_defaults_when_empty():
    opts, errors = parse_options(None)
    assert opts == Options() and errors == []


def test_camel_case_nested():
    opts, errors = parse_options({"engine": "remote", "remote": {"url": "http://127.0.0.1:9/v1", "timeoutMs": 500},
                                  "completion": {"maxTokens": 32, "debounceMs": 10},
                                  "disabledLanguages": ["markdown"]})
    assert errors == []
    assert opts.engine == "remote" and opts.remote.timeout_ms == 500
    assert opts.completion.max_tokens == 32 and opts.completion.debounce_ms == 10
    assert opts.disabled_languages == ["markdown"]


def test_tacit_section_is_unwrapped():
    opts, errors = parse_options({"tacit": {"enabled": False}})
    assert not opts.enabled and errors == []


def test_invalid_values_fall_back_and_are_reported():
    opts, errors = parse_options({"engine": "gpt-99", "completion": {"maxTokens": "many", "maxLines": -3},
                                  "bogus": 1, "model": 7, "enabled": "yes"})
    assert opts.engine == "llama"
    assert opts.completion.max_tokens == Options().completion.max_tokens
    assert opts.completion.max_lines == Options().completion.max_lines
    assert opts.enabled is True
    text = " ".join(errors)
    for needle in ("engine", "maxTokens", "bogus", "model", "enabled", "maxLines"):
        assert needle in text


def test_remote_without_url_falls_back_to_embedded():
    opts, errors = parse_options({"engine": "remote"})
    assert opts.engine == "llama" and any("remote.url" in e for e in errors)


def test_change_configuration_merges_onto_current():
    base, _ = parse_options({"completion": {"maxTokens": 10}})
    opts, _ = parse_options({"completion": {"maxLines": 3}}, base)
    assert opts.completion.max_tokens == 10 and opts.completion.max_lines == 3
    assert base.completion.max_lines == Options().completion.max_lines  # base untouched


def test_to_json_is_camel_case():
    assert to_json(Options())["completion"]["maxTokens"] == Options().completion.max_tokens


def test_selective_context_is_one_of_three_modes():
    opts, errors = parse_options({"context": {"selective": "callee"}})
    assert opts.context.selective == "callee" and errors == []
    opts, errors = parse_options({"context": {"selective": "sometimes"}})
    assert opts.context.selective == Options().context.selective and any("context.selective" in e for e in errors)


def test_vscode_settings_default_to_the_server_defaults():
    # VS Code sends every contributed setting with its default, so a stale default there overrides the server's
    pkg = Path(__file__).resolve().parents[2] / "editor-clients" / "vscode" / "package.json"
    props = json.loads(pkg.read_text())["contributes"]["configuration"]["properties"]
    server = to_json(Options())
    compared = 0
    for key, spec in props.items():
        node = server
        for part in key.removeprefix("tacit.").split("."):
            node = node.get(part, KeyError) if isinstance(node, dict) else KeyError
        if node is KeyError or "default" not in spec:
            continue  # a client-only setting
        assert spec["default"] == node, key
        compared += 1
    assert compared >= 20


def test_max_files_bounds_the_index_and_zero_lifts_the_bound():
    assert Options().context.max_files == 10_000
    assert parse_options({"context": {"maxFiles": 0}})[0].context.max_files == 0
    opts, errors = parse_options({"context": {"maxFiles": -5}})
    assert opts.context.max_files == 10_000 and any("maxFiles" in e for e in errors)
