"""The real server over stdio with the real default model: the core behaviours."""

from __future__ import annotations

import asyncio
import json

from lsprotocol import types

from lsp_server import client as lsp_client
from lsp_server.replay import load_session

from .conftest import DEMO, ROOT, read_log

SHLEX = DEMO / "shlex.py"


def cursor_after(text: str, needle: str) -> tuple[int, int, int]:
    offset = text.index(needle) + len(needle)
    line = text.count("\n", 0, offset)
    return offset, line, offset - (text.rfind("\n", 0, offset) + 1)


async def wait_generations(server, n: int, timeout: float = 60) -> list[dict]:
    """Generation records once at least `n` have finished (they log when done)."""
    for _ in range(int(timeout / 0.05)):
        gens = [e for e in read_log(server.log_path) if e["event"] == "generation"]
        if len(gens) >= n:
            return gens
        await asyncio.sleep(0.05)
    return gens


def items(result) -> list[types.InlineCompletionItem]:
    return list(result.items) if result is not None else []


async def test_open_type_and_receive_a_suggestion(server):
    session = load_session(ROOT / "seeds" / "sessions" / "shlex-quote.jsonl")
    text = session.initial_text()
    uri = SHLEX.as_uri()
    server.open(uri, text)
    offset = session.cut[0]
    line, col = text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1)
    for ch in "if not":
        server.insert(uri, line, col, ch)
        col += 1
    result = await server.inline(uri, line, col)
    got = items(result)
    assert got and got[0].insert_text.strip(), result
    assert got[0].range.start == types.Position(line=line, character=col)
    assert got[0].command.arguments[0].startswith("tacit-")


async def test_typing_through_is_served_from_cache(server):
    text = ("import os\n\n\ndef read_config(path):\n    with open(path) as fh:\n        return fh.read()\n\n\n"
            "config = read_config(\n")
    uri = (DEMO / "scratch_cache.py").as_uri()
    server.open(uri, text)
    line, col = 8, len("config = read_config(")
    first = items(await server.inline(uri, line, col))
    assert first, "expected a suggestion to type through"
    suggestion = first[0].insert_text
    sid = first[0].command.arguments[0]
    typed = suggestion[: max(1, min(3, len(suggestion) - 1))]
    for k, ch in enumerate(typed, 1):
        server.insert(uri, line, col, ch)
        col += 1
        again = items(await server.inline(uri, line, col))
        assert again, f"no suggestion after typing {ch!r}"
        assert again[0].command.arguments[0] == sid
        assert again[0].command.arguments[1]["cached"] is True
        assert again[0].insert_text == suggestion[k:]
    generations = await wait_generations(server, 1)
    assert len(generations) == 1  # the model ran once for all those keystrokes


async def test_a_cursor_inside_a_word_is_healed(server):
    # the prompt ends before ` ra`, which the model writes again as ` raise`: without token healing the
    # prompt ends on the token ` ra` and this model answers with another line (`    return "Error"`)
    text = "def call(x):\n    try:\n        return x()\n    except Exception:\n        ra\n"
    uri = (DEMO / "scratch_heal.py").as_uri()
    server.open(uri, text)
    got = items(await server.inline(uri, 4, len("        ra")))
    assert got and got[0].insert_text.startswith("ise"), got
    server.insert(uri, 4, len("        ra"), "i")  # typing on: served from the same suggestion
    again = items(await server.inline(uri, 4, len("        rai")))
    assert again and again[0].command.arguments[1]["cached"] is True
    assert again[0].insert_text == got[0].insert_text[1:]


async def test_cancel_request_stops_generation(server):
    # a completion that runs long when left alone: the pattern goes on for many lines
    text = ('def number_name(n):\n    if n == 1:\n        return "one"\n    if n == 2:\n        return "two"\n'
            '    if n == 3:\n        return "three"\n')
    uri = (DEMO / "scratch_cancel.py").as_uri()
    server.open(uri, text + "    \n")
    msg_id = "cancel-me"
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=7, character=4),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked))
    fut = server.protocol.send_request_async(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id)
    await asyncio.sleep(0.2)
    server.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    try:
        await asyncio.wait_for(fut, 10)
    except Exception as exc:  # RequestCancelled
        assert "cancel" in str(exc).lower()
    gens = await wait_generations(server, 1, timeout=30)
    assert gens and gens[-1]["stopped"] is True
    cancelled = gens[-1]
    # the same request, not cancelled, in a document of its own: the server still serves, and left
    # alone the model writes far more than the cancelled generation did (how much the cancelled one
    # got out before the cancel arrived depends on the machine's speed, so it is compared, not fixed)
    whole_uri = (DEMO / "scratch_uncancelled.py").as_uri()
    server.open(whole_uri, text + "    \n")
    got = items(await server.inline(whole_uri, 7, 4, invoked=True))
    assert got and got[0].insert_text.strip()
    gens = await wait_generations(server, 2, timeout=60)
    whole = [g for g in gens if g["uri"] == whole_uri][-1]
    print(f"\ncancelled: {cancelled['generated_tokens']} tokens, left alone: {whole['generated_tokens']}")
    assert whole["generated_tokens"] >= 20
    assert cancelled["generated_tokens"] < whole["generated_tokens"] // 2


