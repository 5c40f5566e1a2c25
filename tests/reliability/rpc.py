"""A raw JSON-RPC-over-stdio peer for the reliability tests: it can send anything, well-formed or not."""

from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class Peer:
    """The real server as a subprocess, spoken to frame by frame."""

    def __init__(self, env: dict | None = None, argv: list[str] | None = None, cwd: Path = ROOT) -> None:
        self.proc = subprocess.Popen(argv or [sys.executable, "-m", "lsp_server", "serve"], cwd=cwd,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, **(env or {})})
        self.inbox: queue.Queue[dict] = queue.Queue()
        self.responses: dict[Any, dict] = {}
        self.notifications: list[dict] = []
        self.stderr = bytearray()
        self.ids = itertools.count(1)
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    # -- sending

    def raw(self, body: bytes, header: bytes | None = None) -> None:
        head = header if header is not None else f"Content-Length: {len(body)}\r\n\r\n".encode()
        self.proc.stdin.write(head + body)
        self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.raw(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: Any = None, timeout: float = 30) -> dict:
        """Send a request and wait for its response (result or error)."""
        rid = next(self.ids)
        self.send({"id": rid, "method": method, "params": params})
        return self.wait(rid, timeout)

    def wait(self, rid: Any, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        with self._cond:
            while rid not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError(f"no response to request {rid} (server exit code {self.proc.poll()}); "
                                       f"stderr tail: {bytes(self.stderr[-2000:]).decode(errors='replace')}")
                self._cond.wait(min(left, 0.5))
            return self.responses[rid]

    def initialize(self, root: Path, options: dict | None = None, process_id: int | None = None) -> dict:
        result = self.request("initialize", {
            "processId": process_id if process_id is not None else os.getpid(), "rootUri": root.as_uri(),
            "capabilities": {"window": {"workDoneProgress": True}},
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "initializationOptions": options or {}}, timeout=60)
        self.notify("initialized", {})
        return result

    def wait_ready(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = [n["params"]["state"] for n in self.notifications if n.get("method") == "tacit/status"]
            if states and states[-1] in ("ready", "error"):
                return states[-1]
            time.sleep(0.05)
        raise TimeoutError("server never became ready")

    def close(self, timeout: float = 10) -> int | None:
        if self.proc.poll() is None:
            try:
                self.request("shutdown", None, timeout=timeout)
                self.notify("exit")
                self.proc.wait(timeout)
            except Exception:
                self.proc.kill()
                self.proc.wait(timeout)
        return self.proc.returncode

    # -- receiving

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    with self._cond:
                        self._cond.notify_all()
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            message = json.loads(out.read(length or 0))
            with self._cond:
                if "id" in message and "method" not in message:
                    message["_received"] = time.monotonic()
                    self.responses[message["id"]] = message
                elif "method" in message:
                    self.notifications.append(message)
                    if "id" in message:  # a request from the server (progress create): answer it
                        self.send({"id": message["id"], "result": None})
                self._cond.notify_all()

    def _drain(self) -> None:
        while chunk := self.proc.stderr.read1(65536):
            self.stderr.extend(chunk)
            del self.stderr[:-500_000]
