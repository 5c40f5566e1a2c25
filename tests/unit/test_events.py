"""`tacit events`: the summary's counts and rates, and an export that Hugging Face `datasets` loads."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from lsp_server.cli import main
from tuning.events import export, summary
from tuning.store import EventStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    store = EventStore(tmp_path / "events.db")
    plan = [("a", "python", ["definitions"], ["shown", "accepted"]),
            ("b", "python", ["similar"], ["shown", "dismissed"]),
            ("c", "go", [], ["shown", ("partiallyAccepted", 3)]),
            ("d", "go", [], [])]  # returned, never shown
    for i, (sid, language, sources, signals) in enumerate(plan):
        store.suggestion({"id": sid, "created": time.time() + i, "workspace": "/w", "path": "x", "language": language,
                          "mode": "line", "line_prefix": "x = ", "offset": 0, "prompt": None, "sources": sources,
                          "model": "m.gguf", "adapter": None, "latency_ms": 12.5, "text": "foo(1)",
                          "features": {"recentAcceptRate": None if i == 0 else 0.5}})
        for signal in signals:
            kind, length = signal if isinstance(signal, tuple) else (signal, None)
            store.signal(sid, kind, length)
    store.retention("a", 15, 0.75, 6)
    assert store.flush()
    store.close()
    return tmp_path / "events.db"


def test_summary(db: Path) -> None:
    s = summary(db)
    assert (s["suggestions"], s["shown"], s["accepted"], s["partiallyAccepted"], s["dismissed"]) == (4, 3, 1, 1, 1)
    assert s["acceptance_rate"] == round(2 / 3, 3)
    assert s["by_language"] == {"go": {"shown": 1, "acceptance_rate": 1.0},
                                "python": {"shown": 2, "acceptance_rate": 0.5}}
    assert s["by_source"]["definitions"] == {"shown": 1, "acceptance_rate": 1.0}
    assert s["by_source"]["none"] == {"shown": 1, "acceptance_rate": 1.0}
    assert s["retained_similarity_mean"] == 0.75
    assert summary(db, workspace="/elsewhere")["suggestions"] == 0


def test_export_loads_with_datasets(db: Path, tmp_path: Path, monkeypatch) -> None:
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    out = tmp_path / "events.jsonl"
    assert export(db, out) == 4
    ds = datasets.load_dataset("json", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.num_rows == 4
    assert ds[0]["outcome"] == "accepted" and ds[0]["retention"] == [{"after_s": 15.0, "similarity": 0.75}]
    assert ds[2]["outcome"] == "partiallyAccepted" and ds[2]["accepted_length"] == 3
    assert ds[3]["shown"] is False and ds[3]["outcome"] == ""


def test_cli(db: Path, tmp_path: Path, capsys) -> None:
    assert main(["events", "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["shown"] == 3
    assert main(["events", "--db", str(db)]) == 0
    assert "acceptance rate 0.667" in capsys.readouterr().out
    assert main(["events", "--db", str(tmp_path / "none.db")]) == 2


def test_cli_on_what_is_not_an_event_store(db: Path, tmp_path: Path, capsys) -> None:
    # each of these was a traceback: a damaged file, another database, a folder, an export path that
    # cannot be written
    import sqlite3

    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"not a database at all" * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table t(x)")
    cases = [(["events", "--db", str(damaged)], "file is not a database"),
             (["events", "--db", str(other)], "no such table"),
             (["events", "--db", str(tmp_path)], "not a regular file"),
             (["tune", "filter", "--db", str(damaged)], "file is not a database"),
             (["events", "--db", str(db), "--export", str(tmp_path / "no" / "such" / "dir.jsonl")], "cannot write")]
    for argv, message in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err, argv
    assert damaged.read_bytes() == b"not a database at all" * 100  # read only: nothing lost
