"""The workspace index inside the real server: built on initialize with progress, kept current on disk changes."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from lsp_server import client as lsp_client


async def status(client) -> dict:
    try:
        result = await asyncio.wait_for(client.protocol.send_request_async("tacit/getStatus", None), 60)
    except TimeoutError:
        raise AssertionError("server did not answer tacit/getStatus; stderr:\n"
                             + client.stderr.decode(errors="replace")[-3000:]) from None
    return result._asdict() if hasattr(result, "_asdict") else result


async def wait_for(predicate, client, timeout: float = 30):
    for _ in range(int(timeout / 0.1)):
        st = await status(client)
        if predicate(st):
            return st
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out; last status {st}")


async def progress_kinds(client, timeout: float = 10) -> list[tuple[str, str]]:
    """(kind, message) of each `$/progress` report, once the end has come: it is sent from the indexing
    thread right after the build, so a status that says "complete" can arrive before it."""
    for _ in range(int(timeout / 0.1)):
        reports = [(p["value"]["kind"], p["value"].get("message", "")) for p in client.progress
                   if isinstance(p.get("value"), dict)]
        if reports and reports[-1][0] == "end":
            return reports
        await asyncio.sleep(0.1)
    raise AssertionError(f"no end of progress; reports: {client.progress}")


async def test_index_is_built_on_initialize_with_progress(model_path, tmp_path):
    ws = tmp_path / "ws"
    (ws / "pkg").mkdir(parents=True)
    (ws / "pkg" / "geometry.py").write_text('def area(width, height):\n    """Area of a rectangle."""\n'
                                            "    return width * height\n")
    (ws / ".env").write_text("API_KEY=sk-live-should-never-be-read\n")
    client = await lsp_client.start({}, root=ws, env={"TACIT_CONFIG": str(tmp_path)})
    try:
        st = await wait_for(lambda s: s["index"] and s["index"].complete, client)
        assert st["index"].files == 1 and st["index"].definitions >= 1  # .env never indexed
        reports = await progress_kinds(client)
        assert reports[0][0] == "begin" and reports[-1] == ("end", "1 file indexed")
    finally:
        await client.close()


async def test_changes_on_disk_are_followed(model_path, tmp_path):
    ws = tmp_path / "ws"
    (ws / "pkg").mkdir(parents=True)
    (ws / "pkg" / "geometry.py").write_text("def area(width, height):\n    return width * height\n")
    client = await lsp_client.start({"context": {"watch": True}}, root=ws, env={"TACIT_CONFIG": str(tmp_path)})
    try:
        await wait_for(lambda s: s["index"] and s["index"].complete, client)
        before = (await status(client))["index"].definitions
        # Outside the editor: a new file, an edited file, a renamed file, a deleted file.
        (ws / "pkg" / "shapes.py").write_text("def circle(radius):\n    return 3.14 * radius ** 2\n")
        await wait_for(lambda s: s["index"].files == 2 and s["index"].definitions == before + 1, client)
        (ws / "pkg" / "geometry.py").write_text("def area(w, h):\n    return w * h\n\n\ndef perimeter(w, h):\n"
                                                "    return 2 * (w + h)\n")
        await wait_for(lambda s: s["index"].definitions == before + 2, client)
        (ws / "pkg" / "shapes.py").rename(ws / "pkg" / "round.py")
        await wait_for(lambda s: s["index"].files == 2 and s["index"].definitions == before + 2, client)
        (ws / "pkg" / "round.py").unlink()
        await wait_for(lambda s: s["index"].files == 1 and s["index"].definitions == before + 1, client)
        for _ in range(5):  # and the server keeps answering
            await status(client)
    finally:
        await client.close()


async def test_a_workspace_past_max_files_is_indexed_in_part_and_says_so(model_path, tmp_path):
    ws = tmp_path / "ws"
    (ws / "pkg").mkdir(parents=True)
    for name in ("a", "b", "c"):
        (ws / "pkg" / f"{name}.py").write_text(f"def {name}():\n    pass\n")
    client = await lsp_client.start({"context": {"maxFiles": 2}}, root=ws, env={"TACIT_CONFIG": str(tmp_path)})
    try:
        st = await wait_for(lambda s: s["index"] and s["index"].complete, client)
        assert st["index"].files == 2 and st["index"].eligible == 3
        assert (await progress_kinds(client))[-1] == ("end", "2 files indexed of 3 (context.maxFiles)")
    finally:
        await client.close()


async def test_the_index_follows_workspace_folders_and_settings_changed_in_the_editor(model_path, tmp_path):
    """A folder added to the workspace (VS Code's "Add Folder to Workspace", Neovim's
    `vim.lsp.buf.add_workspace_folder()`) is indexed, a removed one dropped, and `context.index`
    turned off and on in the settings takes effect without a restart."""
    ws, lib = tmp_path / "ws", tmp_path / "lib"
    for folder, name in ((ws, "app"), (lib, "helpers")):
        folder.mkdir()
        (folder / f"{name}.py").write_text(f"def {name}_one():\n    pass\n\n\ndef {name}_two():\n    pass\n")
    client = await lsp_client.start({}, root=ws, env={"TACIT_CONFIG": str(tmp_path)})
    try:
        await wait_for(lambda s: s["index"] and s["index"].complete, client)
        def folders(added: list, removed: list) -> types.DidChangeWorkspaceFoldersParams:
            return types.DidChangeWorkspaceFoldersParams(types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(p.as_uri(), p.name) for p in added],
                removed=[types.WorkspaceFolder(p.as_uri(), p.name) for p in removed]))

        client.protocol.notify(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, folders([lib], []))
        st = await wait_for(lambda s: s["index"] and s["index"].complete and s["index"].files == 2, client)
        assert st["index"].definitions == 4
        client.protocol.notify(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, folders([], [ws]))
        st = await wait_for(lambda s: s["index"] and s["index"].complete and s["index"].files == 1, client)
        client.protocol.notify(types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                               types.DidChangeConfigurationParams(settings={"context": {"index": False}}))
        await wait_for(lambda s: s["index"] is None, client)
        client.protocol.notify(types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                               types.DidChangeConfigurationParams(settings={"context": {"index": True}}))
        st = await wait_for(lambda s: s["index"] and s["index"].complete, client)
        assert st["index"].files == 1
        # and the model, which may still be loading on a first start, comes up as usual
        assert await client.wait_state(timeout=120) == "ready"
    finally:
        await client.close()
