"""What the client reports about suggestions: `tacit/signal`, the `tacit.accept` command, `tacit/getSignals`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from ..server import TacitServer
from ..signals import SignalError
from .inline_completion import ACCEPT_COMMAND

log = logging.getLogger(__name__)


def _get(params: Any, key: str) -> Any:
    if isinstance(params, dict):
        return params.get(key)
    return getattr(params, key, None)


def register(server: TacitServer) -> None:
    @server.feature("tacit/signal")
    def signal(ls: TacitServer, params: Any) -> None:
        try:
            kept = ls.signals.signal(_get(params, "id"), _get(params, "kind"), _get(params, "acceptedLength"))
        except SignalError as exc:
            log.warning("bad tacit/signal ignored: %s", exc)  # a notification has no error reply
            return
        ls.recorder({"event": "signal", "kind": _get(params, "kind"), "id": _get(params, "id"),
                     "acceptedLength": _get(params, "acceptedLength"), "kept": kept})

    @server.command(ACCEPT_COMMAND)
    def accepted(ls: TacitServer, *args: Any) -> None:
        sid = args[0] if args else None
        if isinstance(sid, list):  # pygls hands the arguments over as one list
            sid = sid[0] if sid else None
        try:
            kept = ls.signals.signal(sid, "accepted")
        except SignalError as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        ls.recorder({"event": "signal", "kind": "accepted", "id": sid, "kept": kept})

    @server.feature("tacit/getSignals")
    async def get_signals(ls: TacitServer, params: Any = None) -> dict:
        store = ls.signals.store
        if store is None:
            return {"signals": [], "recording": False}
        sid = _get(params, "id") if params is not None else None
        if sid is not None and not isinstance(sid, str):
            raise JsonRpcInvalidParams(f"id must be a string, got {sid!r}")
        flushed = await asyncio.to_thread(store.flush)
        signals = await asyncio.to_thread(store.signals, sid)
        return {"signals": signals, "recording": True, "flushed": flushed}
