"""Checkpoint files: a trained recommender's weights and how to rebuild it, with a checksum;
and the resumable state of an interrupted training.

Both are safetensors files: tensors and a JSON header, nothing that can run code when
loaded (no pickle). A file that cannot be written whole (a full disk) leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from alkd_tui.errors import StepFailedError
from alkd_tui.rec.device import place
from alkd_tui.rec.models.base import SessionRecommender

#: The checkpoint format written now; 1 was a torch (pickle) file, read weights-only.
FORMAT = 2
_META = "alkd"


def sha256_of(path: Path) -> str:
    """The file's sha256, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path to write `path` through: renamed over it when the block succeeds,
    removed when it fails (a crash never leaves half a file, a full disk no temporary one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def split_tensors(value: Any, tensors: dict[str, torch.Tensor], prefix: str = "t") -> Any:
    """`value` with every tensor moved into `tensors` (replaced by {"$tensor": key}); dicts
    with keys other than strings keep them ({"$items": [[key, value], ...]}). JSON-ready."""
    if isinstance(value, torch.Tensor):
        key = f"{prefix}{len(tensors)}"
        tensors[key] = value.detach().cpu().contiguous().clone()  # a GPU's too: files are CPU
        return {"$tensor": key}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: split_tensors(v, tensors) for k, v in value.items()}
        return {"$items": [[k, split_tensors(v, tensors)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [split_tensors(v, tensors) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a checkpoint")


def join_tensors(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of `split_tensors`."""
    if isinstance(value, dict):
        if set(value) == {"$tensor"}:
            return tensors[value["$tensor"]]
        if set(value) == {"$items"}:
            return {k: join_tensors(v, tensors) for k, v in value["$items"]}
        return {k: join_tensors(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [join_tensors(v, tensors) for v in value]
    return value


def save_tree(tree: dict[str, Any], path: Path) -> None:
    """Write a tree of dicts, lists, numbers, strings and tensors as one safetensors file
    (the tensors as tensors, the rest as the JSON header), atomically."""
    from safetensors.torch import save

    tensors: dict[str, torch.Tensor] = {}
    skeleton = split_tensors(tree, tensors)
    data = save(tensors, metadata={_META: json.dumps(skeleton)})
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        fh.write(data)


def load_tree(path: Path) -> dict[str, Any]:
    """A tree written by `save_tree` (nothing in the file can run code)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), "pt") as fh:  # type: ignore[no-untyped-call]
            meta = fh.metadata() or {}
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118
        skeleton = json.loads(meta[_META])
    except (SafetensorError, OSError, KeyError, ValueError) as exc:
        raise StepFailedError(f"{path} is not a readable alkd file: {exc}") from None
    return join_tensors(skeleton, tensors)  # type: ignore[no-any-return]


def save_checkpoint(model: SessionRecommender, config: dict[str, Any], path: Path) -> str:
    """Write `model` (weights, architecture, sizes, hyper-parameters, config); returns its sha256."""
    save_tree(
        {
            "format": FORMAT,
            "architecture": model.architecture,
            "n_items": model.n_items,
            "dim": model.dim,
            "max_len": model.max_len,
            "hparams": model.hparams,
            "config": config,
            "state_dict": dict(model.state_dict()),
        },
        path,
    )
    return sha256_of(path)


def _read(path: Path) -> dict[str, Any]:
    if path.suffix == ".pt":  # format 1 (earlier alkd): tensors only, read weights-only
        return torch.load(path, map_location="cpu", weights_only=True)  # type: ignore[no-any-return]
    return load_tree(path)


def load_checkpoint(
    path: Path, expected_sha256: str | None = None
) -> tuple[SessionRecommender, dict[str, Any]]:
    """Rebuild the model saved at `path` (checked against `expected_sha256`); returns it and its config."""
    from alkd_tui.rec.trainer import TrainConfig, make_recommender

    if not path.is_file():
        raise StepFailedError(f"checkpoint {path} is missing")
    if expected_sha256 is not None and sha256_of(path) != expected_sha256:
        raise StepFailedError(
            f"checkpoint {path} does not match its recorded sha256 (changed since training?)"
        )
    data = _read(path)
    cfg = TrainConfig.model_validate(data["config"])
    model = make_recommender(cfg, int(data["n_items"]))
    model.load_state_dict(data["state_dict"])
    model.eval()
    return place(model), data["config"]  # type: ignore[return-value]


def save_state(state: dict[str, Any], path: Path) -> None:
    """Write a training's resumable state (`TrainState` as a dict: weights, optimizer,
    history), atomically."""
    save_tree(state, path)


def load_state(path: Path) -> dict[str, Any]:
    """A resumable state written by `save_state`."""
    return load_tree(path)
