"""Recommender steps over the store: train (resumable), evaluate, list and show models."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from sqlmodel import select

from alkd_tui.config import build
from alkd_tui.data import load_dataset
from alkd_tui.errors import BadInputError, NotFoundError, StepFailedError
from alkd_tui.pipeline.datasets import get_dataset
from alkd_tui.pipeline.runs import finish_run, start_run
from alkd_tui.progress import Reporter, silent
from alkd_tui.rec.checkpoint import load_checkpoint, save_atomic, save_checkpoint
from alkd_tui.rec.evaluate import evaluate
from alkd_tui.rec.instances import Instances
from alkd_tui.rec.models.base import SessionRecommender
from alkd_tui.rec.trainer import TrainConfig, TrainState, known_architectures, train_model
from alkd_tui.store import Dataset, RecModel, Store, utcnow

ROLES = ("teacher", "student", "baseline")
SPLITS = ("train", "valid", "test")


def files_dir(store: Store) -> Path:
    """Where large files of this store live: `<db name>.files/` beside the database."""
    return store.path.parent / f"{store.path.name}.files"


def config_hash(dataset_id: int, role: str, cfg: TrainConfig) -> str:
    """Identifies a training job: same dataset, role and config, same model."""
    blob = json.dumps(
        {"dataset": dataset_id, "role": role, "config": cfg.model_dump(mode="json")}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _summary(row: RecModel) -> dict[str, Any]:
    return {
        "model": row.id,
        "name": row.name,
        "dataset_id": row.dataset_id,
        "architecture": row.architecture,
        "role": row.role,
        "dim": row.dim,
        "status": row.status,
        "metrics": row.metrics,
        "config": row.config.get("train", {}),
        "checkpoint": row.checkpoint_path,
        "parent": row.parent_id,
        "run": row.run_id,
        "created_at": row.created_at.isoformat(timespec="seconds"),
    }


def get_model(store: Store, name: str) -> RecModel:
    """The model called `name` (or with that id), or a `NotFoundError`."""
    with store.session() as orm:
        row = orm.exec(select(RecModel).where(RecModel.name == name)).first()
        if row is None and name.isdigit():
            row = orm.get(RecModel, int(name))
    if row is None:
        raise NotFoundError(f"no model {name!r} in {store.path} (see `alkd models list`)")
    return row


def list_models(store: Store, dataset: str | None = None) -> list[dict[str, Any]]:
    """Every model (of `dataset`, if given), oldest first."""
    with store.session() as orm:
        query = select(RecModel).order_by(RecModel.id)
        if dataset is not None:
            query = query.where(RecModel.dataset_id == get_dataset(store, dataset).id)
        return [_summary(row) for row in orm.exec(query)]


def load_trained(store: Store, row: RecModel) -> SessionRecommender:
    """The trained model of a `done` model row, rebuilt from its checkpoint."""
    if row.status != "done" or row.checkpoint_path is None:
        raise BadInputError(f"model {row.name!r} is {row.status}, not trained")
    model, _ = load_checkpoint(store.path.parent / row.checkpoint_path, row.checkpoint_sha256)
    return model


def _unique_name(store: Store, base: str, digest: str) -> str:
    with store.session() as orm:
        taken = orm.exec(select(RecModel).where(RecModel.name == base)).first()
    return base if taken is None else f"{base}-{digest[:6]}"


def train_recommender(
    store: Store,
    dataset: str,
    role: str,
    config: dict[str, Any],
    *,
    name: str | None = None,
    force: bool = False,
    threads: int | None = None,
    report: Reporter = silent,
) -> dict[str, Any]:
    """Train (or resume, or reuse) a recommender on `dataset`; returns its summary.

    A model with the same dataset, role and config is reused when done (unless `force`) and
    resumed from its last epoch when an earlier run was interrupted.
    """
    if role not in ROLES:
        raise BadInputError(f"--role {role!r}: use {', '.join(ROLES)}")
    cfg = build(TrainConfig, config)
    if cfg.canonical_architecture() not in known_architectures():
        raise BadInputError(
            f"--model {cfg.architecture!r}: known are {', '.join(known_architectures())}"
        )
    if threads:
        torch.set_num_threads(threads)
    ds_row = get_dataset(store, dataset)
    assert ds_row.id is not None
    digest = config_hash(ds_row.id, role, cfg)
    with store.session() as orm:
        previous = orm.exec(
            select(RecModel)
            .where(RecModel.config["hash"].as_string() == digest)
            .order_by(RecModel.id.desc())  # type: ignore[union-attr]
        ).first()
    if previous is not None and previous.status == "done" and not force:
        return {**_summary(previous), "reused": True}

    ds = load_dataset(store, ds_row.name)
    resume_state: TrainState | None = None
    if (
        previous is not None
        and previous.status in ("training", "interrupted", "failed")
        and not force
    ):
        row = previous
        resume_path = files_dir(store) / "models" / f"{row.id}.resume.pt"
        if resume_path.is_file():
            saved = torch.load(resume_path, map_location="cpu", weights_only=False)
            resume_state = TrainState(**saved)
    else:
        arch = cfg.canonical_architecture()
        base = name or f"{ds_row.name}-{arch}-{role}-d{cfg.dim}-s{cfg.seed}"
        if name is not None:
            with store.session() as orm:
                if orm.exec(select(RecModel).where(RecModel.name == name)).first() is not None:
                    raise BadInputError(f"a model called {name!r} already exists")
        with store.session() as orm:
            row = RecModel(
                name=_unique_name(store, base, digest),
                dataset_id=ds_row.id,
                architecture=arch,
                role=role,
                dim=cfg.dim,
                status="training",
                config={"hash": digest, "train": cfg.model_dump(mode="json")},
            )
            orm.add(row)
    run_id = start_run(
        store,
        "train",
        row.name,
        {"dataset": ds_row.name, "role": role, **cfg.model_dump(mode="json")},
        cfg.seed,
    )
    _set(store, row.id, status="training", run_id=run_id)
    resume_path = files_dir(store) / "models" / f"{row.id}.resume.pt"

    def on_epoch(state: TrainState) -> None:
        save_atomic(state.__dict__, resume_path)

    try:
        result = train_model(ds, cfg, report=report, resume=resume_state, on_epoch=on_epoch)
    except KeyboardInterrupt:
        _set(store, row.id, status="interrupted")
        finish_run(store, run_id, "interrupted")
        raise
    except BadInputError:
        _set(store, row.id, status="failed")
        finish_run(store, run_id, "failed", error="bad input")
        raise
    except Exception as exc:
        _set(store, row.id, status="failed")
        finish_run(store, run_id, "failed", error=f"{type(exc).__name__}: {exc}")
        raise StepFailedError(f"training {row.name} failed: {type(exc).__name__}: {exc}") from exc

    checkpoint = files_dir(store) / "models" / f"{row.id}.pt"
    sha = save_checkpoint(result.model, cfg.model_dump(mode="json"), checkpoint)
    metrics = {
        split: evaluate(result.model, Instances.of_split(ds, split, cfg.max_len))
        for split in ("valid", "test")
    }
    metrics["test_excluding_own"] = evaluate(
        result.model, Instances.of_split(ds, "test", cfg.max_len), exclude_own=True
    )
    metrics["training"] = {
        "best_epoch": result.best_epoch,
        "epochs": len(result.history),
        "seconds": round(result.seconds, 3),
    }
    _set(
        store, row.id, status="done", metrics=metrics, checkpoint_path=str(checkpoint.relative_to(store.path.parent)),
        checkpoint_sha256=sha, created_at=utcnow(),
    )  # fmt: skip
    finish_run(store, run_id, "done", metrics=metrics, step="train")
    resume_path.unlink(missing_ok=True)
    summary = _summary(get_model(store, row.name))
    summary["history"] = result.history
    return summary


def dataset_name(store: Store, row: RecModel) -> str:
    """The name of the dataset a model was trained on."""
    with store.session() as orm:
        ds_row = orm.get(Dataset, row.dataset_id)
    assert ds_row is not None
    return ds_row.name


def _set(store: Store, model_id: int | None, **changes: Any) -> None:
    with store.session() as orm:
        row = orm.get(RecModel, model_id)
        assert row is not None
        for key, value in changes.items():
            setattr(row, key, value)


def evaluate_model(
    store: Store, name: str, split: str = "test", *, exclude_own: bool = False
) -> dict[str, Any]:
    """Evaluate a stored model on a split of its dataset (full ranking over all items)."""
    if split not in SPLITS:
        raise BadInputError(f"--split {split!r}: use {', '.join(SPLITS)}")
    row = get_model(store, name)
    model = load_trained(store, row)
    ds = load_dataset(store, dataset_name(store, row))
    metrics = evaluate(model, Instances.of_split(ds, split, model.max_len), exclude_own=exclude_own)
    return {
        **metrics,
        "model": row.id,
        "name": row.name,
        "split": split,
        "exclude_own": exclude_own,
    }
