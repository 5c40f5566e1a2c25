"""LSP <-> pipeline conversions: position encodings, unknown documents, bad positions."""

from urllib.parse import unquote

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.workspace import PositionCodec, Workspace

from lsp_server.handlers.inline_completion import client_position, to_lsp, to_request
from lsp_server.pipeline.request import Suggestion
from lsp_server.server import create_server

URI = "file:///work/my%20project/a.py"
TEXT = 'msg = "😀 héllo"\nname = \n'


def server(encoding: str):
    ls = create_server()
    ls.protocol._workspace = Workspace(None, position_encoding=encoding)
    ls.workspace.put_text_document(types.TextDocumentItem(uri=URI, language_id="python", version=1, text=TEXT))
    return ls


def params(line: int, character: int, uri: str = URI) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))


@pytest.mark.parametrize("encoding,units", [
    (types.PositionEncodingKind.Utf16, len('msg = "😀 h'.encode("utf-16-le")) // 2),
    (types.PositionEncodingKind.Utf8, len('msg = "😀 h'.encode())),
    (types.PositionEncodingKind.Utf32, len('msg = "😀 h')),
])
def test_positions_convert_through_the_codec(encoding, units):
    ls = server(encoding)
    req = to_request(ls, params(0, units), 0.0)
    assert TEXT[: req.offset] == 'msg = "😀 h'
    item = to_lsp(ls, req, Suggestion(id="x", text="i", start=req.offset, end=req.offset, complete=True)).items[0]
    assert item.range.start == types.Position(line=0, character=units)


def test_percent_encoded_uris_find_the_document():
    req = to_request(server(types.PositionEncodingKind.Utf16), params(1, 7), 0.0)
    assert req.prefix.endswith("name = ") and req.language_id == "python"


@pytest.mark.parametrize("line,character", [(99, 0), (3, 0)])
def test_positions_outside_the_document_are_invalid_params(line, character):
    with pytest.raises(JsonRpcInvalidParams):
        to_request(server(types.PositionEncodingKind.Utf16), params(line, character), 0.0)


def test_a_request_parses_its_document_only_when_a_prompt_needs_it_and_never_a_newer_text():
    # a keystroke served from a running generation needs no parse (55 ms for a 600 KB minified line)
    from context.syntax import SyntaxDocument

    ls = server(types.PositionEncodingKind.Utf16)
    doc = ls.syntax_docs[unquote(URI)] = SyntaxDocument("python", TEXT[:-1])
    doc.apply(len(TEXT) - 1, len(TEXT) - 1, "\n")  # the keystroke: the tree is out of date until asked for
    req = to_request(ls, params(1, 7), 0.0)
    assert doc._dirty and req.tree is None
    assert str(req.syntax_tree().root_node).startswith("(module") and not doc._dirty
    later = to_request(ls, params(1, 7), 0.0)
    doc.apply(0, 0, "x = 1\n")  # the document changed before this request built its prompt
    tree = later.syntax_tree()  # the request's own text, parsed: not the newer one
    assert tree is not None and tree.root_node.text.decode() == later.text and doc._dirty


def test_character_past_the_line_end_is_clamped():
    req = to_request(server(types.PositionEncodingKind.Utf16), params(1, 500), 0.0)
    assert req.prefix.endswith("name = ") and req.suffix == "\n"


def test_unknown_document_is_invalid_params():
    with pytest.raises(JsonRpcInvalidParams, match="not open"):
        to_request(server(types.PositionEncodingKind.Utf16), params(0, 0, "file:///elsewhere.py"), 0.0)


def open_document(ls, uri: str, text: str) -> None:
    """What a client's didOpen does: pygls stores the text, then Tacit's handler runs."""
    item = types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
    ls.workspace.put_text_document(item)
    ls.protocol.fm.features[types.TEXT_DOCUMENT_DID_OPEN](types.DidOpenTextDocumentParams(text_document=item))


def change_document(ls, uri: str, version: int, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
    """What a client's didChange does: pygls applies the change first, then Tacit's handler runs."""
    change = types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(*start), end=types.Position(*end)), text=text)
    params = types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change])
    ls.workspace.update_text_document(params.text_document, change)
    ls.protocol.fm.features[types.TEXT_DOCUMENT_DID_CHANGE](params)


