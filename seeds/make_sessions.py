"""Build the recorded typing sessions in seeds/sessions/ from real files in seeds/demo/.

Each session removes a function body from a real file and re-types it keystroke by
keystroke with human-like, seeded pauses. Deterministic: the same seed gives the same file.
Run: python seeds/make_sessions.py
"""

from __future__ import annotations

import ast
import json
import random
from pathlib import Path

HERE = Path(__file__).parent

# (session name, demo file, function name, occurrence, seed)
SESSIONS = [
    ("textwrap-indent", "demo/textwrap.py", "indent", 0, 11),
    ("shlex-quote", "demo/shlex.py", "quote", 0, 12),
    ("calendar-formatmonth", "demo/calendar.py", "formatmonth", 0, 13),
]


def body_region(source: str, name: str, occurrence: int) -> tuple[int, int]:
    """Offsets of a function's body after its docstring, from the first statement's line start."""
    tree = ast.parse(source)
    funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
    funcs.sort(key=lambda n: n.lineno)
    fn = funcs[occurrence]
    body = fn.body
    if isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    lines = source.splitlines(keepends=True)
    start_line = body[0].lineno - 1
    end_line = fn.end_lineno
    start = sum(len(x) for x in lines[:start_line]) + body[0].col_offset
    end = sum(len(x) for x in lines[:end_line]) - 1  # before the final newline
    return start, end


def keystrokes(text: str, rng: random.Random) -> list[dict]:
    """Split typed text into keystrokes with pauses: Enter carries the next line's auto-indent."""
    events, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            j = i + 1
            while j < len(text) and text[j] in " \t":
                j += 1
            key, i = text[i:j], j
            pause = rng.uniform(350, 1200)
        else:
            key, i = ch, i + 1
            pause = rng.lognormvariate(4.7, 0.35)  # median ~110 ms between keys
            if ch in "(.,=:" and rng.random() < 0.3:
                pause += rng.uniform(150, 500)
        if rng.random() < 0.02:
            pause += rng.uniform(1500, 3000)  # thinking
        events.append({"dt_ms": round(pause, 1), "text": key})
    return events


def build(name: str, file: str, func: str, occurrence: int, seed: int) -> dict:
    source = (HERE / file).read_text()
    start, end = body_region(source, func, occurrence)
    typed = source[start:end]
    events = keystrokes(typed, random.Random(seed))
    assert "".join(e["text"] for e in events) == typed
    return {"name": name, "file": file, "language": "python", "cut": [start, end], "events": events}


def main() -> None:
    out = HERE / "sessions"
    out.mkdir(exist_ok=True)
    for spec in SESSIONS:
        session = build(*spec)
        header = {k: v for k, v in session.items() if k != "events"}
        lines = [json.dumps(header)] + [json.dumps(e) for e in session["events"]]
        (out / f"{spec[0]}.jsonl").write_text("\n".join(lines) + "\n")
        print(f"{spec[0]}: {len(session['events'])} keystrokes")


if __name__ == "__main__":
    main()