async def test_request_in_another_document_aborts_a_long_prefill(server):
    big = SHLEX.read_text()
    server.open(SHLEX.as_uri(), big)
    _, line, col = cursor_after(big, "def quote(s):\n")
    first = asyncio.ensure_future(server.inline(SHLEX.as_uri(), line, col, invoked=True))
    await asyncio.sleep(0.5)  # reading ~1,300 prompt tokens takes ~30 s on 2 cores
    small_uri = (DEMO / "scratch_other.py").as_uri()
    server.open(small_uri, "total = 0\nfor n in range(10):\n    total += \n")
    second = await asyncio.wait_for(server.inline(small_uri, 2, 13, invoked=True), 60)
    assert items(await first) == []
    gens = await wait_generations(server, 1, timeout=30)
    aborted = next(g for g in gens if g["uri"] == SHLEX.as_uri())
    assert aborted["stopped"] is True and aborted["generated_tokens"] == 0
    assert aborted["engine_ms"] < 5000
    assert second is not None


async def test_superseded_request_is_abandoned(server):
    text = "def area(width, height):\n    return \n"
    uri = (DEMO / "scratch_supersede.py").as_uri()
    server.open(uri, text)
    first = asyncio.ensure_future(server.inline(uri, 1, 11))
    await asyncio.sleep(0.05)
    server.insert(uri, 1, 11, "w")
    second = await asyncio.wait_for(server.inline(uri, 1, 12), 90)
    old = await asyncio.wait_for(first, 90)
    assert items(old) == [] or items(old)[0].insert_text.startswith("w")
    assert items(second), "the newer request gets a suggestion"
    gens = [e for e in read_log(server.log_path) if e["event"] == "generation"]
    if len(gens) >= 2:
        assert gens[0]["stopped"] is True


async def test_streaming_announces_the_rest_of_a_block(server):
    text = ("def parse_pairs(text):\n    \"\"\"Parse 'a=1,b=2' into a dict of ints.\"\"\"\n    result = {}\n"
            "    for part in text.split(','):\n")
    uri = (DEMO / "scratch_stream.py").as_uri()
    server.open(uri, text + "\n")
    first = items(await server.inline(uri, 4, 0, invoked=True))
    assert first
    meta = first[0].command.arguments[1]
    if not meta["complete"]:
        update = await asyncio.wait_for(server.updates.get(), 240)  # a slow CPU takes a while
        assert update["id"] == first[0].command.arguments[0]
        full = items(await server.inline(uri, 4, 0, invoked=True))
        assert full[0].command.arguments[1]["complete"] is True
        assert full[0].command.arguments[1]["cached"] is True
        assert len(full[0].insert_text) > len(first[0].insert_text)
        assert full[0].insert_text.startswith(first[0].insert_text)


async def test_malformed_requests_get_errors_and_the_server_keeps_serving(server):
    # wrong params shape
    try:
        await asyncio.wait_for(server.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, {"textDocument": 5}), 10)
        raised = False
    except Exception as exc:
        raised = True
        assert "invalid" in str(exc).lower() or "params" in str(exc).lower() or exc
    assert raised
    # unknown document
    try:
        await asyncio.wait_for(server.inline("file:///nowhere/never-opened.py", 0, 0), 10)
        raised = False
    except Exception as exc:
        raised = True
        assert "not open" in str(exc)
    assert raised
    # raw garbage on the wire
    body = b"{this is not json"
    server._server.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    await server._server.stdin.drain()
    # unknown method
    try:
        await asyncio.wait_for(server.protocol.send_request_async("tacit/noSuchMethod", {}), 10)
    except Exception as exc:
        assert "no" in str(exc).lower() or exc
    status = await asyncio.wait_for(server.protocol.send_request_async("tacit/getStatus", None), 10)
    assert status.state in ("ready", "generating")
    text = "x = 1\ny = \n"
    uri = (DEMO / "scratch_after_garbage.py").as_uri()
    server.open(uri, text)
    assert await server.inline(uri, 1, 4, invoked=True) is not None


async def test_invalid_options_fall_back_with_one_message(model_path, tmp_path):
    client = await lsp_client.start({"engine": "warp-drive", "completion": {"maxTokens": "lots"}},
                                    root=DEMO, env={"TACIT_CONFIG": str(tmp_path)})
    try:
        assert await client.wait_state(timeout=120) == "ready"
        warnings = [m for m in client.messages if "invalid options" in m]
        assert len(warnings) == 1 and "engine" in warnings[0] and "maxTokens" in warnings[0]
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"tacit": {"completion": {"maxLines": 2}}}))
        await asyncio.sleep(0.2)
        status = await client.protocol.send_request_async("tacit/getStatus", None)
        assert status.state in ("ready", "generating")
    finally:
        await client.close()


