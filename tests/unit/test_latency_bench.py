"""bench/latency.py: the raw twin of each quiet request runs the server's logged prompts in order."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import latency  # noqa: E402


class CountingLlama:
    """Records what it was asked to generate."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
        return list(text)

    def create_completion(self, prompt: list[int], max_tokens: int, **_) -> None:
        self.calls.append((bytes(prompt).decode(), max_tokens))


def raw_engine() -> latency.RawEngine:
    raw = object.__new__(latency.RawEngine)  # no model: only the bookkeeping is under test
    raw.llm, raw.done = CountingLlama(), 0
    return raw


def gen(gid: str, first_line_tokens: int | None = 4, generated: int = 9, error: str | None = None) -> dict:
    return {"event": "generation", "id": gid, "prompt": f"prompt {gid}", "prompt_tokens": 10,
            "first_line_tokens": first_line_tokens, "generated_tokens": generated, "error": error}


def test_catch_up_runs_each_logged_prompt_once_in_order_and_times_only_the_request():
    raw = raw_engine()
    assert raw.catch_up([gen("a"), gen("b", first_line_tokens=None)], timed="b") is None  # no first line
    assert raw.llm.calls == [("prompt a", 4), ("prompt b", 9)]  # all it generated, when no first line
    ms = raw.catch_up([gen("a"), gen("b"), gen("c"), gen("d", first_line_tokens=2)], timed="d")
    assert ms is not None and ms >= 0
    assert raw.llm.calls[2:] == [("prompt c", 4), ("prompt d", 2)]
    assert raw.catch_up([gen("a"), gen("b"), gen("c"), gen("d"), gen("e", error="boom")], timed="e") is None


def test_logged_generations_skips_a_half_written_line_and_unstarted_generations(tmp_path):
    log = tmp_path / "requests.jsonl"
    assert latency.logged_generations(log) == []
    entries = [gen("a"), {"event": "request", "id": "r"}, {**gen("b"), "prompt_tokens": 0}, gen("c")]
    log.write_text("".join(json.dumps(e) + "\n" for e in entries) + '{"event": "generation", "id": "d"')
    assert [g["id"] for g in latency.logged_generations(log)] == ["a", "c"]
