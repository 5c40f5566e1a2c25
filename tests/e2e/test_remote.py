"""The remote engine against a real OpenAI-compatible server: llama-cpp-python's own, on loopback."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from lsp_server import client as lsp_client

from .conftest import DEMO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@pytest.fixture
def llama_server(model_path, tmp_path):
    port = free_port()
    with open(tmp_path / "llama_server.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
                                 "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_http(f"http://127.0.0.1:{port}/v1/models", 120)
            yield f"http://127.0.0.1:{port}/v1", proc
        finally:
            proc.kill()
            proc.wait()


async def test_remote_engine_serves_suggestions_and_survives_the_server_going_away(llama_server, tmp_path):
    url, proc = llama_server
    client = await lsp_client.start({"engine": "remote", "remote": {"url": url, "family": "qwen2.5-coder"}},
                                    root=DEMO, env={"TACIT_CONFIG": str(tmp_path)})
    try:
        assert await client.wait_state(timeout=60) == "ready"
        text = ("def celsius_to_fahrenheit(celsius):\n    \"\"\"Convert a temperature.\"\"\"\n    return \n")
        uri = (DEMO / "scratch_remote.py").as_uri()
        client.open(uri, text)
        result = await client.inline(uri, 2, 11, invoked=True)
        assert result is not None and result.items, "the remote engine gave no suggestion"
        assert "celsius" in result.items[0].insert_text
        # the remote server goes away: no crash, no suggestion, the server keeps answering
        proc.kill()
        proc.wait()
        client.insert(uri, 2, 11, "zq")  # diverges from the cached suggestion: needs the engine
        result = await asyncio.wait_for(client.inline(uri, 2, 13, invoked=True), 30)
        assert result is not None and list(result.items) == []
        for _ in range(100):
            if client.state == "error":
                break
            await asyncio.sleep(0.05)
        assert client.state == "error"
        assert sum("remote engine unreachable" in m for m in client.messages) == 1
        status = await client.protocol.send_request_async("tacit/getStatus", None)
        assert status.state == "error"
    finally:
        await client.close()
