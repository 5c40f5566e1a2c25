"""pygls' protocol, hardened: every request gets an answer, even a malformed one.

Out of the box, pygls drops a request whose params do not fit the method's type (the error is
raised while the message is decoded, before its id is known) and treats a request for a method
that is a notification as that notification: in both cases the client waits forever. Here such
a request is answered with a JSON-RPC error, and malformed notifications are logged and ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from lsprotocol.types import TEXT_DOCUMENT_INLINE_COMPLETION as INLINE_COMPLETION
from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)


@dataclass
class Unanswerable:
    """A request that cannot be run: answered with `error`."""

    id: int | str | None
    method: str
    error: JsonRpcException


def _request_id(data: dict) -> int | str | None:
    rid = data.get("id")
    return rid if isinstance(rid, (int, str)) and not isinstance(rid, bool) else None


class TacitProtocol(LanguageServerProtocol):
    def structure_message(self, data: Any):
        if not isinstance(data, dict) or "jsonrpc" not in data:
            return data
        is_request = "id" in data and isinstance(data.get("method"), str)
        try:
            message = super().structure_message(data)
        except JsonRpcException as exc:
            if is_request:
                return Unanswerable(_request_id(data), data["method"], exc)
            raise
        if is_request and not hasattr(message, "id"):
            return Unanswerable(_request_id(data), data["method"],
                                JsonRpcInvalidRequest(f"{data['method']} is a notification, not a request"))
        return message

    def handle_message(self, message: Any) -> None:
        if isinstance(message, Unanswerable):
            log.warning("request %r (%s) not run: %s", message.id, message.method, message.error)
            self._send_response(message.id, None, message.error.to_response_error())
            return
        if not hasattr(message, "jsonrpc"):  # a bare JSON value, not a message
            log.warning("ignored a message that is not JSON-RPC: %.200r", message)
            return
        if getattr(message, "method", None) == INLINE_COMPLETION and hasattr(message, "id"):
            self._note_arrival(message.params)
        super().handle_message(message)

    def _note_arrival(self, params: Any) -> None:
        """The document's version when a completion request arrives, in order with the edits: the
        handler runs later, and must not answer for a document that has changed since."""
        arrivals = self._server.arrivals  # type: ignore[attr-defined]
        doc = getattr(params, "text_document", None)
        uri = getattr(doc, "uri", None)
        if not isinstance(uri, str):
            return
        try:
            document = self._server.workspace.text_documents.get(unquote(uri))
        except RuntimeError:  # before initialize
            return
        arrivals[id(params)] = document.version if document is not None else None
        while len(arrivals) > 1000:
            arrivals.pop(next(iter(arrivals)))


class PipeReader:
    """stdin as an asyncio stream: pygls' reader hops to a thread for every header line and body."""

    def __init__(self, stdin: Any) -> None:
        self.stdin = stdin
        self.stream: Any = None
        self.fallback: Any = None

    async def _ready(self) -> None:
        if self.stream is not None or self.fallback is not None:
            return
        import asyncio

        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader(limit=2**20, loop=loop)
        try:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), self.stdin)
            self.stream = stream
        except (ValueError, OSError):  # a regular file, say: pygls' own reader copes with anything
            from pygls.io_ import StdinAsyncReader

            self.fallback = StdinAsyncReader(self.stdin)

    async def readline(self) -> bytes:
        await self._ready()
        if self.fallback is not None:
            return await self.fallback.readline()
        try:
            return await self.stream.readline()
        except ValueError:  # a "line" longer than the limit: not a header; skip it
            log.warning("skipped an over-long header line")
            return b"\r\n"

    async def readexactly(self, n: int) -> bytes:
        import asyncio

        await self._ready()
        if self.fallback is not None:
            return await self.fallback.readexactly(n)
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError as exc:  # the client went away mid-message
            return exc.partial
