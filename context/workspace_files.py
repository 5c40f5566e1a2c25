"""Which files of the workspace the index may read, and reading them safely.

The index reads the user's disk on its own, in the background, so it must be careful in
ways an editor opening one file is not: it respects `.gitignore` (root and nested, plus
`.git/info/exclude`) and skips dependency and build folders, never opens secret-bearing
files, never follows a symlink out of the workspace (nor round a symlink cycle), and
reads only regular, UTF-8 text files under a size limit.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from context import syntax
from context.secrets import is_secret_path

SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", "target",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".eggs", ".next", ".nuxt",
    ".gradle", ".idea", ".cache",
})
BINARY_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class FileData:
    """The bytes of an eligible file (valid UTF-8) and its stat."""

    data: bytes
    mtime: float
    size: int


class WorkspaceFiles:
    """The roots of a workspace and the rules for what in them may be indexed."""

    def __init__(self, roots: list[Path], max_file_bytes: int = 1_000_000):
        self.roots = [Path(os.path.realpath(r)) for r in roots]
        self._prefixes = [os.path.join(str(r), "") for r in self.roots]  # "/ws/" (and "/" for "/")
        self.max_file_bytes = max_file_bytes
        self._withdrawn: set[Path] = set()  # roots that left the workspace (`withdraw`)
        self._ignores: dict[Path, GitIgnoreSpec | None] = {}
        self._lock = threading.Lock()

    def root_of(self, path: Path) -> Path | None:
        """The root that lexically contains `path` (absolute), or None (also under a withdrawn root)."""
        text = str(path)
        for root, prefix in zip(self.roots, self._prefixes, strict=True):
            if (text.startswith(prefix) or text == prefix[:-1]) and root not in self._withdrawn:
                return root
        return None

    def withdraw(self, root: Path) -> None:
        """`root` left the workspace: from now on nothing under it is located, walked or read. It stays
        in `roots`, so that the other roots' files keep their keys."""
        self._withdrawn.add(Path(os.path.realpath(root)))

    def locate(self, path: Path | str) -> Path | None:
        """`path` made absolute and expressed under one of the roots (which are resolved, so a
        path through a symlinked parent is resolved too), or None when it is outside them."""
        absolute = Path(os.path.abspath(path))
        if self.root_of(absolute) is not None:
            return absolute
        real = Path(os.path.realpath(absolute.parent)) / absolute.name
        return real if self.root_of(real) is not None else None

    def inside(self, path: Path) -> bool:
        """True when `path`, with every symlink resolved, lies under one of the roots."""
        return self.root_of(Path(os.path.realpath(path))) is not None

    def rel(self, path: Path) -> str:
        """The key of a file in the index: its posix path relative to its root (root name first
        when there are several roots)."""
        root = self.root_of(path)
        if root is None:
            raise ValueError(f"{path} is outside the workspace")
        rel = path.relative_to(root).as_posix()
        return f"{root.name}/{rel}" if len(self.roots) > 1 else rel

    def absolute(self, rel: str) -> Path:
        """The inverse of `rel`."""
        if len(self.roots) == 1:
            return self.roots[0] / rel
        head, _, tail = rel.partition("/")
        root = next((r for r in self.roots if r.name == head), self.roots[0])
        return root / tail

    # ---- ignore rules

    def invalidate_ignores(self, directory: Path | None = None) -> None:
        """Forget cached `.gitignore` rules (of one directory, or all)."""
        with self._lock:
            if directory is None:
                self._ignores.clear()
            else:
                self._ignores.pop(directory, None)

    def _spec(self, directory: Path, root: Path) -> GitIgnoreSpec | None:
        with self._lock:
            if directory in self._ignores:
                return self._ignores[directory]
        lines = _read_lines(directory / ".gitignore") if self.inside(directory) else []
        if directory == root:
            lines += _read_lines(root / ".git" / "info" / "exclude")
        spec = GitIgnoreSpec.from_lines(lines) if lines else None
        with self._lock:
            self._ignores[directory] = spec
        return spec

    def is_ignored(self, path: Path, is_dir: bool = False) -> bool:
        """True when `path` is in a skipped folder or matched by a `.gitignore` above it."""
        root = self.root_of(path)
        if root is None:
            return True
        parts = path.relative_to(root).parts
        if any(part in SKIP_DIRS for part in (parts if is_dir else parts[:-1])):
            return True
        decision = False
        for depth in range(len(parts)):  # the root's rules first; deeper .gitignore files override
            spec = self._spec(root.joinpath(*parts[:depth]), root)
            if spec is None:
                continue
            include = spec.check_file("/".join(parts[depth:]) + ("/" if is_dir else "")).include
            if include is not None:
                decision = include
        return decision

    def is_candidate(self, path: Path) -> bool:
        """True for a file the index would read: a known language, not secret, not ignored."""
        root = self.root_of(path)
        return (root is not None and syntax.language_for_path(path.name) is not None
                and not is_secret_path(path.relative_to(root)) and not self.is_ignored(path))

    def may_hold(self, path: Path) -> bool:
        """True for a file whose text the index may hold although it is not read from disk (an open
        editor buffer): a candidate whose real path, every symlink resolved, lies inside and is not
        secret either."""
        real = Path(os.path.realpath(path))
        real_root = self.root_of(real)
        return (self.is_candidate(path) and real_root is not None
                and not is_secret_path(real.relative_to(real_root)))

    # ---- walking

    def walk(self, top: Path | None = None) -> Iterator[Path]:
        """Every candidate file under the roots (or under `top`), following only symlinks that
        stay inside."""
        visited: set[tuple[int, int]] = set()
        for start in [top] if top is not None else self.roots:
            yield from self._walk(start, visited)

    def _walk(self, top: Path, visited: set[tuple[int, int]]) -> Iterator[Path]:
        stack = [top]
        while stack:
            directory = stack.pop()
            if not self.inside(directory):
                continue  # `top` itself may be a link out of the workspace
            try:
                info = directory.stat()
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError:
                continue
            if (info.st_dev, info.st_ino) in visited:
                continue  # a symlink cycle, or a folder already reached through a link
            visited.add((info.st_dev, info.st_ino))
            for entry in entries:
                path = Path(entry.path)
                if entry.is_symlink() and not self.inside(path):
                    continue
                if entry.is_dir():
                    if entry.name not in SKIP_DIRS and not self.is_ignored(path, is_dir=True):
                        stack.append(path)
                elif entry.is_file() and self.is_candidate(path):
                    yield path

    # ---- reading

    def read(self, path: Path) -> tuple[FileData | None, str]:
        """The file's bytes if it may be indexed, else None and the reason it was skipped."""
        root = self.root_of(path)
        if root is None:
            return None, "outside"
        if is_secret_path(path.relative_to(root)):
            return None, "secret"  # decided on the name alone: the file is never opened
        real = Path(os.path.realpath(path))
        real_root = self.root_of(real)
        if real_root is None:
            return None, "outside"
        if is_secret_path(real.relative_to(real_root)):
            return None, "secret"
        try:
            info = real.stat()
            if not stat.S_ISREG(info.st_mode):
                return None, "not_a_file"
            if info.st_size > self.max_file_bytes:
                return None, "too_large"
            with open(real, "rb") as f:
                data = f.read(self.max_file_bytes + 1)
        except OSError:
            return None, "unreadable"
        return _check_content(data, info, self.max_file_bytes)


def _check_content(data: bytes, info: os.stat_result, limit: int) -> tuple[FileData | None, str]:
    if len(data) > limit:
        return None, "too_large"
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return None, "binary"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not_utf8"
    return FileData(data, info.st_mtime, len(data)), "ok"


def _read_lines(path: Path) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(1_000_000).splitlines()
    except OSError:
        return []
