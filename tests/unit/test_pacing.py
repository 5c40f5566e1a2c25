"""Background indexing gives way to the model: `Pacer`, the generator that marks the model busy, and
the index loops that wait there."""

import asyncio
import threading
import time

from context.index import WorkspaceIndex
from lsp_server.engines.fake import FakeEngine
from lsp_server.pacing import Pacer
from lsp_server.pipeline.orchestrator import Completer, CompletionSettings
from tests.unit.test_orchestrator import req


def paced(pacer: Pacer, worked_s: float) -> threading.Thread:
    thread = threading.Thread(target=pacer.pace, args=(worked_s,), daemon=True)
    thread.start()
    return thread


def test_background_work_waits_while_the_model_is_busy_and_goes_on_when_it_is_idle():
    pacer = Pacer(share=0.1, longest_wait_s=60)
    idle = paced(pacer, 10.0)
    idle.join(5)
    assert not idle.is_alive() and not pacer.is_busy  # idle: no wait (else 60 s)
    with pacer.busy():
        waiting = paced(pacer, 10.0)
        waiting.join(0.3)
        assert waiting.is_alive()  # would wait up to 60 s
    waiting.join(5)
    assert not waiting.is_alive()  # the model is idle: at once


def test_background_work_keeps_its_share_while_the_model_never_stops():
    pacer = Pacer(share=0.5, longest_wait_s=60)
    with pacer.busy():
        waiting = paced(pacer, 0.05)  # half the time: waits 0.05 s, not until the model is idle
        waiting.join(10)
        assert not waiting.is_alive() and pacer.is_busy


async def test_a_generation_marks_the_model_busy_until_it_ends():
    pacer = Pacer()
    engine = FakeEngine([["total = ", "price * qty\n"]], delay=0.2)
    completer = Completer(engine, CompletionSettings(), pacer=pacer)
    seen = []
    task = asyncio.ensure_future(completer.complete(req("x = <CURSOR>\n")))
    for _ in range(100):
        seen.append(pacer.is_busy)
        await asyncio.sleep(0.01)
    await task
    gen = completer.recent["file:///w/a.py"][-1]
    await gen.wait_done()
    for _ in range(100):
        if not pacer.is_busy:
            break
        await asyncio.sleep(0.01)
    assert any(seen) and not pacer.is_busy


def test_the_index_paces_every_file_it_reads(tmp_path):
    for name in ("a.py", "b.py", "sub/c.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(f"def f_{name[0]}():\n    pass\n")
    index = WorkspaceIndex([tmp_path])
    calls: list[float] = []
    index.pace = calls.append
    assert index.build() and len(calls) == 3 and all(c >= 0 for c in calls)
    (tmp_path / "sub" / "d.py").write_text("def g():\n    pass\n")
    index.update_path(tmp_path / "sub")  # a folder rescanned: the new file read, and paced
    assert len(calls) == 4 and "sub/d.py" in index.files


def test_changes_on_disk_are_paced_too(tmp_path):
    from context.index_watch import IndexWatcher

    index = WorkspaceIndex([tmp_path])
    index.build()
    calls: list[float] = []
    index.pace = calls.append  # a checkout can rewrite thousands of files
    watcher = IndexWatcher(index, debounce_s=0.05)
    watcher.start()
    try:
        (tmp_path / "late.py").write_text("def late():\n    pass\n")
        deadline = time.monotonic() + 10
        while not calls and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        watcher.stop()
    assert calls and "late.py" in index.files


def test_the_server_paces_its_index_as_context_yield_to_model_says_read_live():
    from types import SimpleNamespace

    from lsp_server.index_host import IndexHost
    from lsp_server.options import Options

    waited: list[float] = []
    server = SimpleNamespace(options=Options(), pacer=SimpleNamespace(pace=waited.append))
    host = IndexHost(server)
    host._pace(0.01)
    server.options.context.yield_to_model = False  # switched off in the editor's settings
    host._pace(0.02)
    assert waited == [0.01]
