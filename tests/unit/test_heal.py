"""Token healing: which characters before the cursor the prompt leaves out, and which tokens may then
start the output (`lsp_server.pipeline.heal`, `lsp_server.engines.constrain`)."""

import numpy as np
import pytest

from lsp_server.engines.constrain import Pieces
from lsp_server.pipeline import heal


def split(marked: str) -> tuple[str, int]:
    return marked.replace("<CURSOR>", ""), marked.index("<CURSOR>")


@pytest.mark.parametrize("marked,expected", [
    ("        form<CURSOR>\n", " form"),  # the space before a word belongs to its token
    ("form<CURSOR>", "form"),  # at the start of the file
    ("x = self.wr<CURSOR>(a)\n", ".wr"),  # text after the cursor does not matter
    ("x.write_te<CURSOR>", "_te"),
    ("r = requests.p<CURSOR>", ".p"),
    ("x = f(<CURSOR>", "("),  # punctuation: `("` and `()` are tokens too
    ('if x == "<CURSOR>', ' "'),
    ("x = <CURSOR>", " "),  # a trailing space belongs to the next word
    ("x =  <CURSOR>", ""),  # two: left alone
    ("    <CURSOR>", ""),  # indentation only: `indent` heals that
    ("\n<CURSOR>", ""),
    ("x = 42<CURSOR>", ""),  # digits are single tokens
    ("utf8<CURSOR>", ""),
    ("caf\u00e9<CURSOR>", "caf\u00e9"),  # letters are Unicode letters
    ("x = " + "a" * 40 + "<CURSOR>", ""),  # too long to write again
    ("def f():\n    return<CURSOR>\n", " return"),  # a whole word: the model may still go on with it
    ("a\nb<CURSOR>", "b"),  # never across a line break
])
def test_tail_is_the_last_pretoken_before_the_cursor(marked, expected):
    text, offset = split(marked)
    assert heal.tail(text, offset) == expected


VOCAB = [b"", b" ", b" f", b" for", b" form", b" formatter", b"m", b"at", b"atter", b"ter", b"(", b"('", b"x",
         "\u00e9".encode()[:1], "\u00e9".encode()[1:], b"caf"]


def test_allowed_tokens_start_with_the_rest_or_are_a_prefix_of_it():
    p = Pieces(VOCAB)
    ids = lambda rest: sorted(VOCAB[i] for i in p.allowed(rest))  # noqa: E731
    assert ids(b" form") == [b" ", b" f", b" for", b" form", b" formatter"]
    assert ids(b"(") == [b"(", b"('"]
    assert ids(b"z") == []
    assert ids(b"caf\xc3\xa9") == [b"caf"]  # the rest of a multi-byte character comes next
    assert ids(b"\xc3\xa9") == [b"\xc3"]


def test_choose_is_greedy_among_the_allowed_and_consumes_the_rest():
    p = Pieces(VOCAB)
    logits = np.zeros(len(VOCAB))
    logits[VOCAB.index(b"ter")] = 9.0  # the model's favourite does not agree with " form": not chosen
    logits[VOCAB.index(b" for")] = 2.0
    logits[VOCAB.index(b" formatter")] = 1.0
    assert p.choose(logits, b" form") == (VOCAB.index(b" for"), b"m", b"")
    logits[VOCAB.index(b"m")] = 1.0
    assert p.choose(logits, b"m") == (VOCAB.index(b"m"), b"", b"")
    logits[VOCAB.index(b" formatter")] = 5.0
    assert p.choose(logits, b" form") == (VOCAB.index(b" formatter"), b"", b"atter")
    assert p.choose(logits, b"z") is None


def test_pieces_survive_a_rest_of_high_bytes():
    p = Pieces([b"\xff", b"\xff\xff", b"a"])
    assert sorted(p.allowed(b"\xff").tolist()) == [0, 1]


def test_a_token_that_ends_the_line_right_after_the_healed_text_is_not_allowed():
    vocab = [b"(", b"(\n", b"( \n", b"()\n", b"(x", b"x"]
    p = Pieces(vocab)
    assert sorted(vocab[i] for i in p.allowed(b"(")) == [b"(", b"()\n", b"(x"]  # `()` then a break is a line
    logits = np.zeros(len(vocab))
    logits[1] = 9.0  # the model's favourite, `(\n`, would leave the cursor's line empty
    logits[4] = 1.0
    assert p.choose(logits, b"(") == (4, b"", b"x")
    assert Pieces([b"\n", b" \n"]).allowed(b" ").tolist() == [1]  # nothing else agrees: kept
