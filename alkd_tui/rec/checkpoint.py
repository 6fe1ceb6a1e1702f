"""Checkpoint files: a trained recommender's weights and how to rebuild it, with a checksum."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import torch

from alkd_tui.errors import StepFailedError
from alkd_tui.rec.models.base import SessionRecommender


def sha256_of(path: Path) -> str:
    """The file's sha256, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_atomic(obj: Any, path: Path) -> None:
    """torch.save to a temporary file, then rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_checkpoint(model: SessionRecommender, config: dict[str, Any], path: Path) -> str:
    """Write `model` (weights, architecture, sizes, hyper-parameters, config); returns its sha256."""
    save_atomic(
        {
            "format": 1,
            "architecture": model.architecture,
            "n_items": model.n_items,
            "dim": model.dim,
            "max_len": model.max_len,
            "hparams": model.hparams,
            "config": config,
            "state_dict": model.state_dict(),
        },
        path,
    )
    return sha256_of(path)


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
    data = torch.load(path, map_location="cpu", weights_only=True)
    cfg = TrainConfig.model_validate(data["config"])
    model = make_recommender(cfg, int(data["n_items"]))
    model.load_state_dict(data["state_dict"])
    model.eval()
    return model, data["config"]
