"""textDocument/inlineCompletion: LSP params -> CompletionRequest -> pipeline -> InlineCompletionList."""

from __future__ import annotations

import asyncio
import bisect
import time
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.workspace import PositionCodec

from context import syntax

from ..engine_host import describe
from ..pipeline.request import CompletionRequest, Suggestion
from ..positions import lines_of
from ..server import TacitServer

ACCEPT_COMMAND = "tacit.accept"


def to_request(ls: TacitServer, params: types.InlineCompletionParams, received: float) -> CompletionRequest:
    """Our request type, or a JSON-RPC invalid-params error for unknown documents and bad positions."""
    uri = params.text_document.uri
    doc = ls.workspace.text_documents.get(unquote(uri))  # pygls keys documents by unquoted URI
    if doc is None:
        raise JsonRpcInvalidParams(f"document not open: {uri}")
    pos = params.position
    source = doc.source
    lines, starts = lines_of(source)
    if pos.line < 0 or pos.character < 0 or pos.line > len(lines):
        raise JsonRpcInvalidParams(f"position {pos.line}:{pos.character} is outside the document")
    server_pos = doc.position_codec.position_from_client_units(lines, pos) if pos.line < len(lines) else pos
    line_text = lines[pos.line] if pos.line < len(lines) else ""
    character = min(server_pos.character, len(line_text.rstrip("\r\n")))
    offset = starts[pos.line] + character
    invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
    syntax_doc = ls.syntax_docs.get(unquote(uri))
    if syntax_doc is not None and syntax_doc.text is not source:
        if syntax_doc.text == source:  # one string for both: its lines are split once (lines_of)
            syntax_doc.text = source
        else:  # out of step: never trust a stale tree
            syntax_doc.replace_all(source)

    def parse():  # later, when a prompt is built: the document may have changed meanwhile
        if syntax_doc is None:
            return None
        return syntax_doc.tree if syntax_doc.text == source else syntax.parse(syntax_doc.language_id, source)

    return CompletionRequest(uri=uri, language_id=doc.language_id or "", text=source, offset=offset,
                             line=pos.line, character=character, version=doc.version or 0,
                             invoked=invoked, received=received, parse=parse, path=ls.relative_path(uri))


def client_position(text: str, offset: int, codec: PositionCodec) -> types.Position:
    """The client-unit position of a code-point offset into `text`.

    pygls' `client_position_at_offset` maps the end of a last line with no newline to the start of
    the next (absent) line, which puts ghost text after the end of the document."""
    offset = max(0, min(offset, len(text)))
    lines, starts = lines_of(text)  # the same line breaks pygls uses when it reads client positions
    number = bisect.bisect_right(starts, offset) - 1  # the line `offset` is in, or the text's end
    if number == len(lines) and lines and lines[-1] == lines[-1].splitlines()[0]:  # no final break
        number -= 1
    if number == len(lines):
        return types.Position(line=len(lines), character=0)  # after a final line break
    in_line = codec.position_to_client_units([lines[number]], types.Position(line=0, character=offset - starts[number]))
    return types.Position(line=number, character=in_line.character)


def to_lsp(ls: TacitServer, req: CompletionRequest, s: Suggestion) -> types.InlineCompletionList:
    """Convert a suggestion back into client position units, against the text the request was for."""
    codec = ls.workspace.text_documents[unquote(req.uri)].position_codec
    start = client_position(req.text, s.start, codec)
    end = client_position(req.text, s.end, codec)
    item = types.InlineCompletionItem(
        insert_text=s.text, range=types.Range(start=start, end=end),
        command=types.Command(title="Tacit: accepted", command=ACCEPT_COMMAND,
                              arguments=[s.id, {"complete": s.complete, "cached": s.from_cache}]))
    return types.InlineCompletionList(items=[item])


def register(server: TacitServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: TacitServer, params: types.InlineCompletionParams):
        received = time.perf_counter()
        arrived_at_version = ls.arrivals.pop(id(params), -1)
        doc = ls.workspace.text_documents.get(unquote(params.text_document.uri))
        if doc is not None and arrived_at_version not in (-1, doc.version):
            return types.InlineCompletionList(items=[])  # stale: the document changed after the request
        req = to_request(ls, params, received)
        await ls.host.sync_adapter(ls.options)  # a newly activated adapter is swapped in first
        completer = ls.host.completer
        if completer is None:
            if ls.host.error is not None:  # loading failed: retry in the background, answer now
                ls.host_retry = asyncio.ensure_future(ls.host.retry(ls.options))
            return None
        suggestion = await completer.complete(req)
        if suggestion is None:
            return types.InlineCompletionList(items=[])
        ls.last_latency_ms = suggestion.latency_ms
        if unquote(req.uri) not in ls.workspace.text_documents:
            return types.InlineCompletionList(items=[])  # closed while we were generating
        row = record_of(ls, req, suggestion)
        keep = ls.acceptance_filter is None or filter_keeps(ls, row)
        row["features"]["withheld"] = not keep
        ls.signals.returned(suggestion.id, req.uri, suggestion.start, suggestion.text, row)
        if not keep:
            ls.recorder({"event": "withheld", "id": suggestion.id})
            return types.InlineCompletionList(items=[])
        return to_lsp(ls, req, suggestion)


def filter_keeps(ls: TacitServer, row: dict) -> bool:
    """The acceptance filter's verdict on a suggestion about to be shown."""
    from tuning.features import features

    extra = row["features"]
    f = features(row["language"], row["mode"], row["line_prefix"], row["text"], row["sources"],
                 extra.get("meanLogprob"), extra.get("recentAcceptRate"))
    return ls.acceptance_filter.keep(f)


def record_of(ls: TacitServer, req: CompletionRequest, s: Suggestion) -> dict:
    """What signal capture (and through it, the event store) keeps about a suggestion."""
    completer = ls.host.completer
    prompt, indent = None, ""
    if ls.options.signals.store_prompts and completer is not None:
        sid, last = completer.last_prompt.get(req.uri, (None, None))
        if sid == s.id and last is not None:
            # the prompt may leave out the indentation's last character or the word before the cursor
            # (token healing): the model's output continues `indent` + text (tuning needs the pair to fit)
            prompt, indent = last.text, last.indent + last.heal
    # the engine runs one generation at a time: its stats are this suggestion's unless cached
    stats = None if s.from_cache or completer is None else getattr(completer.engine, "last_stats", None)
    line_start = req.text.rfind("\n", 0, req.offset) + 1
    row = {
        "created": time.time(), "workspace": str(ls.roots[0]) if ls.roots else "", "path": req.path,
        "language": req.language_id, "mode": s.mode, "line_prefix": req.text[line_start:req.offset][-200:],
        "prompt": prompt, "sources": s.sources, "model": describe(completer.engine) if completer else "",
        "adapter": ls.host.adapter, "latency_ms": round(s.latency_ms, 1),
        "features": {"complete": s.complete, "cached": s.from_cache, "promptIndent": indent,
                     "recentAcceptRate": ls.signals.recent_accept_rate(),
                     "meanLogprob": getattr(stats, "mean_logprob", None),
                     "confidence": s.confidence}}
    return {**row, "text": s.text}
