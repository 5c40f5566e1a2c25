"""initialize / initialized / configuration / shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time

import psutil
from lsprotocol import types

from .. import positions
from ..index_host import workspace_roots
from ..options import parse_options
from ..server import TacitServer


def apply_options(server: TacitServer, data, base=None) -> None:
    """Parse client options into the server, reporting problems once."""
    opts, errors = parse_options(data, base)
    server.options = opts
    server.recorder.path = opts.log_file or os.environ.get("TACIT_LOG_FILE") or None
    if errors:
        server.report_once("invalid options, using defaults for: " + "; ".join(errors),
                           types.MessageType.Warning)


log = logging.getLogger(__name__)

INDEX_OPTIONS = ("index", "watch", "max_file_bytes", "max_files")  # a change rebuilds the index


def release(server: TacitServer) -> None:
    """Stop everything that holds resources: the index watcher, the engine, the event store (flushed)."""
    server.index_host.shutdown()
    server.host.shutdown()
    server.signals.stop()
    if server.signals.store is not None:
        server.signals.store.close()


def watch_parent(server: TacitServer, pid: int, every_s: float = 1.0) -> None:
    """Exit when the editor that started us is gone (LSP `processId`), even if our stdin stays open."""
    def alive() -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def run() -> None:
        while alive():
            time.sleep(every_s)
        log.warning("the editor process %d is gone: exiting", pid)
        try:
            release(server)
        finally:
            os._exit(0)

    if pid > 0 and pid != os.getpid():
        threading.Thread(target=run, name="tacit-parent-watch", daemon=True).start()


def register(server: TacitServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: TacitServer, params: types.InitializeParams) -> None:
        # pygls made the workspace with its own codec, which every document it opens shares; ours gives
        # the same positions without walking a line a character at a time (a minified line: 200 ms), and
        # our documents apply a change without rewriting the text a line at a time
        positions.install(ls.workspace)
        apply_options(ls, params.initialization_options)
        ls.set_roots(workspace_roots([f.uri for f in params.workspace_folders or []], params.root_uri))
        ls.open_store()
        if isinstance(params.process_id, int) and psutil.pid_exists(params.process_id):
            watch_parent(ls, params.process_id)
        window = params.capabilities.window
        ls.client_progress = bool(window and window.work_done_progress)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: TacitServer, params: types.InitializedParams) -> None:
        ls.start_index()
        await ls.host.apply(ls.options)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: TacitServer, params: types.DidChangeConfigurationParams) -> None:
        before = ls.options.context
        apply_options(ls, params.settings, ls.options)
        ls.open_store()
        after = ls.options.context
        if [getattr(before, f) for f in INDEX_OPTIONS] != [getattr(after, f) for f in INDEX_OPTIONS]:
            ls.start_index()
        await ls.host.apply(ls.options)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_workspace_folders(ls: TacitServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        # pygls has applied the change to its workspace folders already
        roots = workspace_roots([f.uri for f in ls.workspace.folders.values()], ls.workspace.root_uri)
        if roots == ls.roots:
            return
        first = ls.roots[0] if ls.roots else None
        ls.set_roots(roots)
        log.info("workspace folders now %s: re-indexing", [str(r) for r in roots])
        ls.start_index()
        if ls.host.workspace != first:  # the adapter "auto" picks is the first folder's
            await ls.host.apply(ls.options)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: TacitServer, params=None) -> None:
        release(ls)


async def wait_ready(server: TacitServer, timeout: float) -> bool:
    """Wait until the engine is loaded or failed (used by in-process callers)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while server.state in ("starting", "loading"):
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return server.state == "ready"
