"""Run the completion pipeline in-process (no LSP): `tacit complete FILE:LINE:COL`."""

from __future__ import annotations

import stat
import time
from pathlib import Path

from context.syntax import language_for_path

from .engine_host import make_engine, settings_from
from .errors import TacitError
from .options import Options
from .pipeline.orchestrator import Completer
from .pipeline.request import CompletionRequest

MAX_SOURCE_BYTES = 16 * 1024 * 1024  # a source file to complete in; a log or a dump is not one


def read_position(path: Path, line: int, col: int) -> tuple[str, int, int]:
    """(text, offset, character) for 1-based (line, col) of a file; the column is clamped to the line.
    Only a regular UTF-8 file up to `MAX_SOURCE_BYTES`: `/dev/zero` or a FIFO would be read forever."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise TacitError(f"cannot read {path}: not a regular file")
        if info.st_size > MAX_SOURCE_BYTES:
            raise TacitError(f"cannot read {path}: {info.st_size / 2**20:.0f} MB, more than the "
                             f"{MAX_SOURCE_BYTES // 2**20} MB a source file may have")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TacitError(f"cannot read {path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise TacitError(f"cannot read {path}: {exc}") from None
    lines = text.splitlines(keepends=True) or [""]
    if not 1 <= line <= len(lines) + 1:
        raise TacitError(f"line {line} is outside {path} (1..{len(lines)})")
    line_text = lines[line - 1].rstrip("\r\n") if line <= len(lines) else ""
    character = min(max(col - 1, 0), len(line_text))
    return text, sum(len(ln) for ln in lines[: line - 1]) + character, character


async def complete_at(path: Path, line: int, col: int, model: str | None = None) -> str | None:
    """The full suggestion at 1-based (line, col) of `path`, or None."""
    text, offset, character = read_position(path, line, col)
    opts = Options()
    opts.model.path = model
    engine = make_engine(opts)
    completer = Completer(engine, settings_from(opts))
    try:
        req = CompletionRequest(uri=path.resolve().as_uri(), language_id=language_for_path(str(path)) or "",
                                text=text, offset=offset, line=line - 1, character=character, invoked=True,
                                received=time.perf_counter())
        suggestion = await completer.complete(req)
        if suggestion is None:
            return None
        gen = completer.recent[req.uri][-1]
        await gen.wait_done()
        final = await completer.complete(req)
        return final.text if final else suggestion.text
    finally:
        completer.shutdown()
        engine.close()
