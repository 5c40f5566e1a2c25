"""The completion pipeline end to end with a fake engine: streaming, cache, cancellation."""

import asyncio
import time

import pytest

from lsp_server.engines.fake import FakeEngine
from lsp_server.pipeline.orchestrator import Completer, CompletionSettings
from lsp_server.pipeline.request import CompletionRequest


def req(marked: str, uri: str = "file:///w/a.py", language: str = "python") -> CompletionRequest:
    offset = marked.index("<CURSOR>")
    text = marked.replace("<CURSOR>", "")
    line = text.count("\n", 0, offset)
    character = offset - (text.rfind("\n", 0, offset) + 1)
    return CompletionRequest(uri=uri, language_id=language, text=text, offset=offset, line=line,
                             character=character, received=time.perf_counter())


def make(outputs, delay=0.0, **settings):
    engine = FakeEngine(outputs, delay=delay)
    updated = []
    completer = Completer(engine, CompletionSettings(**settings), on_updated=updated.append)
    return engine, completer, updated


async def test_single_line_mid_statement():
    engine, c, _ = make([["total = ", "price * qty\n", "print(total)\n"]])
    s = await c.complete(req("def f(price, qty):\n    <CURSOR>\n"))
    # blank line -> block mode: both lines, block ends at dedent
    assert s is not None and s.text.startswith("total = price * qty")
    engine2, c2, _ = make([["qty)\n", "junk\n"]])
    s2 = await c2.complete(req("x = mul(price, <CURSOR>)\n"))
    assert s2.text == "qty)" and s2.end - s2.start == 1  # replaces the ')' after the cursor


async def test_typing_through_is_served_from_cache_without_the_model():
    engine, c, _ = make([["compute(a, b)\n"]])
    first = await c.complete(req("x = <CURSOR>\n"))
    assert first.text == "compute(a, b)" and not first.from_cache
    for typed in ("c", "co", "com", "compute("):
        s = await c.complete(req(f"x = {typed}<CURSOR>\n"))
        assert s is not None and s.from_cache and s.id == first.id
        assert s.text == "compute(a, b)"[len(typed):]
    assert len(engine.prompts) == 1


async def test_diverging_keystroke_starts_a_new_generation():
    engine, c, _ = make([["compute(a, b)\n"], ["zeta\n"]])
    await c.complete(req("x = <CURSOR>\n"))
    s = await c.complete(req("x = q<CURSOR>\n"))
    assert s.text == "zeta" and not s.from_cache and len(engine.prompts) == 2


async def test_block_streams_first_line_then_announces_the_rest():
    pieces = ["\n", "    a = 1\n", "    b = 2\n", "    c = 3\n", "    return a + b + c\n"]
    engine, c, updated = make([pieces], delay=0.05)
    first = await c.complete(req("def f():<CURSOR>\n\nprint(f())\n"))
    assert first is not None and not first.complete
    assert "a = 1" in first.text and "return" not in first.text
    for _ in range(200):
        if updated:
            break
        await asyncio.sleep(0.01)
    assert updated and updated[0].id == first.id
    full = await c.complete(req("def f():<CURSOR>\n\nprint(f())\n"))
    assert full.complete and full.from_cache and full.text.endswith("return a + b + c")
    assert len(engine.prompts) == 1


async def test_superseding_request_stops_the_running_generation():
    engine, c, _ = make([["slow"] * 200, ["fast\n"]], delay=0.02)
    old = asyncio.ensure_future(c.complete(req("x = <CURSOR>\n")))
    await asyncio.sleep(0.1)
    gen_old = c.recent["file:///w/a.py"][-1]
    new = await c.complete(req("x = q<CURSOR>\n"))
    assert new.text == "fast"
    assert await old is None
    assert gen_old.stopped and engine.stopped == 1


async def test_cancelled_request_stops_generation():
    engine, c, _ = make([["slow"] * 200], delay=0.02)
    task = asyncio.ensure_future(c.complete(req("x = <CURSOR>\n")))
    await asyncio.sleep(0.1)
    gen = c.recent["file:///w/a.py"][-1]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(gen.wait_done(), 2)
    assert gen.stopped and gen.stats.generated_tokens < 50


@pytest.mark.parametrize("output,marked", [
    ([], "x = <CURSOR>\n"),
    (["   \n"], "x = <CURSOR>\n"),
    (["foo(1)\n"], "x = <CURSOR>foo(1)\n"),  # repeats the text after the cursor
])
async def test_useless_output_shows_nothing(output, marked):
    _, c, _ = make([output])
    assert await c.complete(req(marked)) is None


