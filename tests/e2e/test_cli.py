"""The `tacit` command line on the real model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TACIT = [sys.executable, "-m", "lsp_server"]


def run(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*TACIT, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_complete_prints_a_suggestion(model_path, tmp_path):
    src = tmp_path / "fib.py"
    src.write_text('def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    \n')
    result = run("complete", f"{src}:3:5", env={"TACIT_CONFIG": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "return" in result.stdout


def test_complete_rejects_bad_positions(tmp_path):
    src = tmp_path / "x.py"
    src.write_text("x = 1\n")
    result = run("complete", f"{src}:99:1")
    assert result.returncode == 2 and "outside" in result.stderr
    result = run("complete", "no-position-here")
    assert result.returncode == 2 and "FILE:LINE:COL" in result.stderr


def test_model_show_list_and_switching(model_path, tmp_path):
    env = {"TACIT_CONFIG": str(tmp_path)}
    shown = run("model", env=env)
    assert shown.returncode == 0 and "qwen2.5-coder-0.5b" in shown.stdout and str(model_path) in shown.stdout
    listed = run("model", "list", env=env)
    assert "gemma3-270m" in listed.stdout and "Apache-2.0" in listed.stdout
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model")
    refused = run("model", "path", str(bad), env=env)
    assert refused.returncode == 2 and "not a GGUF" in refused.stderr
    assert run("model", "use", "no-such-model", env=env).returncode == 2
    assert run("model", "path", str(model_path), env=env).returncode == 0
    assert str(model_path) in run("model", env=env).stdout
    assert run("model", "use", "qwen2.5-coder-0.5b", env=env).returncode == 0


def test_serve_tcp_binds_loopback_and_says_so(tmp_path):
    proc = subprocess.Popen([*TACIT, "serve", "--tcp", "127.0.0.1:0"], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TACIT_CONFIG": str(tmp_path)})
    try:
        line = proc.stderr.readline()
        assert "127.0.0.1" in line and "loopback only" in line
    finally:
        proc.kill()
        proc.wait()


def test_seeds_models_manifest_is_where_the_cli_reads_it():
    assert (Path(__file__).resolve().parents[2] / "seeds" / "models.toml").exists()
