"""Signals end to end: the real server and model, a suggestion, the client's signals, the SQLite file."""

from __future__ import annotations

import json
import sqlite3

from lsprotocol import types

from .conftest import DEMO


async def suggest(server, uri: str, text: str, needle: str):
    server.open(uri, text)
    offset = text.index(needle) + len(needle)
    line, col = text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1)
    result = await server.inline(uri, line, col, invoked=True)
    assert result is not None and result.items, result
    return result.items[0]


async def signals(server, sid: str | None = None) -> list[tuple]:
    got = await server.protocol.send_request_async("tacit/getSignals", {"id": sid} if sid else {})
    assert got.recording and got.flushed
    return [(s.id, s.kind, s.acceptedLength, s.inferred) for s in got.signals]


async def test_shown_accepted_and_stored(server, tmp_path):
    text = 'import os\n\n\ndef home_dir():\n    """The user\'s home directory."""\n    return '
    uri = (DEMO / "scratch_signals.py").as_uri()
    item = await suggest(server, uri, text, text)
    sid = item.command.arguments[0]
    server.protocol.notify("tacit/signal", {"id": sid, "kind": "shown"})
    # VS Code runs the item's command when Tab accepts it.
    await server.workspace_execute_command_async(types.ExecuteCommandParams(
        command=item.command.command, arguments=item.command.arguments))
    got = await signals(server, sid)
    assert got == [(sid, "shown", None, False), (sid, "accepted", len(item.insert_text), False)]

    # A second suggestion in the same document, shown and then replaced by a third: an inferred rejection.
    second = await suggest(server, (DEMO / "scratch_signals2.py").as_uri(),
                           'def add(a, b):\n    """a plus b."""\n    return ', "    return ")
    server.protocol.notify("tacit/signal", {"id": second.command.arguments[0], "kind": "shown"})
    server.protocol.notify("tacit/signal", {"id": second.command.arguments[0], "kind": "clicked"})  # bad: ignored
    server.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=(DEMO / "scratch_signals2.py").as_uri())))
    got = await signals(server, second.command.arguments[0])
    assert [k for _, k, _, _ in got] == ["shown", "rejected"] and got[1][3] is True

    db = tmp_path / "events.db"
    rows = sqlite3.connect(db).execute("SELECT id, language, path, text, model, features FROM suggestions").fetchall()
    by_id = {r[0]: r for r in rows}
    assert by_id[sid][1:4] == ("python", "scratch_signals.py", item.insert_text)
    assert by_id[sid][4].endswith(".gguf")
    logprob = json.loads(by_id[sid][5])["meanLogprob"]  # the model's confidence, a feature for the filter
    assert logprob is not None and -20 < logprob <= 0


async def test_an_installed_filter_withholds_suggestions(model_path, tmp_path):
    from lsp_server import client as lsp_client
    from tuning.filter import Filter

    Filter(["text_len"], [1.0], 0.0, [0.0], [1.0], threshold=1.01).save(tmp_path / "filter.json")  # rejects all
    log = tmp_path / "requests.jsonl"
    client = await lsp_client.start({"logFile": str(log)}, root=DEMO,
                                    env={"TACIT_CONFIG": str(tmp_path), "TACIT_DATA": str(tmp_path)})
    try:
        assert await client.wait_state(timeout=120) == "ready"
        text = 'def add(a, b):\n    """a plus b."""\n    return '
        uri = (DEMO / "scratch_filter.py").as_uri()
        client.open(uri, text)
        result = await client.inline(uri, 2, len("    return "), invoked=True)
        assert result is not None and not result.items
        withheld = [json.loads(line) for line in log.read_text().splitlines() if '"withheld"' in line]
        assert withheld, "the filter did not run"
    finally:
        await client.close()