def close_document(ls, uri: str) -> None:
    ls.protocol.fm.features[types.TEXT_DOCUMENT_DID_CLOSE](types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))


def test_did_change_keeps_the_syntax_tree_in_step():
    ls = server(types.PositionEncodingKind.Utf16)
    open_document(ls, URI, TEXT)
    edits = [((0, 8), (0, 8), "X"), ((1, 7), (1, 7), "foo(1,\n    2)"), ((0, 0), (1, 0), "")]
    for version, (start, end, text) in enumerate(edits, 2):
        change_document(ls, URI, version, start, end, text)
    doc = ls.syntax_docs["file:///work/my project/a.py"]
    assert doc.text == ls.workspace.get_text_document(URI).source
    assert "foo(1" in doc.text and str(doc.tree.root_node).startswith("(module")


@pytest.mark.parametrize("text,offset,expected", [
    ("a\n    return ", 13, (1, 11)),  # end of a last line with no final newline stays on that line
    ("a\n    return \n", 14, (2, 0)),  # after a final newline: the empty last line
    ("a\r\nb", 4, (1, 1)),
    ("a\r\nb", 1, (0, 1)),
    ("😀x", 1, (0, 2)),  # UTF-16: the emoji is two units
    ("", 0, (0, 0)),
])
def test_client_position_of_offsets_at_line_and_document_ends(text, offset, expected):
    pos = client_position(text, offset, PositionCodec(types.PositionEncodingKind.Utf16))
    assert (pos.line, pos.character) == expected


def indexed_server(root):
    from context.index import WorkspaceIndex

    ls = create_server()
    ls.protocol._workspace = Workspace(root.as_uri(), position_encoding=types.PositionEncodingKind.Utf16)
    ls.roots = [root]
    ls.index_host.index = WorkspaceIndex([root])
    assert ls.index_host.index.build()
    return ls


