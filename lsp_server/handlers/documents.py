"""Document lifecycle beyond pygls' own text sync: incremental syntax trees, and forgetting closed documents."""

from __future__ import annotations

import logging
from urllib.parse import unquote

from lsprotocol import types

from context.syntax import SyntaxDocument

from ..positions import lines_of
from ..server import TacitServer

log = logging.getLogger(__name__)


def _offsets(ls: TacitServer, doc: SyntaxDocument, rng: types.Range) -> tuple[int, int]:
    lines, starts = lines_of(doc.text)
    server = ls.workspace.position_codec.range_from_client_units(lines, rng)

    def offset(line: int, character: int) -> int:
        if line >= len(lines):
            return len(doc.text)
        return starts[line] + min(character, len(lines[line]))

    return offset(server.start.line, server.start.character), offset(server.end.line, server.end.character)


def register(server: TacitServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TacitServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.syntax_docs[unquote(item.uri)] = SyntaxDocument(item.language_id, item.text)
        ls.document_opened(unquote(item.uri), item.text)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TacitServer, params: types.DidChangeTextDocumentParams) -> None:
        key = unquote(params.text_document.uri)
        doc = ls.syntax_docs.get(key)
        if doc is None:
            return
        ls.unindexed_edits.add(key)
        try:
            for change in params.content_changes:
                if isinstance(change, types.TextDocumentContentChangePartial):
                    start, end = _offsets(ls, doc, change.range)
                    old = doc.text
                    doc.apply(start, end, change.text)
                    ls.edits.record(ls.relative_path(key), old, doc.text, start, end, change.text)
                    ls.signals.changed(params.text_document.uri, start, end, change.text)
                else:
                    doc.replace_all(change.text)
                    ls.signals.changed(params.text_document.uri, 0, 0, None)
        except (ValueError, IndexError) as exc:
            log.warning("syntax tree of %s out of step (%s); reparsing", key, exc)
            source = ls.workspace.text_documents.get(key)
            doc.replace_all(source.source if source else "")

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TacitServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.signals.closed(params.text_document.uri)
        ls.syntax_docs.pop(unquote(params.text_document.uri), None)
        ls.document_closed(unquote(params.text_document.uri))
        if ls.host.completer is not None:
            ls.host.completer.forget(params.text_document.uri)
