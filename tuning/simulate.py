"""A developer you can simulate: re-types real files through a real LSP session and reacts to suggestions.

For each file, a region of lines is cut out and re-typed in order. At each pause (the start of a
line, sometimes mid-line) the developer waits for Tacit's suggestion, sees it (`shown`), and:
- accepts it when it is exactly what the file says next (`accepted`), or accepts the part that
  matches up to a word boundary (`partiallyAccepted`) and types on;
- sometimes accepts a near miss and then rewrites it into what the file really says (so the
  retention checks see accepted-then-rewritten text);
- otherwise dismisses it or types over it.
It sends the same signals the editor clients send, so everything lands in the same event store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types

from lsp_server import client as lsp_client
from lsp_server.client import TacitClient
from tuning.metrics import similarity

LANGUAGES = {".py": "python", ".js": "javascript", ".mjs": "javascript", ".ts": "typescript", ".go": "go",
             ".rs": "rust", ".lua": "lua", ".java": "java", ".c": "c", ".cpp": "cpp"}


@dataclass
class Developer:
    """How the simulated developer behaves."""

    seed: int = 0
    lines: int = 8  # lines re-typed per file
    mid_line_pause: float = 0.3  # chance of also pausing inside a line
    near_miss: float = 0.7  # a first line at least this similar to the truth is a near miss...
    accept_near_miss: float = 0.5  # ...accepted (then rewritten) this often
    dismiss: float = 0.4  # a wrong suggestion is dismissed this often, else typed over
    wait_s: float = 30.0  # how long to wait for a suggestion at a pause


@dataclass
class Outcome:
    counts: Counter = field(default_factory=Counter)
    suggestions: list[dict] = field(default_factory=list)

    def add(self, kind: str, **info) -> None:
        self.counts[kind] += 1
        self.suggestions.append({"kind": kind, **info})


def utf16_position(text: str, offset: int) -> types.Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return types.Position(line=text.count("\n", 0, offset),
                          character=len(text[line_start:offset].encode("utf-16-le")) // 2)


class Editor:
    """One document as the simulated developer's editor holds it."""

    def __init__(self, client: TacitClient, uri: str, text: str, language: str) -> None:
        self.client, self.uri, self.text, self.version = client, uri, text, 1
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))

    def replace(self, start: int, end: int, new: str) -> None:
        rng = types.Range(start=utf16_position(self.text, start), end=utf16_position(self.text, end))
        self.text = self.text[:start] + new + self.text[end:]
        self.version += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[types.TextDocumentContentChangePartial(range=rng, text=new)]))

    def type(self, offset: int, text: str) -> int:
        """Type `text` at `offset` one character at a time; return the new cursor."""
        for ch in text:
            self.replace(offset, offset, ch)
            offset += 1
        return offset

    def close(self) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri)))


async def suggestion(client: TacitClient, editor: Editor, offset: int, wait_s: float):
    """The suggestion at `offset` once it is complete (re-requesting as the server streams), or None."""
    pos = utf16_position(editor.text, offset)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    item = None
    while loop.time() < deadline:
        while not client.updates.empty():
            client.updates.get_nowait()
        result = await client.inline(editor.uri, pos.line, pos.character)
        item = result.items[0] if result is not None and result.items else None
        if item is None or item.command.arguments[1]["complete"]:
            return item
        try:  # wait for `tacit/completionUpdated`, then ask again: the rest is served from cache
            await asyncio.wait_for(client.updates.get(), max(0.1, deadline - loop.time()))
        except TimeoutError:
            break
    return item


def signal(client: TacitClient, sid: str, kind: str, length: int | None = None) -> None:
    params = {"id": sid, "kind": kind}
    if length is not None:
        params["acceptedLength"] = length
    client.protocol.notify("tacit/signal", params)


