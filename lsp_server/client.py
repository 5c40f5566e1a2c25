"""A small LSP client for Tacit over stdio: used by `tacit demo`, the benchmarks and the e2e tests.

It starts the real server as a subprocess, speaks JSON-RPC to it through pygls' client,
and keeps what the server announces (status, completion updates, messages).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient


def _plain(obj: Any) -> Any:
    """namedtuple params (pygls' custom notifications) -> plain dicts."""
    if hasattr(obj, "_asdict"):
        return {k: _plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


class TacitClient(LanguageClient):
    """A pygls client that records Tacit's notifications."""

    def __init__(self) -> None:
        super().__init__("tacit-client", "0.1.0")
        self.statuses: list[dict] = []
        self.updates: asyncio.Queue[dict] = asyncio.Queue()
        self.messages: list[str] = []
        self.progress: list[Any] = []
        self.stderr = bytearray()
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}

        @self.feature("tacit/status")
        def _status(ls: TacitClient, params: Any) -> None:
            ls.statuses.append(_plain(params))

        @self.feature("tacit/completionUpdated")
        def _updated(ls: TacitClient, params: Any) -> None:
            ls.updates.put_nowait(_plain(params))

        @self.feature(types.WINDOW_SHOW_MESSAGE)
        def _message(ls: TacitClient, params: types.ShowMessageParams) -> None:
            ls.messages.append(params.message)

        @self.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def _create_progress(ls: TacitClient, params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @self.feature(types.PROGRESS)
        def _progress(ls: TacitClient, params: Any) -> None:
            value = getattr(params, "value", None)
            ls.progress.append({"token": getattr(params, "token", None), "value": _plain(value)})

        @self.feature(types.WINDOW_LOG_MESSAGE)
        def _log(ls: TacitClient, params: types.LogMessageParams) -> None:
            pass

    @property
    def state(self) -> str | None:
        return self.statuses[-1]["state"] if self.statuses else None

    async def wait_state(self, states: tuple[str, ...] = ("ready", "error"), timeout: float = 120) -> str:
        """Wait until the server announces one of `states`; return it."""
        deadline = time.monotonic() + timeout
        while self.state not in states:
            if time.monotonic() > deadline:
                raise TimeoutError(f"server did not reach {states}; last status {self.statuses[-1:]}")
            await asyncio.sleep(0.02)
        return self.state  # type: ignore[return-value]

    def open(self, uri: str, text: str, language_id: str = "python") -> None:
        """didOpen."""
        self.versions[uri], self.texts[uri] = 1, text
        self.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text)))

    def insert(self, uri: str, line: int, character: int, text: str) -> None:
        """didChange: insert `text` at (line, character) (utf-16 units == code points for BMP text)."""
        self.versions[uri] += 1
        pos = types.Position(line=line, character=character)
        self.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=pos, end=pos), text=text)]))

    async def inline(self, uri: str, line: int, character: int, invoked: bool = False):
        """textDocument/inlineCompletion; returns the InlineCompletionList (or None)."""
        kind = types.InlineCompletionTriggerKind.Invoked if invoked else types.InlineCompletionTriggerKind.Automatic
        return await self.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=kind)))


    async def close(self) -> None:
        """shutdown + exit, then stop the process."""
        try:
            await asyncio.wait_for(self.shutdown_async(None), 10)
            self.exit(None)
        except Exception:
            pass
        proc = self._server
        if proc is not None:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
        await self.stop()


def server_command() -> list[str]:
    """How to start the server: this interpreter running `lsp_server serve`."""
    return [sys.executable, "-m", "lsp_server", "serve"]


async def start(init_options: dict | None = None, root: Path | None = None, env: dict | None = None,
                encoding: str = "utf-16") -> TacitClient:
    """Start a server subprocess and initialize it."""
    client = TacitClient()
    cmd = server_command()
    full_env = {**os.environ, **(env or {})}
    await client.start_io(cmd[0], *cmd[1:], env=full_env)
    proc = client._server

    async def drain() -> None:
        assert proc is not None and proc.stderr is not None
        while chunk := await proc.stderr.read(65536):
            client.stderr.extend(chunk)
            del client.stderr[:-200_000]

    client._async_tasks.append(asyncio.create_task(drain()))
    root_uri = root.resolve().as_uri() if root else None
    caps = types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=[encoding]),
        window=types.WindowClientCapabilities(work_done_progress=True))
    await client.initialize_async(types.InitializeParams(
        capabilities=caps, root_uri=root_uri, initialization_options=init_options or {},
        workspace_folders=[types.WorkspaceFolder(uri=root_uri, name=root.name)] if root else None,
        process_id=os.getpid()))
    client.initialized(types.InitializedParams())
    return client
