"""Training examples for `tacit tune model`, shaped exactly like the prompts the server sends.

Three sources:
- the workspace's own code, cut into fill-in-the-middle holes (the rest of a line from a cursor
  inside it, or the next few lines from a line start), rendered with the model's template and the
  same file header the server puts in front of the current file;
- the same code read straight through, in consecutive chunks after that file header (the repository
  format Qwen2.5-Coder was trained on): every token of a chunk is learned, so a CPU minute teaches
  the codebase's names and idioms from about twenty times more tokens than FIM holes do (a hole's
  middle is about 9 tokens after about 140 of prompt);
- suggestions the developer accepted (fully, or the accepted part) and kept: their stored prompt
  (only there when `signals.storePrompts` is on) and the text that was accepted.

Files are split into train and held-out by a stable hash of their path, so a benchmark can cut
evaluation holes from files that training never saw, and the split does not move when files are
added. Every text is redacted before it becomes an example.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from context import assemble
from context import prompt as prompts
from context.secrets import redact
from context.syntax import language_for_path
from context.workspace_files import WorkspaceFiles
from lsp_server.pipeline import heal

# The prefix window of training prompts: shorter than the server's (the cost of a training example
# grows with its length, and a CPU has minutes, not hours), the same rules otherwise.
TRAIN_PROMPT = prompts.PromptOptions(prefix_chars=1000, prefix_keep_chars=700)
KEPT_SIMILARITY = 0.7  # an accepted suggestion counts as kept when its last retention check is at least this


@dataclass(frozen=True)
class Example:
    """One training example: the prompt (not learned) and the completion that should follow (learned)."""

    prompt: str
    completion: str
    source: str  # "workspace" or "accepted"
    path: str


def held_out(rel: str, share: float = 0.2) -> bool:
    """Whether a file belongs to the held-out part (stable: depends on its path alone)."""
    digest = hashlib.sha256(rel.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def source_files(root: Path, max_bytes: int = 200_000) -> list[tuple[str, str, str]]:
    """(relative path, language, text) of the workspace's code files, with the index's rules
    (.gitignore, no secret files, no binaries, no symlinks out of the workspace). Each text is
    redacted whole, before any example is cut from it: a key block cut in two would otherwise leave
    the half without its BEGIN line in the clear."""
    files = WorkspaceFiles([root], max_file_bytes=max_bytes)
    out = []
    for path in files.walk():
        rel = files.rel(path)
        language = language_for_path(rel)
        if language is None:
            continue
        data, _why = files.read(path)
        if data is None:
            continue
        out.append((rel, language, redact(data.data.decode("utf-8"))))
    return sorted(out)


def split_files(root: Path, split: str) -> list[tuple[str, str, str]]:
    """`source_files` of one split: "train", "held_out" or "all"."""
    return [f for f in source_files(root) if split == "all" or held_out(f[0]) == (split == "held_out")]


def holes(text: str, rng: random.Random, n: int, block_lines: int = 4,
          line_share: float = 0.7, healed: bool = True) -> Iterator[tuple[int, int]]:
    """`n` (start, end) spans to learn to fill: the rest of a line from a cursor inside its code,
    or one to `block_lines` whole lines from a line start. `healed`: a span starts where the server's
    prompt for that cursor would end (see below); False: at the cursor inside a word too (the
    prompts before token healing)."""
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    lines = [(s, text.find("\n", s) if text.find("\n", s) >= 0 else len(text)) for s in starts]
    code = [k for k, (s, e) in enumerate(lines) if len(text[s:e].strip()) >= 4]
    if not code:
        return
    for _ in range(n):
        k = rng.choice(code)
        s, e = lines[k]
        if rng.random() < line_share:  # rest of the line, from a cursor after the indentation
            indent = len(text[s:e]) - len(text[s:e].lstrip())
            cursor = rng.randint(s + indent, max(s + indent, e - 1))
            # the server's prompt leaves out the indentation's last character when the cursor is right
            # after it (lsp_server/pipeline/indent.py), and the word or punctuation run the cursor is in
            # (token healing, lsp_server/pipeline/heal.py); the model writes them again: the hole does too
            if indent and cursor == s + indent:
                yield cursor - 1, e
            else:
                yield cursor - (len(heal.tail(text, cursor)) if healed else 0), e
        else:  # whole lines from this line's start
            last = min(len(lines) - 1, k + rng.randint(0, block_lines - 1))
            yield s, lines[last][1]


def render(template: prompts.Template, repo_name: str, rel: str, language: str, prefix: str, suffix: str,
           opts: prompts.PromptOptions) -> str:
    """The prompt the server would send for a cursor between `prefix` and `suffix` (no cross-file context)."""
    outer, inner = assemble.render(template, [], rel, repo_name, language, True)
    start = prompts.anchor_offset(prefix, None, opts)
    suffix_text = redact(prompts.cut_suffix(suffix, opts)) if template.fim else ""
    return outer + template.render(redact(prefix[start:]), suffix_text, inner)


def end_token(template: prompts.Template) -> str:
    """What a FIM model emits when the middle is done (prefix-only models are cut by stop rules)."""
    return template.stops[0] if template.fim and template.stops else ""


def workspace_examples(root: Path, template: prompts.Template, per_file: int = 20, seed: int = 0,
                       split: str = "train", opts: prompts.PromptOptions | None = None,
                       healed: bool = True) -> list[Example]:
    """Holes cut from the workspace's files of one split ("train", "held_out" or "all")."""
    opts = opts or TRAIN_PROMPT
    rng = random.Random(seed)
    out = []
    for rel, language, text in split_files(root, split):
        for start, end in holes(text, rng, per_file, healed=healed):
            middle = text[start:end]
            if not middle.strip():
                continue
            prompt = render(template, root.name, rel, language, text[:start], text[end:], opts)
            out.append(Example(prompt, middle + end_token(template), "workspace", rel))
    rng.shuffle(out)
    return out


