"""The adapters trained for each workspace, and which one is active.

Layout, under the data directory (`TACIT_DATA`):

    adapters/<workspace key>/<adapter id>/adapter.gguf   the LoRA in llama.cpp's GGUF adapter format
    adapters/<workspace key>/<adapter id>/meta.json      base model, examples, steps, minutes, losses
    adapters/<workspace key>/active.json                 {"id": ..., "history": [earlier ids]}

Every adapter is kept, so a user can switch back (`rollback` undoes the last switch). The running
server polls `active.json` and hot-swaps the adapter into its engine without reloading the model.
Writes go through a temporary file and a rename, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .store import data_dir

ADAPTER_FILE = "adapter.gguf"


@dataclass(frozen=True)
class Adapter:
    id: str
    path: Path  # the GGUF adapter file
    meta: dict[str, Any]

    @property
    def base_model(self) -> str:
        return str(self.meta.get("base_model", ""))


def workspace_key(workspace: Path | str) -> str:
    """A directory name for a workspace folder: its name and a hash of its real path."""
    real = os.path.realpath(str(workspace))
    return f"{Path(real).name or 'root'}-{hashlib.sha256(real.encode()).hexdigest()[:12]}"


def registry(workspace: Path | str) -> Path:
    return data_dir() / "adapters" / workspace_key(workspace)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def install(workspace: Path | str, adapter_file: Path, meta: dict[str, Any], activate: bool = True) -> Adapter:
    """Copy a trained adapter into the workspace's registry (and make it the active one)."""
    base = registry(workspace)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    digest = hashlib.sha256(adapter_file.read_bytes()).hexdigest()[:6]
    adapter_id = f"{stamp}-{digest}"
    for n in range(2, 1000):  # never reuse a folder: an adapter id names one file forever
        try:
            (base / adapter_id).mkdir(parents=True)
            break
        except FileExistsError:
            adapter_id = f"{stamp}-{digest}-{n}"
    folder = base / adapter_id
    shutil.copyfile(adapter_file, folder / (ADAPTER_FILE + ".part"))
    os.replace(folder / (ADAPTER_FILE + ".part"), folder / ADAPTER_FILE)
    _write_json(folder / "meta.json", {**meta, "id": adapter_id, "workspace": os.path.realpath(str(workspace)),
                                       "created": time.time()})
    if activate:
        use(workspace, adapter_id)
    return get(workspace, adapter_id)


def get(workspace: Path | str, adapter_id: str) -> Adapter:
    if not adapter_id or "/" in adapter_id or "\\" in adapter_id or adapter_id.startswith("."):
        raise KeyError(f"not an adapter id: {adapter_id!r}")
    folder = registry(workspace) / adapter_id
    if not (folder / ADAPTER_FILE).is_file():
        raise KeyError(f"no adapter {adapter_id!r} for {workspace}")
    return Adapter(adapter_id, folder / ADAPTER_FILE, _read_json(folder / "meta.json"))


def adapters(workspace: Path | str) -> list[Adapter]:
    """Every adapter trained for the workspace, oldest first."""
    base = registry(workspace)
    if not base.is_dir():
        return []
    return [get(workspace, p.name) for p in sorted(base.iterdir()) if (p / ADAPTER_FILE).is_file()]


def active_file(workspace: Path | str) -> Path:
    return registry(workspace) / "active.json"


def active(workspace: Path | str) -> Adapter | None:
    """The adapter the workspace uses now, if any (and if it still exists)."""
    adapter_id = _read_json(active_file(workspace)).get("id")
    if not adapter_id:
        return None
    try:
        return get(workspace, adapter_id)
    except KeyError:
        return None


def use(workspace: Path | str, adapter_id: str | None) -> None:
    """Switch the workspace to an adapter (None: the base model), remembering the previous choice."""
    if adapter_id is not None:
        get(workspace, adapter_id)  # must exist
    path = active_file(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = _read_json(path)
    history = [*state.get("history", []), state.get("id")] if "id" in state else state.get("history", [])
    _write_json(path, {"id": adapter_id, "history": history[-50:]})


def rollback(workspace: Path | str) -> str | None:
    """Go back to the adapter used before the last switch; returns it (None: the base model)."""
    path = active_file(workspace)
    state = _read_json(path)
    history = list(state.get("history", []))
    if not history:
        raise KeyError("nothing to roll back to")
    previous = history.pop()
    _write_json(path, {"id": previous, "history": history})
    return previous
