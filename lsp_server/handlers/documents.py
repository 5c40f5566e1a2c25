"""Document lifecycle beyond pygls' own text sync: forget state of closed documents."""

from __future__ import annotations

from lsprotocol import types

from ..server import TacitServer


def register(server: TacitServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TacitServer, params: types.DidCloseTextDocumentParams) -> None:
        if ls.host.completer is not None:
            ls.host.completer.forget(params.text_document.uri)
