"""Fixtures for e2e tests: the real server subprocess and the real default model."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from lsp_server import client as lsp_client
from lsp_server.models import is_verified, load_manifest, model_file

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "seeds" / "demo"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def model_path() -> Path:
    manifest = load_manifest()
    spec = manifest.get(manifest.default)
    if not is_verified(spec):
        pytest.fail("the default model is not assembled: run `make model` (make test does)")
    return model_file(spec)


@pytest.fixture
async def server(model_path, tmp_path):
    """A started, ready Tacit server with a per-request log file."""
    log = tmp_path / "requests.jsonl"
    client = await lsp_client.start({"logFile": str(log)}, root=DEMO,
                                    env={"TACIT_CONFIG": str(tmp_path), "TACIT_DATA": str(tmp_path)})
    client.log_path = log  # type: ignore[attr-defined]
    assert await client.wait_state(timeout=120) == "ready", client.statuses
    yield client
    await client.close()


def read_log(path: Path) -> list[dict]:
    import json

    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


os.environ.setdefault("PYTHONUNBUFFERED", "1")
# Servers started by e2e tests keep their event stores out of the user's data directory.
os.environ.setdefault("TACIT_DATA", tempfile.mkdtemp(prefix="tacit-e2e-data-"))
