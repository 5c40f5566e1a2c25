"""Tacit's namespaced requests: `tacit/getStatus` (the server's state) and `tacit/explain`."""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

from ..engine_host import describe
from ..server import TacitServer


def register(server: TacitServer) -> None:
    @server.feature("tacit/getStatus")
    def get_status(ls: TacitServer, params=None) -> dict:
        completer = ls.host.completer
        return {"state": ls.state, "message": ls.state_message, "engine": ls.options.engine,
                "model": describe(completer.engine) if completer else None,
                "family": completer.engine.family if completer else None,
                "adapter": ls.host.adapter,
                "latencyMs": ls.last_latency_ms,
                "index": ls.index_host.index.stats() if ls.index_host.index is not None else None}

    @server.feature("tacit/getDocument")
    def get_document(ls: TacitServer, params=None) -> dict | None:
        """What the server holds for a document (version, length, sha256 of the text and of its syntax
        tree's source): lets a client or a test check that both sides agree, without sending the text."""
        uri = getattr(params, "uri", None) or (params.get("uri") if isinstance(params, dict) else None)
        if not isinstance(uri, str):
            return None
        doc = ls.workspace.text_documents.get(unquote(uri))
        if doc is None:
            return None
        syntax = ls.syntax_docs.get(unquote(uri))
        return {"uri": uri, "version": doc.version, "length": len(doc.source),
                "sha256": hashlib.sha256(doc.source.encode("utf-8", "surrogatepass")).hexdigest(),
                "syntaxSha256": hashlib.sha256(syntax.text.encode("utf-8", "surrogatepass")).hexdigest()
                if syntax is not None else None}

    @server.feature("tacit/explain")
    def explain(ls: TacitServer, params=None) -> dict | None:
        """The prompt behind the last suggestion for a document, with its sources."""
        uri = getattr(params, "uri", None) or (params.get("uri") if isinstance(params, dict) else None)
        completer = ls.host.completer
        if completer is None or uri is None or uri not in completer.last_prompt:
            return None
        sid, prompt = completer.last_prompt[uri]
        # leftOut: the characters before the cursor the prompt leaves for the model to write again
        # (the indentation's last one, or the word: token healing); the prompt ends before them
        return {"id": sid, "template": prompt.template, "sources": prompt.sources, "prompt": prompt.text,
                "leftOut": prompt.indent + prompt.heal,
                "snippets": [{"source": s.source, "parts": list(s.parts), "path": s.path, "text": s.text}
                             for s in prompt.snippets]}
