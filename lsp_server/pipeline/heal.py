"""Token healing: a prompt never ends in the middle of a word (or a run of punctuation).

The cursor is inside a word most of the time while someone types (`self.form|`), and BPE
tokenizers split code into words with their leading character attached: Qwen's pre-tokenizer writes
`        formatter.write` as seven spaces, ` formatter`, `.write`. A prompt ending in ` form` ends
on a token the model has seen only where the word ended there, so it answers as if it had: it
skipped letters (`ter.write_text` for `atter.write_text`), wrote the line again from its start
(`            raise ...` after `ra`), or took another word (`atch` after `requests.p`).

So the prompt leaves out the last pre-token before the cursor (`tail`: a run of letters with the one
character before it, a run of punctuation with one space before it, or a line's trailing space), and
the engine is told to make its output start with exactly those characters (`GenOptions.heal`),
choosing among the tokens that agree with them, then to write only what follows them. The word is
then tokenized as in training, and the suggestion still starts at the cursor. Engines that cannot
constrain their first tokens (`heals` False) get the prompt unchanged. Context is still chosen
from the whole text before the cursor (`assemble.build(heal=...)`): `f(` is still a call of `f`.

Indentation alone before the cursor is `indent`'s business; digits are single tokens for the
tokenizers we ship, so a cursor after a digit is left alone.
"""

from __future__ import annotations

import re

MAX_CUT = 32  # characters; a longer word is left whole rather than re-written token by token

_TAIL = re.compile(
    r"(?:(?:[^\w\n]|_)?[^\W\d_]+"  # letters, with the one character before them (` form`, `.wr`, `_te`)
    r"| ?(?:[^\s\w]|_)+"  # punctuation, with the space before it (` ==`, `("`)
    r"|(?<=\S) )\Z"  # a single space after the line's text (`x = `): it belongs to the next word
)


def tail(text: str, offset: int) -> str:
    """The characters before the cursor to heal, or "" (none, or the line holds only indentation)."""
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:offset]
    if not line.strip():
        return ""
    m = _TAIL.search(line)
    if m is None or len(m.group()) > MAX_CUT:
        return ""
    return m.group()

