"""The Tacit language server object: state shared by the handlers, and its construction."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from context.assemble import Sources
from context.edits import RecentEdits
from context.syntax import SyntaxDocument

from . import __version__
from .engine_host import EngineHost
from .index_host import IndexHost
from .options import Options
from .pacing import Pacer
from .pipeline.generate import Generation
from .protocol import PipeReader, TacitProtocol
from .signals import Signals

log = logging.getLogger(__name__)

STATUS = "tacit/status"
COMPLETION_UPDATED = "tacit/completionUpdated"


class Recorder:
    """Appends structured per-request records (JSON lines) to a file, when one is configured."""

    def __init__(self) -> None:
        self.path: str | None = None
        self._lock = threading.Lock()

    def __call__(self, entry: dict) -> None:
        if not self.path:
            return
        entry = {"t": round(time.time(), 4), **entry}
        line = json.dumps(entry) + "\n"
        try:
            with self._lock, open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
        except OSError as exc:
            log.warning("cannot write log file %s: %s", self.path, exc)
            self.path = None


BUFFERS_PER_REQUEST = 4  # edited open documents given to the index per completion request
# An open document larger than this is read neither for similar code nor into the index from its
# buffer (the index keeps its file on disk): parsing a 1 MB buffer on the event loop took 0.5 s.
MAX_BUFFER_CHARS = 200_000


def _file_path(key: str) -> str | None:
    """The file system path of an unquoted `file://` URI (a `syntax_docs` key); None for other schemes
    and for a path no file system can hold (a NUL byte, `%00` in the URI)."""
    return key.removeprefix("file://") if key.startswith("file://") and "\x00" not in key else None


class TacitServer(LanguageServer):
    """pygls server plus Tacit's options, engine host and status."""

    def __init__(self) -> None:
        super().__init__("tacit", __version__, protocol_cls=TacitProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.options = Options()
        self.state = "starting"
        self.state_message = ""
        self.last_latency_ms: float | None = None
        self.recorder = Recorder()
        self.syntax_docs: dict[str, SyntaxDocument] = {}  # by unquoted URI
        self.unindexed_edits: set[str] = set()  # open documents (unquoted URIs) edited since the index read them
        self._reported: set[str] = set()
        self.pacer = Pacer()  # generations mark the model busy; background indexing gives way
        self.host = EngineHost(self.set_status, self.completion_updated, self.recorder, self.report_once,
                               self.context_sources, self.pacer)
        self.edits = RecentEdits()
        self.index_host = IndexHost(self)
        self.roots: list = []
        self.client_progress = False
        self.signals = Signals(None, self.document_text)
        self.acceptance_filter: Any = None  # tuning.filter.Filter, when one is installed
        self.host_retry: Any = None  # the background retry of an engine that failed to load
        self.arrivals: dict[int, int | None] = {}  # id(params) -> document version when the request arrived

    def set_status(self, state: str, message: str = "", **extra: Any) -> None:
        """Record and announce the server's state (`tacit/status`), on changes only."""
        if (state, message) == (self.state, self.state_message) and not extra:
            return
        self.state, self.state_message = state, message
        params = {"state": state, "message": message, "engine": self.options.engine, **extra}
        if self.last_latency_ms is not None:
            params["latencyMs"] = round(self.last_latency_ms, 1)
        log.info("status %s: %s", state, message)
        try:
            self.protocol.notify(STATUS, params)
        except Exception:  # not connected yet / already gone
            log.debug("status not sent", exc_info=True)

    def _start_io_async(self, stdin: Any = None, stdout: Any = None) -> None:
        """pygls' stdio loop, reading stdin as an asyncio stream (see `protocol.PipeReader`)."""
        import asyncio
        import sys

        from pygls.io_ import StdoutWriter, run_async

        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(run_async(stop_event=self._stop_event, reader=PipeReader(stdin or sys.stdin.buffer),
                                  protocol=self.protocol, logger=log, error_handler=self.report_server_error))
        except BrokenPipeError:
            log.error("the client is gone (broken pipe): shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Errors outside a request (a malformed notification, a broken frame): logged, shown to the user once."""
        log.warning("ignored: %s (%s)", error, getattr(source, "__name__", source))
        self.report_once("ignored a malformed message from the editor (details in the server log)",
                         types.MessageType.Warning)

    def report_once(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        """Show `message` to the user once per session."""
        if message in self._reported:
            return
        self._reported.add(message)
        log.warning("%s", message)
        try:
            self.window_show_message(types.ShowMessageParams(type=kind, message=f"Tacit: {message}"))
        except Exception:
            log.debug("message not sent", exc_info=True)

    def completion_updated(self, gen: Generation) -> None:
        """Tell the client that more of a suggestion it was shown is ready."""
        doc = self.workspace.text_documents.get(unquote(gen.uri)) if self._has_workspace() else None
        self.protocol.notify(COMPLETION_UPDATED, {"uri": gen.uri, "id": gen.id,
                                                  "version": doc.version if doc else None})

    def document_text(self, uri: str) -> str | None:
        """An open document's current text, by its URI as the client sent it."""
        doc = self.syntax_docs.get(unquote(uri))
        return doc.text if doc is not None else None

    def open_store(self) -> None:
        """(Re)open the event store the options name; none when recording is off."""
        from tuning.store import EventStore, default_path

        opts = self.options.signals
        path = opts.database or None
        old = self.signals.store
        if old is not None and opts.record and (path is None or str(old.path) == path):
            return
        if old is not None:
            old.close()
        self.signals.store = None
        self.signals.retention_s = tuple(opts.retention_seconds)
        self.acceptance_filter = None
        filter_path = (Path(path).parent if path else default_path().parent) / "filter.json"
        if opts.use_filter and filter_path.exists():
            from tuning.filter import Filter

            try:
                self.acceptance_filter = Filter.load(filter_path)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self.report_once(f"acceptance filter {filter_path} not loaded: {exc}", types.MessageType.Warning)
        if opts.record:
            self.signals.store = EventStore(path, max_days=opts.max_days, max_suggestions=opts.max_suggestions,
                                            on_error=lambda m: self.report_once(m, types.MessageType.Warning))

    def relative_path(self, uri: str) -> str:
        """A document's path relative to its workspace folder (its name when outside them)."""
        path = unquote(uri.split("://", 1)[-1]) if uri.startswith("file://") else uri
        for root in self.roots:
            root_s = str(root).rstrip("/") + "/"
            if path.startswith(root_s):
                rel = path[len(root_s):]
                return f"{root.name}/{rel}" if len(self.roots) > 1 else rel
        return path.rsplit("/", 1)[-1]

    def context_sources(self, req) -> Sources:
        """What retrieval may read for a request: the index, other open documents, recent edits."""
        current = unquote(req.uri)
        self.index_edited_documents(current)
        docs: dict[str, str] = {}
        for key, doc in list(self.syntax_docs.items())[-10:]:
            if key != current and len(doc.text) <= MAX_BUFFER_CHARS:
                docs[self.relative_path(key)] = doc.text
        return Sources(index=self.index_host.index, documents=docs, edits=self.edits, tree=req.syntax_tree(),
                       repo_name=self.roots[0].name if self.roots else "")

    def index_edited_documents(self, current: str) -> None:
        """Give the index the buffers of the other open documents edited since it last read them, so
        that a function written in another tab is found before it is saved. The document being typed
        in waits until the cursor leaves it: its own definitions are not retrieved from the index, and
        parsing it on every keystroke would cost more than it gives. At most `BUFFERS_PER_REQUEST` per
        request (one parse each, up to ~12 ms for 100 KB), so an edit across many open files is
        indexed over the next requests rather than all in one. A buffer over `MAX_BUFFER_CHARS` is
        not parsed here: the index reads its file (again, if it held an earlier, smaller buffer)."""
        index = self.index_host.index
        if index is None:
            self.unindexed_edits.clear()
            return
        for key in [k for k in self.unindexed_edits if k != current][:BUFFERS_PER_REQUEST]:
            self.unindexed_edits.discard(key)
            doc, path = self.syntax_docs.get(key), _file_path(key)
            if doc is None or path is None:
                continue
            if len(doc.text) <= MAX_BUFFER_CHARS:
                index.update_text(path, doc.text)
            else:
                index.release_text(path)

    def set_roots(self, roots: list[Path]) -> None:
        """The workspace folders (on initialize, and when the client adds or removes some)."""
        self.roots = roots
        self.host.workspace = roots[0] if roots else None

    def start_index(self) -> None:
        """(Re)build the workspace index for the current folders and options, or drop it when
        `context.index` is off. A complete index keeps serving until its replacement is built."""
        o = self.options.context
        if o.index:
            self.index_host.start(self.roots, o.max_file_bytes, self.client_progress, watch=o.watch,
                                  max_files=o.max_files, on_current=self.index_replaced)
        else:
            self.index_host.stop()
            self.index_replaced()

    def index_replaced(self) -> None:
        """A new index is the one retrieval reads: open buffers that differ from their files are
        indexed again from the next request on (the new index has read only the disk)."""
        self.unindexed_edits.clear()
        for key, doc in list(self.syntax_docs.items()):
            self.document_opened(key, doc.text)

    def document_opened(self, key: str, text: str) -> None:
        """A document opened (unquoted URI). A buffer that differs from its file (an editor restoring
        unsaved work, VS Code's hot exit; a new file not yet saved) waits to be indexed as if edited."""
        index, path = self.index_host.index, _file_path(key)
        if index is not None and path is not None and index.differs_from_disk(path, text):
            self.unindexed_edits.add(key)

    def document_closed(self, key: str) -> None:
        """A document closed (unquoted URI): its file is indexed from disk again, unsaved edits dropped."""
        self.unindexed_edits.discard(key)
        index, path = self.index_host.index, _file_path(key)
        if index is not None and path is not None:
            index.release_text(path)

    def _has_workspace(self) -> bool:
        try:
            return self.workspace is not None
        except RuntimeError:  # pygls raises before initialize
            return False


def create_server() -> TacitServer:
    """A server with every handler registered."""
    from .handlers import custom, documents, inline_completion, lifecycle, signals

    server = TacitServer()
    for module in (lifecycle, documents, inline_completion, custom, signals):
        module.register(server)
    if os.environ.get("TACIT_LOG_FILE"):
        server.recorder.path = os.environ["TACIT_LOG_FILE"]
    return server