def test_a_function_written_in_another_tab_is_retrieved_before_it_is_saved(tmp_path):
    from types import SimpleNamespace

    from context import assemble

    (tmp_path / "util.py").write_text("def old():\n    pass\n")
    (tmp_path / "main.py").write_text("from util import helper\n\n")
    ls = indexed_server(tmp_path)
    util, main = (tmp_path / "util.py").as_uri(), (tmp_path / "main.py").as_uri()
    for uri, text in ((util, "def old():\n    pass\n"), (main, "from util import helper\n\n")):
        open_document(ls, uri, text)
    assert not ls.unindexed_edits  # opened as they are on disk: nothing to parse again
    change_document(ls, util, 2, (2, 0), (2, 0), 'def helper(name, retries=3):\n    """Fetch name."""\n')  # not saved
    change_document(ls, main, 2, (2, 0), (2, 0), "helper(")
    text = ls.syntax_docs[unquote(main)].text
    src = ls.context_sources(SimpleNamespace(uri=main, syntax_tree=lambda: None))
    snippets = assemble.gather(assemble.ContextConfig(), src, text, len(text), "main.py", 0, lambda s: len(s) // 4)
    assert any(s.source == "definitions" and "def helper(name, retries=3):" in s.text for s in snippets)
    assert ls.unindexed_edits == {unquote(main)}  # the document typed in waits until the cursor leaves it
    close_document(ls, util)  # closed without saving: the disk's text again
    assert ls.index_host.index.lookup("helper") == [] and ls.index_host.index.lookup("old")


def test_a_buffer_too_large_to_parse_on_each_request_leaves_the_index_to_its_file(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from lsp_server import server as server_module

    monkeypatch.setattr(server_module, "MAX_BUFFER_CHARS", 60)
    (tmp_path / "util.py").write_text("def old():\n    pass\n")
    (tmp_path / "main.py").write_text("x = 1\n")
    ls = indexed_server(tmp_path)
    util, main = (tmp_path / "util.py").as_uri(), (tmp_path / "main.py").as_uri()
    open_document(ls, util, "def old():\n    pass\n")
    open_document(ls, main, "x = 1\n")
    change_document(ls, util, 2, (2, 0), (2, 0), "def small():\n    pass\n")  # 42 characters: indexed
    ls.context_sources(SimpleNamespace(uri=main, syntax_tree=lambda: None))
    assert ls.index_host.index.lookup("small") and ls.index_host.index.stats()["from_buffers"] == 1
    change_document(ls, util, 3, (4, 0), (4, 0), "def large():\n    pass\n")  # 64: the file on disk again
    ls.context_sources(SimpleNamespace(uri=main, syntax_tree=lambda: None))
    index = ls.index_host.index
    assert not index.lookup("large") and not index.lookup("small") and index.lookup("old")
    assert index.stats()["from_buffers"] == 0


@pytest.mark.parametrize("disk", ["def old():\n    return 1\n", "def old():\n    pass\n", None])
def test_a_buffer_restored_unsaved_is_indexed_as_if_edited(tmp_path, disk):
    """An editor reopening unsaved work (VS Code's hot exit) sends it in didOpen, with no didChange:
    a buffer that differs from its file (same size or not), or has no file yet, counts as edited."""
    from types import SimpleNamespace

    if disk is not None:
        (tmp_path / "util.py").write_text(disk)
    (tmp_path / "main.py").write_text("x = 1\n")
    ls = indexed_server(tmp_path)
    util, main = (tmp_path / "util.py").as_uri(), (tmp_path / "main.py").as_uri()
    open_document(ls, util, "def new():\n    pass\n")
    open_document(ls, main, "x = 1\n")
    assert ls.unindexed_edits == {unquote(util)}
    ls.context_sources(SimpleNamespace(uri=main, syntax_tree=lambda: None))
    assert [d.name for d in ls.index_host.index.lookup("new")] == ["new"]
    assert ls.index_host.index.lookup("old") == []
    assert ls.index_host.index.stats()["from_buffers"] == 1


def test_a_uri_no_file_system_can_hold_is_kept_as_a_document_but_never_indexed(tmp_path):
    from types import SimpleNamespace

    ls = indexed_server(tmp_path)
    bad = tmp_path.as_uri() + "/a%00.py"
    open_document(ls, bad, "def f():\n    pass\n")
    change_document(ls, bad, 2, (2, 0), (2, 0), "x = 1\n")
    (tmp_path / "main.py").write_text("")
    open_document(ls, (tmp_path / "main.py").as_uri(), "")
    ls.context_sources(SimpleNamespace(uri=(tmp_path / "main.py").as_uri(), syntax_tree=lambda: None))  # no ValueError
    close_document(ls, bad)
    assert ls.index_host.index.lookup("f") == [] and not ls.unindexed_edits


def test_buffers_edited_across_many_files_reach_the_index_a_few_per_request(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from lsp_server import server as server_module

    ls = create_server()
    given: list[str] = []
    ls.index_host.index = SimpleNamespace(update_text=lambda path, text: given.append(path))
    keys = [f"file://{tmp_path}/m{i}.py" for i in range(6)]
    for key in keys:
        ls.syntax_docs[key] = SimpleNamespace(text="x = 1\n")
    ls.unindexed_edits.update(keys)
    current = keys[0]
    monkeypatch.setattr(server_module, "BUFFERS_PER_REQUEST", 2)
    ls.index_edited_documents(current)
    assert len(given) == 2 and ls.unindexed_edits >= {current}
    ls.index_edited_documents(current)
    ls.index_edited_documents(current)
    assert sorted(given) == sorted(k.removeprefix("file://") for k in keys[1:])
    assert ls.unindexed_edits == {current}  # the document typed in waits until the cursor leaves it


def test_workspace_roots_are_existing_local_folders_only(tmp_path):
    from lsp_server.index_host import workspace_roots

    (tmp_path / "a").mkdir()
    uris = [(tmp_path / "a").as_uri(), (tmp_path / "a").as_uri() + "/", (tmp_path / "gone").as_uri(),
            tmp_path.as_uri() + "/a%00b", "untitled:ws", (tmp_path / "a" / "..").as_uri()]
    assert workspace_roots(uris) == [tmp_path / "a", tmp_path]
    assert workspace_roots([], (tmp_path / "a").as_uri()) == [tmp_path / "a"]  # no folders: the root URI
    assert workspace_roots([tmp_path.as_uri()], (tmp_path / "a").as_uri()) == [tmp_path]


async def wait_ready(ls) -> None:
    import asyncio

    assert await asyncio.to_thread(ls.index_host.ready.wait, 30)


async def test_the_index_follows_workspace_folders_added_and_removed(tmp_path, monkeypatch):
    """didChangeWorkspaceFolders (pygls updates its folders first): the index is rebuilt on the new
    folders, and an open buffer that differs from its file is indexed again from the next request."""
    from types import SimpleNamespace

    for name, text in (("a/util.py", "def in_a():\n    pass\n"), ("b/lib.py", "def in_b():\n    pass\n")):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    a, b = tmp_path / "a", tmp_path / "b"
    ls = create_server()
    ls.protocol._workspace = Workspace(a.as_uri(), workspace_folders=[types.WorkspaceFolder(a.as_uri(), "a")])
    applied = []

    async def apply(opts):
        applied.append(ls.host.workspace)

    monkeypatch.setattr(ls.host, "apply", apply)
    ls.set_roots([a])
    ls.start_index()
    await wait_ready(ls)
    open_document(ls, (a / "util.py").as_uri(), "def typed_in_a():\n    pass\n")  # unsaved work
    open_document(ls, (a / "main.py").as_uri(), "")
    ls.context_sources(SimpleNamespace(uri=(a / "main.py").as_uri(), syntax_tree=lambda: None))
    assert ls.index_host.index.lookup("typed_in_a") and not ls.index_host.index.lookup("in_b")

    changed = ls.protocol.fm.features[types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS]
    ls.workspace.add_folder(types.WorkspaceFolder(b.as_uri(), "b"))
    await changed(types.DidChangeWorkspaceFoldersParams(types.WorkspaceFoldersChangeEvent(
        added=[types.WorkspaceFolder(b.as_uri(), "b")], removed=[])))
    await wait_ready(ls)
    assert ls.roots == [a, b] and applied == []  # the first folder is the same: no adapter to change
    assert sorted(ls.index_host.index.files) == ["a/util.py", "b/lib.py"] and ls.index_host.index.lookup("in_b")
    ls.context_sources(SimpleNamespace(uri=(a / "main.py").as_uri(), syntax_tree=lambda: None))
    assert ls.index_host.index.lookup("typed_in_a") and not ls.index_host.index.lookup("in_a")

    ls.workspace.remove_folder(a.as_uri())
    await changed(types.DidChangeWorkspaceFoldersParams(types.WorkspaceFoldersChangeEvent(
        added=[], removed=[types.WorkspaceFolder(a.as_uri(), "a")])))
    await wait_ready(ls)
    assert ls.roots == [b] and applied == [b] and list(ls.index_host.index.files) == ["lib.py"]
    ls.index_host.shutdown()


async def test_turning_the_index_off_and_on_in_the_settings_drops_and_rebuilds_it(tmp_path, monkeypatch):
    (tmp_path / "m.py").write_text("def f():\n    pass\n")
    ls = create_server()
    ls.protocol._workspace = Workspace(tmp_path.as_uri())

    async def apply(opts):
        pass

    monkeypatch.setattr(ls.host, "apply", apply)
    ls.set_roots([tmp_path])
    ls.start_index()
    await wait_ready(ls)
    first = ls.index_host.index
    changed = ls.protocol.fm.features[types.WORKSPACE_DID_CHANGE_CONFIGURATION]
    await changed(types.DidChangeConfigurationParams(settings={"completion": {"prefixChars": 4000}}))
    assert ls.index_host.index is first  # nothing the index depends on
    await changed(types.DidChangeConfigurationParams(settings={"context": {"index": False}}))
    assert ls.index_host.index is None and ls.index_host.watcher is None
    await changed(types.DidChangeConfigurationParams(settings={"context": {"index": True, "maxFileBytes": 10}}))
    await wait_ready(ls)
    assert ls.index_host.index is not first and ls.index_host.index.files == {}  # m.py is over 10 bytes now
    ls.index_host.shutdown()
