"""Indentation healing: a prompt never ends in the middle of the token that starts a line's code.

An editor leaves the cursor after the indentation of a new, empty line (Enter, auto-indent), and
that is the most common place to ask for a suggestion. Qwen's tokenizer (like most BPE tokenizers)
writes eight spaces and `self` as seven spaces then ` self`: the last space belongs to the word. A
prompt ending in all eight spaces ends mid-token, in a way the model never saw in training, and it
often answered with one more indentation level (`    def run(self):` after four spaces: eight).

So the prompt leaves out the indentation's last character (`cut`), which the model then writes as
the start of its first token (` self`), and `strip` takes that character off the first line again,
so that the suggestion still starts at the cursor. A first line that starts otherwise keeps only
its content (the editor's indentation wins); an empty first line ends the suggestion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def before(text: str, offset: int) -> str:
    """The indentation before the cursor when that is all the line holds, else "".

    A line with text after the cursor is left alone (the cursor is inside existing code).
    """
    start = text.rfind("\n", 0, offset) + 1
    indent = text[start:offset]
    end = text.find("\n", offset)
    if indent.strip() or text[offset: end if end >= 0 else len(text)].strip():
        return ""
    return indent


def cut(text: str, offset: int) -> tuple[str, int, str]:
    """(text, offset, cut): the document without the indentation's last character before the
    cursor, the offset moved back over it, and that character; unchanged (with "") when the line
    holds anything but indentation."""
    if not before(text, offset):
        return text, offset, ""
    return text[: offset - 1] + text[offset:], offset - 1, text[offset - 1]


def strip(lines: Iterable[str], cut: str) -> Iterator[str]:
    """The model's lines made relative to the cursor again: the first line loses the `cut`
    character it starts with, or all its leading whitespace if it starts otherwise; a first line
    with no content ends the stream (the model wanted an empty line there). Later lines are kept."""
    it = iter(lines)
    if not cut:
        yield from it
        return
    for first in it:
        if not first.strip():
            return
        yield first[len(cut):] if first.startswith(cut) else first.lstrip(" \t")
        break
    yield from it
