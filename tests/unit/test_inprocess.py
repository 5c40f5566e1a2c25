"""`tacit complete` / `tacit explain` read the file they are pointed at: bad input is a clear error."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from lsp_server.errors import TacitError
from lsp_server.inprocess import MAX_SOURCE_BYTES, read_position


def test_a_position_becomes_an_offset_with_the_column_clamped(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("x = 1\nyy = 2\n")
    assert read_position(src, 2, 3) == ("x = 1\nyy = 2\n", 8, 2)
    assert read_position(src, 2, 99)[1:] == (12, 6)  # past the end of the line: its end
    assert read_position(src, 3, 1)[1:] == (13, 0)  # the empty line after the last newline
    with pytest.raises(TacitError, match="outside"):
        read_position(src, 9, 1)


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/zero")
@pytest.mark.timeout(10)
def test_what_is_not_a_regular_file_is_refused_not_read_forever(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # opening it would block until a writer came
    for path in (fifo, tmp_path, Path("/dev/zero")):  # /dev/zero: reading it never ends
        with pytest.raises(TacitError, match="not a regular file"):
            read_position(path, 1, 1)


def test_a_huge_or_binary_file_is_refused(tmp_path):
    big = tmp_path / "huge.log"
    with big.open("wb") as f:
        f.truncate(MAX_SOURCE_BYTES + 1)  # sparse: nothing written
    with pytest.raises(TacitError, match="more than the 16 MB"):
        read_position(big, 1, 1)
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"x = 1\n\xff\xfe\x00")
    with pytest.raises(TacitError, match="not UTF-8 text"):
        read_position(binary, 1, 1)
    with pytest.raises(TacitError, match="No such file"):
        read_position(tmp_path / "missing.py", 1, 1)
