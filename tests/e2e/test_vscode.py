"""VS Code for real: code-server with the built .vsix installed, Debian's Chromium driven headless by
playwright-core (editor-clients/vscode/e2e/drive.mjs), the real server and the real default model.

The driver types in a copy of a seeds/demo file, waits for ghost text, dismisses one suggestion
with Escape and accepts another with Tab, saves, and reads what "Tacit: Show Signals of Last
Suggestion" (the server's `tacit/getSignals`) and "Tacit: Explain Last Suggestion" show. This test
checks the saved file, those signals, and the server's own log of them. It runs twice: with VS
Code's provider hooks (proposed API `inlineCompletionsAdditions`; code-server, an OSS build, allows
it to any extension that declares it, stable VS Code only with `--enable-proposed-api tacit.tacit`)
and with them turned off (`tacit.providerHooks`), as in stable VS Code: signals inferred from edits.
A third run, with the workspace index on, types a definition into one tab, leaves it unsaved, types a
call of it in another and reads what "Tacit: Explain Last Suggestion" shows.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from lsp_server.options import Options, to_json

from .conftest import DEMO, ROOT, read_log

VSCODE = ROOT / "editor-clients" / "vscode"
E2E = VSCODE / "e2e"
CODE_SERVER = E2E / "node_modules" / "code-server" / "out" / "node" / "entry.js"
PLAYWRIGHT = E2E / "node_modules" / "playwright-core" / "package.json"
VSIX = VSCODE / "dist" / "tacit.vsix"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts" / "vscode"
FILE = "calendar_start.py"
# Small prompts: the model reads ~40 tokens/s on 2 cores.
SETTINGS = {"tacit.completion.prefixChars": 1200, "tacit.context.index": False}


def require_editors() -> None:
    missing = [str(p.relative_to(ROOT)) for p in (CODE_SERVER, PLAYWRIGHT, VSIX) if not p.exists()]
    if not Path(CHROMIUM).exists():
        missing.append("chromium (Debian package)")
    if shutil.which("node") is None:
        missing.append("node")
    if missing:
        pytest.fail(f"the VS Code e2e pieces are missing ({', '.join(missing)}): run `make editors`")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workspace(root: Path) -> Path:
    """A copy of the start of seeds/demo/calendar.py (up to its first classes) to type in."""
    ws = root / "ws"
    ws.mkdir()
    text = (DEMO / "calendar.py").read_text()
    cut = text.index("# Constants for months referenced later")
    (ws / FILE).write_text(text[:cut].rstrip() + "\n")
    return ws


def user_settings(tmp: Path, log: Path) -> dict:
    return {
        "tacit.serverPath": str(ROOT / ".venv" / "bin" / "tacit"),
        "tacit.logFile": str(log),
        **SETTINGS,
        "editor.autoIndent": "none",  # the driver types its own indentation
        "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
        "editor.suggestOnTriggerCharacters": False,
        "editor.wordBasedSuggestions": "off",
        "editor.minimap.enabled": False,
        "editor.inlineSuggest.enabled": True,
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "extensions.ignoreRecommendations": True,
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "files.autoSave": "off",
        "chat.commandCenter.enabled": False,
    }


def code_server(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen(["node", str(CODE_SERVER), *args], env=env, **kw)


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"code-server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"code-server did not answer {url}")


def parse_signals(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines if line.strip().startswith("{")]


def test_contributed_settings_are_server_options_with_the_server_defaults():
    """Every `tacit.*` setting the extension sends is a server option with the same default."""
    pkg = json.loads((VSCODE / "package.json").read_text())
    props = pkg["contributes"]["configuration"]["properties"]
    client_only = {"serverPath", "pythonPath", "serverArgs", "trace.server", "providerHooks"}
    defaults = to_json(Options())
    checked = 0
    for key, spec in props.items():
        name = key.removeprefix("tacit.")
        if name in client_only:
            continue
        node = defaults
        for part in name.split("."):
            assert isinstance(node, dict) and part in node, f"{key} is not a server option"
            node = node[part]
        assert spec["default"] == node, f"{key}: default {spec['default']!r}, the server's is {node!r}"
        assert spec.get("markdownDescription") or spec.get("description"), f"{key} has no description"
        checked += 1
    assert checked >= 30


def drive_code_server(tmp_path: Path, ws: Path, out: Path, settings: dict, flags: list[str], cfg: dict) -> dict:
    """Install the .vsix into a fresh code-server on `ws` with user `settings`, run drive.mjs with
    `cfg` (plus url, out, chromium and timeouts), and return its report (asserted ok). The driver's log and
    report, and code-server's log, go to `out`; the user data folder is `tmp_path/user-data`."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    data = tmp_path / "data"
    ud = tmp_path / "user-data"
    (ud / "User").mkdir(parents=True)
    (ud / "User" / "settings.json").write_text(json.dumps(settings, indent=1))
    env = {**os.environ, "TACIT_DATA": str(data), "TACIT_CONFIG": str(tmp_path)}
    common = ["--config", str(tmp_path / "code-server.yaml"), "--user-data-dir", str(ud),
              "--extensions-dir", str(ud / "ext")]

    install = subprocess.run(["node", str(CODE_SERVER), *common, "--force", "--install-extension", str(VSIX)],
                             env=env, capture_output=True, text=True, timeout=180)
    assert install.returncode == 0, install.stdout + install.stderr
    assert list((ud / "ext").glob("tacit.tacit-*")), install.stdout + install.stderr

    port = free_port()
    server_log = open(out / "code-server.log", "w")  # noqa: SIM115 - closed after the server stops
    proc = code_server("--bind-addr", f"127.0.0.1:{port}", "--auth", "none", *common, "--disable-telemetry",
                       "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override",
                       *flags, str(ws), env=env, stdout=server_log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        cfg = {"url": f"http://127.0.0.1:{port}/?folder={ws}", "out": str(out), "chromium": CHROMIUM,
               "ghostTimeoutMs": 180_000, "readyTimeoutMs": 180_000, **cfg}
        drive = subprocess.run(["node", str(E2E / "drive.mjs"), json.dumps(cfg)], cwd=E2E, capture_output=True,
                               text=True, timeout=800)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        server_log.close()
    (out / "drive.log").write_text(drive.stderr)
    assert drive.stdout.strip(), f"the driver printed no report (rc {drive.returncode}):\n{drive.stderr[-3000:]}"
    report = json.loads(drive.stdout.strip().splitlines()[-1])
    (out / "report.json").write_text(json.dumps(report, indent=1))
    assert report["ok"], f"{report.get('error')}\nsteps: {report['steps']}\nsee {out}"
    return report


@pytest.mark.timeout(900)
@pytest.mark.parametrize("mode", ["hooks", "inferred"])
def test_ghost_text_dismiss_and_accept_in_code_server(mode, model_path, tmp_path):
    require_editors()
    out = ARTIFACTS / mode
    ws = workspace(tmp_path)
    before = (ws / FILE).read_text()
    log = tmp_path / "requests.jsonl"
    ud = tmp_path / "user-data"
    settings = {**user_settings(tmp_path, log), "tacit.providerHooks": mode == "hooks"}
    flags = ["--enable-proposed-api", "tacit.tacit"] if mode == "hooks" else []
    report = drive_code_server(tmp_path, ws, out, settings, flags, {"file": FILE})

    # Which provider path the extension took is in its log (the Tacit output channel).
    ext_logs = list(ud.glob("logs/**/*Tacit*.log"))
    ext_log = "\n".join(p.read_text() for p in ext_logs)
    want = "provider hooks (proposed API inlineCompletionsAdditions): " + (
        "on" if mode == "hooks" else "off (tacit.providerHooks is off)")
    assert want in ext_log, f"extension logs {ext_logs}: {ext_log[:2000]}"

    # Escape: the suggestion that was shown is recorded as shown, then dismissed.
    after_escape = parse_signals(report["signals"]["afterEscape"])
    dismissed = [s["id"] for s in after_escape if s["kind"] == "dismissed"]
    assert len(dismissed) == 1, after_escape
    first = dismissed[0]
    assert [s["kind"] for s in after_escape if s["id"] == first] == ["shown", "dismissed"], after_escape
    assert all(not s["inferred"] for s in after_escape if s["id"] == first)

    # Tab: the editor text now holds the suggestion, and the server recorded shown, then accepted.
    saved = (ws / FILE).read_text()
    typed = before + "\n\ndef is_weekend(day):\n    return \n\n\ndef is_leap(year):\n    return "
    assert saved.startswith(typed) and saved.endswith("\n"), saved[len(before) - 50:]
    accepted_part, sep, rest = saved[len(typed):].partition("\n\n\ndef month_name_of(number):\n    return ")
    assert sep, saved[len(typed):]
    inserted = accepted_part
    ghost = report["ghosts"]["accepted"].split("\n")[0]
    assert ghost.strip() and inserted.startswith(ghost), (ghost, inserted)
    after_tab = parse_signals(report["signals"]["afterTab"])
    accepted = [s for s in after_tab if s["kind"] == "accepted"]
    assert len(accepted) == 1, after_tab
    second = accepted[0]["id"]
    assert second != first
    assert [s["kind"] for s in after_tab if s["id"] == second] == ["shown", "accepted"], after_tab
    assert accepted[0]["acceptedLength"] >= len(ghost.rstrip()) > 0

    # Ctrl+Right: the next word went in, the server recorded a partial accept of that length, then Escape.
    partial_ghost = report["ghosts"]["partial"].split("\n")[0]
    word = rest.rstrip("\n")
    assert word.strip() and partial_ghost.startswith(word), (word, partial_ghost)
    after_partial = parse_signals(report["signals"]["afterPartial"])
    third = next(s["id"] for s in after_partial if s["kind"] == "partiallyAccepted")
    kinds = [(s["kind"], s["acceptedLength"]) for s in after_partial if s["id"] == third]
    assert kinds == [("shown", None), ("partiallyAccepted", len(word)), ("dismissed", len(word))], after_partial

    # The server's own log says the same, and every signal it got was a well-formed one it kept or ignored.
    events = [e for e in read_log(log) if e["event"] == "signal"]
    by_id = {}
    for e in events:
        if e.get("kept"):
            by_id.setdefault(e["id"], []).append(e["kind"])
    assert by_id[first] == ["shown", "dismissed"], events
    assert by_id[second] == ["shown", "accepted"], events
    assert by_id[third] == ["shown", "partiallyAccepted", "dismissed"], events

    # Explain shows the prompt behind the last suggestion, with its sources.
    explain = report["explain"]
    assert explain and explain[0].startswith("# Prompt behind suggestion tacit-"), explain[:3]
    assert explain[1].startswith("# template: "), explain[:3]
    assert report["status"] and any(s.startswith("Tacit") for s in report["status"])

    shutil.copy(out / "ghost-text.png", ARTIFACTS / f"ghost-text-{mode}.png")
    if mode == "hooks":
        shutil.copy(out / "ghost-text.png", VSCODE / "screenshot.png")


SCHEDULER_DOC = '"""Meeting scheduling helpers."""\n'


@pytest.mark.timeout(900)
def test_a_definition_typed_in_an_unsaved_tab_reaches_the_prompt_in_code_server(model_path, tmp_path):
    """VS Code (files.autoSave off) sends the unsaved tab's edits; the server indexes that buffer, so
    the prompt of a call typed in another tab shows the definition the disk does not have yet."""
    require_editors()
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "scheduler.py").write_text(SCHEDULER_DOC)
    (ws / "main.py").write_text("from scheduler import book_meeting_room\n\n\ndef plan_standup(team):")
    settings = {**user_settings(tmp_path, tmp_path / "requests.jsonl"), "tacit.context.index": True}
    signature = "def book_meeting_room(organizer_email: str, attendee_count: int, duration_minutes: int = 30) -> str:"
    definition = ["", "", signature, "    return organizer_email"]
    report = drive_code_server(tmp_path, ws, ARTIFACTS / "unsaved", settings, [], {
        "file": "main.py", "unsaved": {"file": "scheduler.py", "definition": definition,
                                       "call": "    booking = book_meeting_room("}})
    explain = report["explain"]
    assert explain and explain[0].startswith("# Prompt behind suggestion tacit-"), explain[:3]
    assert "# [definitions] scheduler.py" in "\n".join(explain), explain[:12]
    assert report["dirty"] == 1  # scheduler.py's tab still holds unsaved changes
    assert (ws / "scheduler.py").read_text() == SCHEDULER_DOC