async def test_prefilter_skips_without_the_model():
    engine, c, _ = make([["x\n"]], enabled=False)
    assert await c.complete(req("x = <CURSOR>\n")) is None
    engine, c, _ = make([["x\n"]], disabled_languages=["python"])
    assert await c.complete(req("x = <CURSOR>\n")) is None
    engine, c, _ = make([["x\n"]])
    assert await c.complete(req("x = fo<CURSOR>o\n")) is None  # middle of a word
    assert engine.prompts == []


async def test_prompt_prefix_is_stable_across_keystrokes():
    engine, c, _ = make([["a\n"], ["b\n"], ["c\n"]])
    body = "".join(f"v{i} = {i}\n" for i in range(2000))
    for typed in ("p", "pq", "pqr"):
        await c.complete(req(body + typed + "<CURSOR>\n"))
    starts = {p.split("<|fim_suffix|>")[0][:200] for p in engine.prompts}
    assert len(starts) == 1  # the window did not slide with each keystroke


async def test_line_mode_shows_one_line_and_keeps_the_next_for_typing_through():
    engine, c, _ = make([["items = load(path)\n", "    for item in items:\n", "        use(item)\n"]])
    first = await c.complete(req("def f(path):\n    <CURSOR>\n"))
    assert first is not None  # blank line: block mode shows all
    engine, c, _ = make([["(path)\n", "    for item in items:\n", "        use(item)\n"]])
    first = await c.complete(req("def f(path):\n    items = load<CURSOR>\n"))
    assert first.text == "(path)" and first.complete
    await c.recent["file:///w/a.py"][-1].wait_done()  # the following lines arrive meanwhile
    # the user types the line and presses Enter (with auto-indent): served from the cache
    nxt = await c.complete(req("def f(path):\n    items = load(path)\n    <CURSOR>\n"))
    assert nxt is not None and nxt.from_cache and nxt.text == "for item in items:"
    assert len(engine.prompts) == 1


async def test_keystroke_during_generation_waits_for_it_when_it_may_still_match():
    engine, c, _ = make([["res", "ult = ", "compute()\n"]], delay=0.05)
    first = asyncio.ensure_future(c.complete(req("x = 1\n<CURSOR>\n")))
    await asyncio.sleep(0.01)  # the model has produced nothing yet
    second = await c.complete(req("x = 1\nr<CURSOR>\n"))
    assert second is not None and second.text == "esult = compute()"
    assert len(engine.prompts) == 1  # no restart
    assert (await first).text == "result = compute()"


async def test_early_divergence_restarts_before_the_line_is_complete():
    engine, c, _ = make([["zzz", "zzz", "zzz", "zzz", "zzz\n"], ["result\n"]], delay=0.05)
    first = asyncio.ensure_future(c.complete(req("x = 1\n<CURSOR>\n")))
    await asyncio.sleep(0.01)
    t0 = time.perf_counter()
    s = await c.complete(req("x = 1\nr<CURSOR>\n"))
    assert s is not None and s.text == "result" and not s.from_cache
    assert time.perf_counter() - t0 < 0.2  # did not wait for the whole wrong line
    assert len(engine.prompts) == 2
    assert await first is None  # the wrong line was stopped, never shown


async def test_dense_text_is_windowed_to_the_prompt_token_budget():
    engine, c, _ = make([["1\n"], ["2\n"]], max_prompt_tokens=500)
    dense = "".join(f"v{i}=1\n" for i in range(4000))  # 24,000 characters, ~6,000 fake tokens
    await c.complete(req(dense + "x = <CURSOR>\n"))
    assert engine.count_tokens(engine.prompts[0]) <= 500
    shrunk = c.prompt_opts["file:///w/a.py"].prefix_chars
    await c.complete(req(dense + "x = 1\ny = <CURSOR>\n"))  # the shrunk window is kept for the document
    assert c.prompt_opts["file:///w/a.py"].prefix_chars == shrunk
    assert engine.count_tokens(engine.prompts[1]) <= 500
    c.forget("file:///w/a.py")
    assert "file:///w/a.py" not in c.prompt_opts


async def test_after_indentation_the_model_writes_its_last_space_and_the_suggestion_starts_at_the_cursor():
    engine, c, _ = make([[" ret", "urn a + b\n"]])
    s = await c.complete(req("def f(a, b):\n    x = 1\n    <CURSOR>\n"))
    assert s is not None and s.text == "return a + b" and s.start == s.end
    prompt = engine.prompts[0]
    assert "    x = 1\n   <|fim_suffix|>" in prompt  # three spaces: ` return` is one token
    assert c.last_prompt["file:///w/a.py"][1].indent == " "
    typed = await c.complete(req("def f(a, b):\n    x = 1\n    re<CURSOR>\n"))
    assert typed.from_cache and typed.text == "turn a + b" and len(engine.prompts) == 1


