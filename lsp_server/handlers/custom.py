"""Tacit's namespaced requests: `tacit/status` (the server's state) and the accept command."""

from __future__ import annotations

from ..engine_host import describe
from ..server import TacitServer
from .inline_completion import ACCEPT_COMMAND


def register(server: TacitServer) -> None:
    @server.feature("tacit/getStatus")
    def get_status(ls: TacitServer, params=None) -> dict:
        completer = ls.host.completer
        return {"state": ls.state, "message": ls.state_message, "engine": ls.options.engine,
                "model": describe(completer.engine) if completer else None,
                "family": completer.engine.family if completer else None,
                "latencyMs": ls.last_latency_ms}

    @server.command(ACCEPT_COMMAND)
    def accepted(ls: TacitServer, *args) -> None:
        ls.recorder({"event": "signal", "kind": "accepted", "id": args[0] if args else None})
