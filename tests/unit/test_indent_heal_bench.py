"""bench/indent_heal.py: its holes are the rest of indented code lines, the cursor after the indentation."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import indent_heal  # noqa: E402

SOURCE = '''"""A module."""


def f(x):
    """Docstring line."""
    # a comment
    y = x + 1
    if y:
        return y
    return 0
'''


def test_holes_are_indented_code_lines_cut_after_their_indentation(tmp_path):
    (tmp_path / "m.py").write_text(SOURCE)
    (tmp_path / "notes.txt").write_text("    indented prose\n")
    hs = indent_heal.holes(tmp_path, 10, seed=0)
    assert sorted(h["truth"] for h in hs) == ["if y:", "return 0", "return y", "y = x + 1"]
    for h in hs:
        doc, cur = h["document"], h["cursor"]
        assert doc[:cur] + h["truth"] + doc[cur:] == SOURCE
        assert doc[doc.rfind("\n", 0, cur) + 1:cur].strip() == "" and doc[cur] == "\n"
    assert indent_heal.holes(tmp_path, 2, seed=0) == indent_heal.holes(tmp_path, 2, seed=0)
    assert len(indent_heal.holes(tmp_path, 2, seed=0)) == 2