async def test_after_indentation_a_deeper_first_line_keeps_its_extra_indentation():
    engine, c, _ = make([["     x = 1\n"]])  # the left-out space, then four more
    s = await c.complete(req("def f():\n    <CURSOR>\n"))
    assert s is not None and s.text == "    x = 1"


async def test_the_last_prompt_keeps_its_snippets_after_indentation_healing():
    from context import assemble

    other = "def total(price, qty):\n    subtotal = price * qty\n    return subtotal\n"
    engine = FakeEngine([[" return subtotal\n"]])
    c = Completer(engine, CompletionSettings(),
                  sources=lambda r: assemble.Sources(tree=r.tree, documents={"b.py": other}))
    s = await c.complete(req("def total(price, qty):\n    subtotal = price * qty\n    <CURSOR>\n"))
    assert s is not None and s.text == "return subtotal"
    _, prompt = c.last_prompt["file:///w/a.py"]
    assert prompt.indent == " "  # healed, and still showing what it was built from (`tacit/explain`)
    assert [(x.source, x.path) for x in prompt.snippets] == [("similar", "b.py")] and "similar" in prompt.sources


async def test_confidence_covers_the_shown_part_only():
    # the fake engine gives -0.1 per piece, -3.0 for a piece with an "X"
    engine, c, _ = make([["total", " = f(", "a)\n", "X = 1\n"]])
    s = await c.complete(req("t = <CURSOR>\n"))
    # line mode: the shown line's three pieces, not the next line's low-confidence one
    assert s.text == "total = f(a)" and s.confidence == {"first": -0.1, "min": -0.1, "mean": pytest.approx(-0.1)}
    # the first line is answered while the model still writes the next one: let it finish, so the
    # showings below are served from cache whatever the machine's load
    await asyncio.wait_for(c.recent["file:///w/a.py"][-1].wait_done(), 2)
    # typed through: only the pieces that start in what is still shown ("a)")
    typed = await c.complete(req("t = total = f(<CURSOR>\n"))
    assert typed.from_cache and typed.text == "a)" and typed.confidence["first"] == -0.1
    nxt = await c.complete(req("t = total = f(a)\n<CURSOR>\n"))
    assert nxt.from_cache and nxt.text.startswith("X = 1") and nxt.confidence["min"] == -3.0
    assert len(engine.prompts) == 1
    engine2, c2, _ = make([["Xval", "ue + 1\n"]])
    low = await c2.complete(req("t = <CURSOR>\n"))
    assert low.confidence == {"first": -3.0, "min": -3.0, "mean": pytest.approx(-1.55)}


@pytest.mark.parametrize("pieces", [[" ", "Xreturn", " 1\n"], ["Xreturn", " 1\n"]])
async def test_confidence_skips_the_indentation_the_prompt_left_out(pieces):
    # after indentation only, the prompt leaves out its last space and the model writes it first
    # (or does not): either way the shown text starts at "Xreturn", scored -3.0 by the fake engine
    engine, c, _ = make([pieces])
    s = await c.complete(req("def f():\n    <CURSOR>\n"))
    assert s.text.startswith("Xreturn 1") and s.confidence["first"] == -3.0


async def test_token_healing_leaves_the_word_out_of_the_prompt_and_the_engine_writes_it_again():
    engine = FakeEngine([[" form", "atter.write(epilog)\n"]], heals=True)  # the model's text, cut included
    c = Completer(engine, CompletionSettings())
    s = await c.complete(req("def f(formatter, epilog):\n    if epilog:\n        form<CURSOR>\n"))
    assert s is not None and s.text == "atter.write(epilog)" and s.start == s.end
    # two model tokens by the first line: the one that wrote " form" again counts (bench/latency.py's raw twin)
    assert c.recent["file:///w/a.py"][-1].first_line_tokens == 2
    assert "    if epilog:\n       <|fim_suffix|>" in engine.prompts[0]  # ` form` is left out
    assert engine.options[0].heal == " form"
    prompt = c.last_prompt["file:///w/a.py"][1]
    assert prompt.heal == " form" and prompt.indent == ""
    typed = await c.complete(req("def f(formatter, epilog):\n    if epilog:\n        forma<CURSOR>\n"))
    assert typed.from_cache and typed.text == "tter.write(epilog)" and len(engine.prompts) == 1


