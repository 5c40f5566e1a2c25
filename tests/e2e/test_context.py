"""Cross-file context with the real server and model: a call to a function defined in another file."""

from __future__ import annotations

import asyncio

import pytest

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


async def suggestion(init: dict, ws, tmp_path, before=None, explained: list | None = None, name: str = "main.py",
                     text: str = MAIN) -> str:
    """The suggestion at the end of `text` (the file `name`, MAIN by default); `before(client)` runs once
    the index is built, and the prompt's snippets (`tacit/explain`) are appended to `explained`."""
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
        uri = (ws / name).as_uri()
        client.open(uri, text + "\n")
        lines = text.split("\n")
        first = await client.inline(uri, len(lines) - 1, len(lines[-1]), invoked=True)
        if not first or not first.items:
            return ""
        # wait for the whole suggestion (block) and ask again: served from cache
        if not first.items[0].command.arguments[1]["complete"]:
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


C_HEADER = """#ifndef STORE_H
#define STORE_H
#ifdef __cplusplus
extern "C" {
#endif
/* Open the store at path; mode is the file mode for a new one. */
struct store *store_open(const char *path, int flags, int mode);
#ifdef __cplusplus
}
#endif
#endif
"""

GO_STORE = """package store

// Store keeps records.
type Store interface {
	// PutRecord saves a record under its key, replacing an older one when overwrite is set.
	PutRecord(ctx context.Context, key string, record []byte, overwrite bool) error
}
"""


@pytest.mark.parametrize(("files", "name", "text", "shown"), [
    # a C header's API sits inside its include guard and `extern "C" { }`
    ({"include/store.h": C_HEADER}, "use.c", '#include "include/store.h"\n\nint main(void) {\n'
     "    struct store *s = store_open(", "struct store *store_open(const char *path, int flags, int mode);"),
    # a Go interface's method, called through a value of the interface type
    ({"store.go": GO_STORE}, "save.go",
     "package store\n\nfunc save(ctx context.Context, s Store, data []byte) error {\n\treturn s.PutRecord(",
     "type Store interface {\n    // PutRecord saves a record under its key"),
], ids=["c-header", "go-interface"])
async def test_a_declaration_in_a_header_or_an_interface_reaches_the_prompt(model_path, tmp_path, files, name, text,
                                                                           shown):
    """Declarations without a body are what other files call: the prompt shows them (both were found
    nowhere before: a guarded header's prototypes, an interface's methods)."""
    ws = tmp_path / "ws"
    for rel, content in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(content)
    snippets: list = []
    suggested = await suggestion({}, ws, tmp_path, explained=snippets, name=name, text=text)
    print(f"\nsuggested: {suggested!r}")
    assert any(s.source == "definitions" and s.path in files and shown in s.text for s in snippets), snippets
