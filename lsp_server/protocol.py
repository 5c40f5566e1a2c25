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
        super().handle_message(message)