async def test_utf8_position_encoding(model_path, tmp_path):
    client = await lsp_client.start({}, root=DEMO, env={"TACIT_CONFIG": str(tmp_path)}, encoding="utf-8")
    try:
        assert await client.wait_state(timeout=120) == "ready"
        text = 'greeting = "héllo wörld 🙂"\nname = \n'
        uri = (DEMO / "scratch_utf8.py").as_uri()
        client.open(uri, text)
        res = await client.inline(uri, 1, 7, invoked=True)
        got = items(res)
        if got:
            assert got[0].range.start == types.Position(line=1, character=7)
        # a position in utf-8 bytes past the emoji on line 0 resolves, not crashes
        res = await client.inline(uri, 0, len('greeting = "héllo wörld 🙂"'.encode()), invoked=True)
        assert res is not None
    finally:
        await client.close()


async def test_typing_at_the_end_of_a_minified_line_reuses_the_prompt(model_path, tmp_path):
    # One line, so no line start to anchor the prefix window at: its start moved with each keystroke,
    # every prompt was read again from its beginning, and (with pygls walking the line a character
    # at a time to read each position) no suggestion was ever shown there.
    log = tmp_path / "requests.jsonl"
    client = await lsp_client.start({"logFile": str(log), "completion": {"prefixChars": 1500}}, root=DEMO,
                                    env={"TACIT_CONFIG": str(tmp_path), "TACIT_DATA": str(tmp_path)})
    client.log_path = log  # type: ignore[attr-defined]
    try:
        assert await client.wait_state(timeout=120) == "ready", client.statuses
        text = ";".join(f"function f{i}(a,b){{var c=a+b*{i};return g{i % 50}(c,a)}}" for i in range(4000)) + ";"
        uri = (DEMO / "scratch_bundle.min.js").as_uri()
        client.open(uri, text)
        col = len(text)
        assert await client.inline(uri, 0, col, invoked=True) is not None
        first = (await wait_generations(client, 1))[0]
        for ch in "var zz=":  # not what the model wrote: the next request starts a generation
            client.insert(uri, 0, col, ch)
            col += 1
        assert await client.inline(uri, 0, col, invoked=True) is not None
        gens = await wait_generations(client, 2)
        assert len(gens) >= 2, gens
        second = gens[-1]
        assert second["prompt_tokens"] > 300 and first["prompt_tokens"] > 300
        assert second["reused_tokens"] >= second["prompt_tokens"] - 20, second  # only the typed end is read
    finally:
        await client.close()


async def test_coming_back_to_a_file_restores_its_prompt_and_suggests_the_same(model_path, tmp_path):
    # Another file's prompt shares almost nothing with this one's: without the saved KV cache each
    # switch back read the whole prompt again (seconds on a CPU). No index: the prompts' snippets come
    # from the two open documents, the same each time.
    log = tmp_path / "requests.jsonl"
    client = await lsp_client.start({"logFile": str(log), "completion": {"prefixChars": 2500},
                                     "context": {"index": False}}, root=DEMO,
                                    env={"TACIT_CONFIG": str(tmp_path), "TACIT_DATA": str(tmp_path)})
    client.log_path = log  # type: ignore[attr-defined]
    try:
        assert await client.wait_state(timeout=120) == "ready", client.statuses
        docs = {}
        for name, needle in (("calendar.py", "def monthrange(year, month):\n"), ("shlex.py", "def split(")):
            docs[name] = ((DEMO / name).as_uri(), (DEMO / name).read_text(), *cursor_after((DEMO / name).read_text(),
                                                                                          needle)[1:])
            client.open(*docs[name][:2])
        answers = []
        for visit, name in enumerate(("calendar.py", "shlex.py", "calendar.py")):
            uri, text, line, col = docs[name]
            if visit == 2:  # the tab closed and opened again: no suggestion of its own is left to serve
                client.protocol.notify(types.TEXT_DOCUMENT_DID_CLOSE, types.DidCloseTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=uri)))
                client.open(uri, text)
            answers.append([i.insert_text for i in items(await client.inline(uri, line, col, invoked=True))])
            await wait_generations(client, visit + 1)
        gens = await wait_generations(client, 3)
        assert len(gens) == 3 and gens[0]["prompt_tokens"] > 500 and gens[0]["restored_tokens"] == 0
        assert gens[2]["restored_tokens"] >= gens[2]["prompt_tokens"] - 2, gens[2]  # nothing read again
        assert answers[2] and answers[2] == answers[0]
    finally:
        await client.close()


def test_log_records_are_json(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"event": "request"}) + "\n")
    assert read_log(path) == [{"event": "request"}]