def common_word_prefix(a: str, b: str) -> int:
    """Length of the common prefix of a and b, cut back to the end of a word."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    if n == min(len(a), len(b)):
        return n
    m = n
    while m > 0 and re.match(r"\w", a[m - 1]) and re.match(r"\w", a[m]):
        m -= 1
    return m


def pauses(region: str, rng: random.Random, mid_line: float) -> list[int]:
    """Offsets inside the region where the developer stops and looks at the suggestion."""
    out, start = [], 0
    for line in region.splitlines(keepends=True):
        body = line.strip()
        if body:
            indent = len(line) - len(line.lstrip())
            out.append(start + indent)
            if rng.random() < mid_line and len(body) > 8:
                out.append(start + indent + rng.randrange(3, len(body) - 2))
        start += len(line)
    return out


async def retype(client: TacitClient, path: Path, uri: str, dev: Developer, rng: random.Random,
                 outcome: Outcome) -> None:
    """Re-type one region of one file, reacting to every suggestion."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    candidates = [i for i in range(3, max(4, len(lines) - dev.lines)) if lines[i].strip()]
    first = rng.choice(candidates) if candidates else 0
    cut_start = sum(len(ln) for ln in lines[:first])
    cut_end = cut_start + sum(len(ln) for ln in lines[first:first + dev.lines])
    # The region is typed into an empty line, as after Enter: its last line break stays in the document,
    # so the code after the region starts on the next line rather than right after the cursor.
    if source[cut_start:cut_end].endswith("\n"):
        cut_end -= 1
    region = source[cut_start:cut_end]
    editor = Editor(client, uri, source[:cut_start] + source[cut_end:], LANGUAGES.get(path.suffix, "plaintext"))
    cursor, typed = cut_start, 0  # typed: how much of the region is in the document
    try:
        for stop in pauses(region, rng, dev.mid_line_pause):
            if stop < typed:
                continue  # an accepted suggestion already covered it
            cursor = editor.type(cursor, region[typed:stop])
            typed = stop
            item = await suggestion(client, editor, cursor, dev.wait_s)
            if item is None or not item.insert_text:
                outcome.add("none")
                continue
            sid, text = item.command.arguments[0], item.insert_text
            start = cursor  # the item replaces from the cursor (and any closers after it on the line)
            truth = region[typed:]
            signal(client, sid, "shown")
            first_line, truth_line = text.split("\n", 1)[0], truth.split("\n", 1)[0]
            if truth.startswith(text):
                editor.replace(start, start, text)
                await client.workspace_execute_command_async(types.ExecuteCommandParams(
                    command=item.command.command, arguments=item.command.arguments))
                cursor, typed = cursor + len(text), typed + len(text)
                outcome.add("accepted", chars=len(text))
            elif (n := common_word_prefix(text, truth)) >= 3 and text[:n].strip():
                editor.replace(start, start, text[:n])
                signal(client, sid, "partiallyAccepted", n)
                cursor, typed = cursor + n, typed + n
                outcome.add("partiallyAccepted", chars=n)
            elif similarity(first_line, truth_line) >= dev.near_miss and rng.random() < dev.accept_near_miss:
                editor.replace(start, start, first_line)
                signal(client, sid, "accepted", len(first_line))
                await asyncio.sleep(0.2)
                editor.replace(start, start + len(first_line), truth_line)  # rewritten into what the file says
                cursor, typed = cursor + len(truth_line), typed + len(truth_line)
                outcome.add("rewritten", chars=len(first_line))
            elif rng.random() < dev.dismiss:
                signal(client, sid, "dismissed")
                outcome.add("dismissed")
            else:
                signal(client, sid, "typedOver")
                outcome.add("typedOver")
        editor.type(cursor, region[typed:])
    finally:
        editor.close()


async def simulate(repo: Path, files: list[Path], dev: Developer, init_options: dict | None = None,
                   env: dict | None = None) -> Outcome:
    """Run the simulated developer over `files` of `repo` in one real LSP session."""
    client = await lsp_client.start(init_options or {}, root=repo, env=env)
    outcome = Outcome()
    rng = random.Random(dev.seed)
    try:
        state = await client.wait_state(timeout=300)
        if state != "ready":
            raise RuntimeError(f"server not ready: {client.statuses[-1:]} {client.messages}")
        for path in files:
            await retype(client, path, path.resolve().as_uri(), dev, rng, outcome)
        got = await client.protocol.send_request_async("tacit/getSignals", {})
        outcome.counts["stored_signals"] = len(got.signals)
    finally:
        await client.close()
    return outcome


def pick_files(repo: Path, n: int, seed: int, suffixes: tuple[str, ...] = (".py",)) -> list[Path]:
    """`n` source files of the repository (seeded), skipping tiny ones and tests."""
    found = sorted(p for p in repo.rglob("*") if p.suffix in suffixes and p.is_file()
                   and "test" not in p.name and 40 <= len(p.read_text(errors="ignore").splitlines()) <= 3000)
    rng = random.Random(seed)
    return rng.sample(found, min(n, len(found)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tuning.simulate", description=__doc__.split("\n")[0])
    ap.add_argument("--repo", required=True, type=Path)
    ap.add_argument("--files", type=int, default=3)
    ap.add_argument("--lines", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--db", help="event store to write (default: the user's)")
    ap.add_argument("--model", help="model name or GGUF path")
    args = ap.parse_args(argv)
    options: dict = {"completion": {"prefixChars": 3000}}
    if args.db:
        options["signals"] = {"database": str(Path(args.db).resolve())}
    if args.model:
        options["model"] = {"path": args.model}
    files = pick_files(args.repo, args.files, args.seed)
    outcome = asyncio.run(simulate(args.repo, files, Developer(seed=args.seed, lines=args.lines), options))
    print(json.dumps({"files": [str(f) for f in files], **outcome.counts}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