def chunks(text: str, size: int) -> Iterator[tuple[int, int]]:
    """Consecutive (start, end) spans of about `size` characters, cut at line ends (a longer line is
    one span of its own)."""
    start = 0
    while start < len(text):
        end = text.rfind("\n", start, start + size) + 1
        if end <= start:  # one line longer than `size`
            nl = text.find("\n", start)
            end = len(text) if nl < 0 else nl + 1
        if start + size >= len(text):
            end = len(text)
        yield start, end
        start = end


def chunk_examples(root: Path, template: prompts.Template, split: str = "train", size: int = 1200,
                   context: int = 300) -> list[Example]:
    """The files of one split read straight through: each chunk follows the file header and (not
    learned) the `context` characters before it, and all of it is learned, up to the end of the
    line it stops on. No end token: the file goes on."""
    out = []
    for rel, language, text in split_files(root, split):
        outer, inner = assemble.render(template, [], rel, root.name, language, True)
        for start, end in chunks(text, size):
            body = text[start:end]
            if not body.strip():
                continue
            before = text[max(0, start - context):start]
            before = before[before.find("\n") + 1:] if start > context else before  # from a line start
            out.append(Example(outer + inner + before, body, "chunk", rel))
    return out


def kept(rec: dict[str, Any]) -> bool:
    """An accepted suggestion whose text survived (or has not been checked yet)."""
    if not rec["shown"] or not (rec["outcome"] == "accepted" or rec["accepted_length"] > 0):
        return False
    checks = rec["retention"]
    return not checks or checks[-1]["similarity"] >= KEPT_SIMILARITY


def accepted_examples(records: Iterable[dict[str, Any]], template: prompts.Template) -> list[Example]:
    """Accepted-and-kept suggestions whose prompt was stored: the accepted text is the target."""
    out = []
    for rec in records:
        if not rec["prompt"] or not kept(rec):
            continue
        full = rec["outcome"] == "accepted"
        text = rec["text"] if full else rec["text"][: rec["accepted_length"]]
        extra = rec.get("features") or {}
        extra = json.loads(extra) if isinstance(extra, str) else extra
        if text.strip():  # a prompt that left out the indentation's last character is continued by it
            out.append(Example(redact(rec["prompt"]), extra.get("promptIndent", "") + redact(text)
                               + (end_token(template) if full else ""), "accepted", rec["path"]))
    return out