async def test_token_healing_keeps_the_call_context_of_a_cut_parenthesis():
    from context import assemble

    other = "def apply_discount(price, percent):\n    return price\n"
    engine = FakeEngine([["(price, 10)\n"]], heals=True)
    c = Completer(engine, CompletionSettings(),
                  sources=lambda r: assemble.Sources(tree=r.tree, documents={"b.py": other}))
    s = await c.complete(req("total = apply_discount(<CURSOR>\n"))
    assert s is not None and s.text == "price, 10)" and engine.options[0].heal == "("
    assert "total = apply_discount<|fim_suffix|>" in engine.prompts[0]
    assert "similar" in c.last_prompt["file:///w/a.py"][1].sources  # chosen from the whole line


@pytest.mark.parametrize("heals,enabled", [(False, True), (True, False)], ids=["engine cannot", "switched off"])
async def test_without_token_healing_the_prompt_ends_at_the_cursor(heals, enabled):
    engine = FakeEngine([["atter.write(epilog)\n"]], heals=heals)
    c = Completer(engine, CompletionSettings(token_healing=enabled))
    s = await c.complete(req("def f(formatter, epilog):\n    if epilog:\n        form<CURSOR>\n"))
    assert s is not None and s.text == "atter.write(epilog)"
    assert "        form<|fim_suffix|>" in engine.prompts[0] and engine.options[0].heal == ""


async def test_a_new_prompt_is_counted_in_the_two_parts_the_engine_reads_and_each_tokenized_once():
    """The pipeline counts the prompt's head (up to the cursor) and tail apart; the llama engine
    remembers the last two texts it tokenized, so reading the prompt does not tokenize them again."""
    from types import SimpleNamespace

    from lsp_server.engines.llama import LlamaEngine

    engine, c, _ = make([["1\n"]], max_prompt_tokens=2048)
    counted: list[str] = []
    count = engine.count_tokens
    engine.count_tokens = lambda text: counted.append(text) or count(text)
    await c.complete(req("x = 1\ny = <CURSOR>\nz = 3\n"))
    prompt = c.last_prompt["file:///w/a.py"][1]
    head, tail = prompt.text[:prompt.head_chars], prompt.text[prompt.head_chars:]
    assert head.endswith("y = ") and tail.startswith("<|fim_suffix|>")
    assert counted[counted.index(tail) + 1] == head and prompt.text not in counted[:counted.index(tail)]

    calls: list[bytes] = []
    llama = LlamaEngine.__new__(LlamaEngine)  # the real model is for the e2e tests: only tokenize here
    llama.llm = SimpleNamespace(tokenize=lambda data, add_bos, special: calls.append(data) or list(data))
    llama._tokenized = (("", []), ("", []))
    total = llama.count_tokens(tail) + llama.count_tokens(head)  # as build_prompt counts
    tokens = llama.tokenize(head) + llama.tokenize(tail)  # as the engine reads the prompt
    assert len(tokens) == total and len(calls) == 2
    tokens.append(0)  # the caller's list is its own: what is remembered stays as it was
    assert llama.tokenize(head) + llama.tokenize(tail) == tokens[:-1] and len(calls) == 2
    llama.tokenize("something else")  # two texts are remembered: the newest, and the one before (head)
    llama.tokenize(head)
    assert len(calls) == 3
    llama.tokenize(tail)
    assert len(calls) == 4


async def test_on_a_minified_line_statements_are_shown_as_they_come_and_the_suggestion_is_short():
    # the first answer waited for the end of its line, which in minified code never comes
    code = "a+b;var e=d*2;var f=e-1;var g=f+d;" * 4
    tokens = [code[i:i + 3] for i in range(0, len(code), 3)]  # as a model writes: a few characters a token
    engine, c, updated = make([["x\n"], tokens], delay=0.02)
    await c.complete(req("x = <CURSOR>\n"))
    line = ";".join(f"function f{i}(a,b){{return a*b+{i}}}" for i in range(60))
    at = req(line + ";function h(a,b){var d=<CURSOR>", language="javascript")
    first = await c.complete(at)
    final_text = "".join(tokens[:24])  # at most 24 tokens here, not 96
    assert first is not None and not first.complete and first.text.endswith(";")
    assert final_text.startswith(first.text) and len(first.text) < len(final_text)
    await asyncio.wait_for(c.recent[at.uri][-1].wait_done(), 5)
    assert [o.max_tokens for o in engine.options] == [96, 24] and updated  # the client is told more is ready
    final = await c.complete(at)
    assert final.text == final_text and final.complete and final.id == first.id
    engine.push(tokens)
    after_brace = await c.complete(req(line + ";function h(a,b){<CURSOR>", language="javascript", uri="file:///w/b.js"))
    assert after_brace is not None and not after_brace.complete  # block mode: statement by statement too
