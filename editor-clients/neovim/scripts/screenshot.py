"""Take editor-clients/neovim/screenshot.png: real Neovim (TUI in tmux) with Tacit ghost text.

Neovim runs in a tmux pane with the plugin and the real server; pynvim drives it over its
--listen socket (type, wait until a complete suggestion is on screen), then `tmux capture-pane -e`
reads the pane with its colours and Pillow draws that grid, cell by cell, in DejaVu Sans Mono.

    .venv/bin/python editor-clients/neovim/scripts/screenshot.py [--nvim .editors/nvim-0.12/bin/nvim]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pynvim
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[3]
PLUGIN = ROOT / "editor-clients" / "neovim"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
COLS, ROWS = 92, 24

SOURCE = '''import math


def circle_area(radius):
    """Return the area of a circle."""
    return math.pi * radius ** 2


'''

INIT = """
vim.opt.runtimepath:prepend({plugin})
vim.o.termguicolors = true
vim.o.swapfile = false
vim.o.number = true
vim.o.laststatus = 2
vim.o.expandtab = true
vim.o.shiftwidth = 4
require("tacit").setup({{
  server = {{ cmd = {{ {tacit}, "serve" }}, options = vim.json.decode({options}) }},
}})
"""

SHOWN = """
local s = require("tacit.suggestion").bufs[vim.api.nvim_get_current_buf()]
local item = s and s.shown and s.shown.items[s.shown.index]
return item and { complete = item.complete, text = item.text } or vim.NIL
"""

# xterm 256-colour palette
BASE16 = ["000000", "cd0000", "00cd00", "cdcd00", "0000ee", "cd00cd", "00cdcd", "e5e5e5",
          "7f7f7f", "ff0000", "00ff00", "ffff00", "5c5cff", "ff00ff", "00ffff", "ffffff"]


def palette(n: int) -> tuple[int, int, int]:
    if n < 16:
        h = BASE16[n]
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return steps[n // 36], steps[(n // 6) % 6], steps[n % 6]
    v = 8 + (n - 232) * 10
    return v, v, v


def parse(ansi: str, default_fg, default_bg):
    """ANSI text from capture-pane -e -> rows of (char, fg, bg, bold, italic)."""
    rows = []
    fg, bg, bold, italic = default_fg, default_bg, False, False
    for line in ansi.split("\n")[:ROWS]:
        cells = []
        for token in re.split(r"(\x1b\[[0-9;:]*m)", line):
            if token.startswith("\x1b["):
                params = [int(p) if p else 0 for p in re.split(r"[;:]", token[2:-1])] or [0]
                i = 0
                while i < len(params):
                    p = params[i]
                    if p == 0:
                        fg, bg, bold, italic = default_fg, default_bg, False, False
                    elif p == 1:
                        bold = True
                    elif p == 3:
                        italic = True
                    elif p == 22:
                        bold = False
                    elif p == 23:
                        italic = False
                    elif p == 39:
                        fg = default_fg
                    elif p == 49:
                        bg = default_bg
                    elif 30 <= p <= 37 or 90 <= p <= 97:
                        fg = palette(p - 30 if p < 90 else p - 82)
                    elif 40 <= p <= 47 or 100 <= p <= 107:
                        bg = palette(p - 40 if p < 100 else p - 92)
                    elif p in (38, 48) and i + 1 < len(params):
                        if params[i + 1] == 5:
                            color = palette(params[i + 2])
                            i += 2
                        else:
                            color = tuple(params[i + 2: i + 5])
                            i += 4
                        if p == 38:
                            fg = color
                        else:
                            bg = color
                    i += 1
            else:
                cells.extend((ch, fg, bg, bold, italic) for ch in token)
        rows.append(cells)
    return rows


def render(rows, default_bg, out: Path) -> None:
    font = ImageFont.truetype(FONT, 16)
    bold_font = ImageFont.truetype(FONT.replace(".ttf", "-Bold.ttf"), 16)
    italic_font = ImageFont.truetype(FONT.replace(".ttf", "-Oblique.ttf"), 16)
    left, top, right, bottom = font.getbbox("M")
    cw, ch = int(font.getlength("M")), 20
    pad = 12
    img = Image.new("RGB", (COLS * cw + 2 * pad, ROWS * ch + 2 * pad), default_bg)
    draw = ImageDraw.Draw(img)
    for y, cells in enumerate(rows):
        for x, (c, fg, bg, bold, italic) in enumerate(cells[:COLS]):
            x0, y0 = pad + x * cw, pad + y * ch
            if bg != default_bg:
                draw.rectangle([x0, y0, x0 + cw - 1, y0 + ch - 1], fill=bg)
            if c.strip():
                f = bold_font if bold else italic_font if italic else font
                draw.text((x0, y0 + 1), c, fill=fg, font=f)
    img.save(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nvim", default=str(ROOT / ".editors" / "nvim-0.12" / "bin" / "nvim"))
    ap.add_argument("--out", default=str(PLUGIN / "screenshot.png"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tacit-shot-"))
    ws = tmp / "demo"
    (ws / ".git").mkdir(parents=True)
    path = ws / "geometry.py"
    path.write_text(SOURCE)
    options = {"context": {"index": False}, "completion": {"maxLines": 6},
               "signals": {"record": False}}
    init = tmp / "init.lua"
    init.write_text(INIT.format(plugin=json.dumps(str(PLUGIN)), tacit=json.dumps(str(ROOT / ".venv/bin/tacit")),
                                options=json.dumps(json.dumps(options))))
    sock = tmp / "nvim.sock"
    session = f"tacit-shot-{os.getpid()}"
    env = {**os.environ, "TACIT_CONFIG": str(tmp), "TERM": "xterm-256color"}
    subprocess.run(["tmux", "-f", "/dev/null", "new-session", "-d", "-s", session, "-x", str(COLS), "-y", str(ROWS),
                    f"{args.nvim} -u {init} --listen {sock} {path}"], check=True, env=env, cwd=ws)
    subprocess.run(["tmux", "set-option", "-t", session, "-g", "terminal-overrides", ",*:RGB"], check=True)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.1)
        nvim = pynvim.attach("socket", path=str(sock))
        deadline = time.monotonic() + 120
        while nvim.exec_lua("return require('tacit.client').server.state") != "ready":
            if time.monotonic() > deadline:
                raise SystemExit("server not ready")
            time.sleep(0.2)
        nvim.command("normal! G")
        nvim.input("i")
        for ch in "def circle_circumference(radius):\n":
            nvim.input("<CR>" if ch == "\n" else ch)
            time.sleep(0.05)
        deadline = time.monotonic() + 180
        while True:
            shown = nvim.exec_lua(SHOWN)
            if shown and shown["complete"]:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"no complete suggestion: {shown}")
            time.sleep(0.2)
        time.sleep(1.0)  # let the TUI redraw
        ansi = subprocess.run(["tmux", "capture-pane", "-p", "-e", "-t", session], check=True,
                              capture_output=True, text=True).stdout
        default_fg, default_bg = (224, 226, 234), (20, 22, 27)  # Neovim's default NvimLightGrey2 / NvimDarkGrey2
        render(parse(ansi, default_fg, default_bg), default_bg, Path(args.out))
        print(f"wrote {args.out}; suggestion: {shown['text']!r}")
        try:
            nvim.command("qa!")
        except Exception:
            pass
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


if __name__ == "__main__":
    main()
