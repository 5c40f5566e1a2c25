"""A remote OpenAI-compatible completion endpoint (llama.cpp server, vLLM, Ollama, TGI).

The only module that speaks HTTP to an engine. It streams `/v1/completions` server-sent
events; a watcher closes the connection as soon as the stop flag is set, so a cancelled
request stops the remote generation too.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

from ..errors import EngineError
from .base import EngineStats, GenOptions


class RemoteEngine:
    """Generates through a remote server's `/v1/completions` endpoint."""

    name = "remote"
    heals = False  # a completions endpoint cannot be told how its output starts

    def __init__(self, url: str, model: str = "", api_key: str = "", timeout_ms: int = 15000,
                 family: str | None = "qwen2.5-coder") -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EngineError(f"remote engine URL must be http(s)://host[:port][/path], got {url!r}")
        self.url = url
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        base = parts.path.rstrip("/")
        self.path = base + "/completions" if base.endswith("/v1") else base + "/v1/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout_ms / 1000
        self.family = family
        self.last_stats = EngineStats()

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.timeout)

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)  # the remote tokenizer is not ours; a cheap estimate

    def health(self) -> bool:
        """True when the server answers `GET /v1/models`."""
        conn = self._connect()
        try:
            conn.request("GET", self.path.rsplit("/", 1)[0] + "/models")
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def generate(self, prompt: str, options: GenOptions, stop_flag: threading.Event) -> Iterator[str]:
        t0 = time.perf_counter()
        stats = EngineStats(prompt_tokens=self.count_tokens(prompt))
        self.last_stats = stats
        body = {"prompt": prompt, "max_tokens": options.max_tokens, "temperature": options.temperature,
                "stream": True, "stop": options.stop[:4] if options.stop else None}
        if self.model:
            body["model"] = self.model
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        conn = self._connect()
        finished = threading.Event()

        def watch() -> None:
            while not finished.is_set():
                if stop_flag.wait(0.02):
                    sock = conn.sock
                    if sock is not None:
                        try:
                            sock.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                    return

        watcher = threading.Thread(target=watch, name="tacit-remote-stop", daemon=True)
        watcher.start()
        try:
            try:
                conn.request("POST", self.path, body=json.dumps(body), headers=headers)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                if stop_flag.is_set():
                    return
                raise EngineError(f"remote engine unreachable at {self.url}: {exc}") from exc
            if resp.status != 200:
                detail = resp.read(500).decode("utf-8", "replace")
                raise EngineError(f"remote engine answered HTTP {resp.status}: {detail}")
            yield from self._events(resp, stats, stop_flag, t0)
        finally:
            finished.set()
            conn.close()
            stats.total_ms = (time.perf_counter() - t0) * 1000

    def _events(self, resp: http.client.HTTPResponse, stats: EngineStats, stop_flag: threading.Event,
                t0: float) -> Iterator[str]:
        done = False
        while not stop_flag.is_set():
            try:
                raw = resp.readline()
            except (OSError, http.client.HTTPException) as exc:
                if stop_flag.is_set():
                    return
                raise EngineError(f"remote engine stream broke: {exc}") from exc
            if not raw:
                break
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                break
            try:
                chunk = json.loads(data)
                text = chunk["choices"][0].get("text") or ""
                done = done or chunk["choices"][0].get("finish_reason") is not None
            except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
                raise EngineError(f"remote engine sent an unreadable event: {data[:200]!r}") from exc
            if text:
                stats.generated_tokens += 1
                if stats.generated_tokens == 1:
                    stats.first_token_ms = (time.perf_counter() - t0) * 1000
                yield text
        if not done and not stop_flag.is_set():  # no [DONE] and no finish_reason: it broke off
            raise EngineError("remote engine closed the stream before it was finished")

    def close(self) -> None:
        pass
