"""Cross-file context with the real server and model: a call to a function defined in another file."""

from __future__ import annotations

import asyncio

from lsp_server import client as lsp_client

SCHEDULER = '''"""Meeting scheduling helpers."""


def book_meeting_room(organizer_email: str, attendee_count: int, duration_minutes: int = 30) -> str:
    """Reserve a room that fits attendee_count people; returns the booking id."""
    return f"{organizer_email}-{attendee_count}-{duration_minutes}"
'''

MAIN = '''from scheduler import book_meeting_room


def plan_standup(team):
    booking = book_meeting_room(
        '''


async def suggestion(init: dict, ws, tmp_path, before=None, explained: list | None = None) -> str:
    """The suggestion at the end of MAIN; `before(client)` runs once the index is built, and the prompt's
    snippets (`tacit/explain`) are appended to `explained`."""
    client = await lsp_client.start(init, root=ws, env={"TACIT_CONFIG": str(tmp_path)})
    try:
        assert await client.wait_state(timeout=120) == "ready"
        for _ in range(200):
            st = await client.protocol.send_request_async("tacit/getStatus", None)
            if st.index is None or st.index.complete:
                break
            await asyncio.sleep(0.05)
        if before is not None:
            before(client)
        uri = (ws / "main.py").as_uri()
        client.open(uri, MAIN + "\n")
        lines = MAIN.split("\n")
        first = await client.inline(uri, len(lines) - 1, len(lines[-1]), invoked=True)
        if not first or not first.items:
            return ""
        # wait for the whole suggestion (block) and ask again: served from cache
        try:
            await asyncio.wait_for(client.updates.get(), 60)
        except TimeoutError:
            pass
        full = await client.inline(uri, len(lines) - 1, len(lines[-1]), invoked=True)
        item = (full or first).items[0]
        if explained is not None:
            shown = await client.protocol.send_request_async("tacit/explain", {"uri": uri})
            explained.extend(shown.snippets if shown else [])
        return item.insert_text
    finally:
        await client.close()


async def test_definition_from_another_file_gives_the_real_parameter_names(model_path, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "scheduler.py").write_text(SCHEDULER)
    with_context = await suggestion({}, ws, tmp_path)
    prefix_only = await suggestion({"context": {"index": False, "sources": []}}, ws, tmp_path)
    print(f"\nwith context: {with_context!r}\nprefix only:  {prefix_only!r}")
    assert "organizer_email" in with_context and "attendee_count" in with_context
    assert not ("organizer_email" in prefix_only and "attendee_count" in prefix_only)


async def test_a_function_typed_in_another_tab_counts_before_it_is_saved(model_path, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    docstring, definition = SCHEDULER.split("\n", 1)
    (ws / "scheduler.py").write_text(docstring + "\n")  # on disk: nothing defined yet

    def write_it_unsaved(client) -> None:
        uri = (ws / "scheduler.py").as_uri()
        client.open(uri, docstring + "\n")
        client.insert(uri, 1, 0, definition)  # typed in the editor, never saved

    snippets: list = []
    text = await suggestion({}, ws, tmp_path, before=write_it_unsaved, explained=snippets)
    print(f"\nwith the unsaved definition: {text!r}")
    assert (ws / "scheduler.py").read_text() == docstring + "\n"
    assert any(s.source == "definitions" and s.path == "scheduler.py" and "organizer_email: str" in s.text
               for s in snippets), snippets
    assert "organizer_email" in text and "attendee_count" in text
