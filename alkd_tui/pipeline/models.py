"""Recommender steps over the store: train (resumable), evaluate, list and show models.

torch loads only in the functions that train, load or evaluate a model: listing and showing
models stays quick (the TUI opens its screens with them)."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from alkd_tui.config import build
from alkd_tui.data import load_dataset
from alkd_tui.errors import BadInputError, NotFoundError
from alkd_tui.pipeline.datasets import get_dataset
from alkd_tui.pipeline.results import ModelSummary
from alkd_tui.pipeline.run_records import recorded_run, shown_status
from alkd_tui.progress import Reporter, silent
from alkd_tui.rec.settings import ROLES, TrainSettings
from alkd_tui.store import Dataset, RecModel, Run, Store, utcnow

if TYPE_CHECKING:
    from alkd_tui.data.canonical import SessionDataset
    from alkd_tui.rec.loop import TrainResult, TrainState
    from alkd_tui.rec.models.base import SessionRecommender

    Fit = Callable[[SessionDataset, TrainState | None, Callable[[TrainState], None]], TrainResult]

SPLITS = ("train", "valid", "test")


def resume_file(store: Store, model_id: int | None) -> Path:
    """Where an unfinished training of model `model_id` keeps its resumable state."""
    return store.files_dir / "models" / f"{model_id}.resume.safetensors"


def _summary(row: RecModel, status: str | None = None) -> ModelSummary:
    return ModelSummary(
        model=row.id,
        name=row.name,
        dataset_id=row.dataset_id,
        architecture=row.architecture,
        role=row.role,
        dim=row.dim,
        status=status or row.status,
        metrics=row.metrics,
        config=row.config.get("train", {}),
        checkpoint=row.checkpoint_path,
        parent=row.parent_id,
        run=row.run_id,
        created_at=row.created_at.isoformat(timespec="seconds"),
    )


def get_model(store: Store, name: str) -> RecModel:
    """The model called `name` (or with that id), or a `NotFoundError`."""
    with store.reading() as orm:
        row = orm.exec(select(RecModel).where(RecModel.name == name)).first()
        if row is None and name.isdigit():
            row = orm.get(RecModel, int(name))
    if row is None:
        raise NotFoundError(f"no model {name!r} in {store.where} (see `alkd models list`)")
    return row


def list_models(store: Store, dataset: str | None = None) -> list[ModelSummary]:
    """Every model (of `dataset`, if given), oldest first."""
    with store.reading() as orm:
        query = select(RecModel).order_by(RecModel.id)
        if dataset is not None:
            query = query.where(RecModel.dataset_id == get_dataset(store, dataset).id)
        rows = list(orm.exec(query))
        return [_summary(row, _status(orm, row)) for row in rows]


def show_model(store: Store, name: str) -> ModelSummary:
    """One model: its config, status (as it stands), checkpoint, metrics and, where it was
    kept, every epoch of its training (`history`, the learning curve)."""
    row = get_model(store, name)
    with store.reading() as orm:
        return _summary(row, _status(orm, row)).model_copy(update={"history": row.history})


def _status(orm: Any, row: RecModel) -> str:
    """A model's status as it stands: `training` is `interrupted` when the process that
    trained it is gone."""
    if row.status == "training" and row.run_id is not None:
        run = orm.get(Run, row.run_id)
        if run is not None and shown_status(run.status, run.owner) == "interrupted":
            return "interrupted"
    return row.status


def load_trained(store: Store, row: RecModel) -> SessionRecommender:
    """The trained model of a `done` model row, rebuilt from its checkpoint."""
    from alkd_tui.rec.checkpoint import load_checkpoint

    if row.status != "done" or row.checkpoint_path is None:
        raise BadInputError(f"model {row.name!r} is {row.status}, not trained")
    model, _ = load_checkpoint(store.files_dir.parent / row.checkpoint_path, row.checkpoint_sha256)
    return model


def _unique_name(store: Store, base: str, digest: str) -> str:
    """`base`, or where a model has that name `base-DIGEST6`, then `base-DIGEST6-2`, ...: a
    free name (a model trained again with --force gets one too)."""
    with store.reading() as orm:
        taken = set(orm.exec(select(RecModel.name).where(RecModel.name.startswith(base))))  # type: ignore[attr-defined]
    candidates = itertools.chain(
        [base, f"{base}-{digest[:6]}"], (f"{base}-{digest[:6]}-{n}" for n in itertools.count(2))
    )
    return next(name for name in candidates if name not in taken)


@dataclass
class ModelJob:
    """What a training or distillation job makes: a model row, its checkpoint and metrics."""

    kind: str  # "train" or "distill": the run's kind
    dataset: Dataset
    role: str
    architecture: str
    dim: int
    config: dict[str, Any]  # stored with the model; its hash identifies the job
    rebuild: dict[str, Any]  # the TrainConfig that rebuilds the model from its checkpoint
    max_len: int
    seed: int
    default_name: str
    parent_id: int | None = None
    selection_id: int | None = None

    def digest(self) -> str:
        # A setting added later, at the value that reproduces what came before it, is left out,
        # so that models trained before it existed are still found.
        config = _without_unchanged_defaults(self.config)
        blob = json.dumps(
            {
                "kind": self.kind,
                "dataset": self.dataset.id,
                "role": self.role,
                "config": config,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


#: Settings added after models were stored, at the value that trains as before they existed.
UNCHANGED_BY_DEFAULT: dict[str, Any] = {"precision": "fp32"}


def _without_unchanged_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """`config` without the `UNCHANGED_BY_DEFAULT` settings at those values, at its top level
    and in its sections (`{"train": {...}}`)."""
    kept: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            value = _without_unchanged_defaults(value)
        elif UNCHANGED_BY_DEFAULT.get(key, ...) == value:
            continue
        kept[key] = value
    return kept


def produce_model(
    store: Store, job: ModelJob, fit: Fit, *, name: str | None = None, force: bool = False
) -> ModelSummary:
    """Run `fit` for `job`, or reuse the finished model of an identical job (unless `force`),
    or resume an interrupted one from its last epoch; store the checkpoint and metrics."""
    from alkd_tui.rec.checkpoint import load_state, save_checkpoint, save_state
    from alkd_tui.rec.loop import TrainState

    digest = job.digest()
    with store.reading() as orm:
        previous = orm.exec(
            select(RecModel)
            .where(RecModel.config["hash"].as_string() == digest)
            .order_by(RecModel.id.desc())  # type: ignore[union-attr]
        ).first()
    if previous is not None and previous.status == "done" and not force:
        return _summary(previous).model_copy(update={"reused": True})
    ds = load_dataset(store, job.dataset.name)
    resume_state: TrainState | None = None
    if (
        previous is not None
        and previous.status in ("training", "interrupted", "failed")
        and not force
    ):
        row = previous
        resume_path = resume_file(store, row.id)
        if resume_path.is_file():
            resume_state = TrainState(**load_state(resume_path))
    else:
        with store.session() as orm:
            if (
                name is not None
                and orm.exec(select(RecModel).where(RecModel.name == name)).first() is not None
            ):
                raise BadInputError(f"a model called {name!r} already exists")
            row = RecModel(
                name=name or _unique_name(store, job.default_name, digest),
                dataset_id=job.dataset.id,
                architecture=job.architecture,
                role=job.role,
                dim=job.dim,
                status="training",
                config={"hash": digest, **job.config},
                parent_id=job.parent_id,
                selection_id=job.selection_id,
            )
            orm.add(row)
    run_config = {"dataset": job.dataset.name, "role": job.role, "model": row.name, **job.config}
    model_id = row.id

    def unfinished(status: str) -> None:
        # A training that stopped early resumes from its last epoch's state next time.
        if status != "done":
            _set(store, model_id, status=status)

    what = f"{job.kind} of {row.name}"
    with recorded_run(
        store, job.kind, row.name, run_config, job.seed, what=what, on_end=unfinished
    ) as run:
        _set(store, row.id, status="training", run_id=run.id)
        resume_path = resume_file(store, row.id)

        def on_epoch(state: TrainState) -> None:
            save_state(state.__dict__, resume_path)

        # Stored relative to the files folder's parent (`<db>.files/models/...`).
        checkpoint = store.files_dir / "models" / f"{row.id}.safetensors"
        result = fit(ds, resume_state, on_epoch)
        sha = save_checkpoint(result.model, job.rebuild, checkpoint)
        metrics = model_metrics(result.model, ds, job.max_len)
        metrics["training"] = {
            "best_epoch": result.best_epoch,
            "epochs": len(result.history),
            "seconds": round(result.seconds, 3),
        }
        _set(
            store, row.id, status="done", metrics=metrics, checkpoint_path=str(checkpoint.relative_to(store.files_dir.parent)),
            checkpoint_sha256=sha, created_at=utcnow(), history=_finite(result.history),
        )  # fmt: skip
        run.done(metrics=metrics, step=job.kind)
    resume_path.unlink(missing_ok=True)
    return _summary(get_model(store, row.name)).model_copy(update={"history": result.history})


def _finite(value: Any) -> Any:
    """`value` with NaN and infinities as None (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def model_metrics(model: SessionRecommender, ds: SessionDataset, max_len: int) -> dict[str, Any]:
    """Validation and test metrics, and test with the session's own items excluded."""
    from alkd_tui.rec.evaluate import evaluate, evaluate_both
    from alkd_tui.rec.instances import Instances

    test, test_excluding_own = evaluate_both(model, Instances.of_split(ds, "test", max_len))
    valid = evaluate(model, Instances.of_split(ds, "valid", max_len))
    return {"valid": valid, "test": test, "test_excluding_own": test_excluding_own}


def train_recommender(
    store: Store,
    dataset: str,
    role: str,
    settings: TrainSettings | dict[str, Any],
    *,
    name: str | None = None,
    force: bool = False,
    threads: int | None = None,
    report: Reporter = silent,
) -> ModelSummary:
    """Train (or resume, or reuse) a recommender on `dataset`; returns its summary. Settings
    left unset take the recipe's value for the architecture and `role`.

    A model with the same dataset, role and resolved settings is reused when done (unless
    `force`) and resumed from its last epoch when an earlier run was interrupted.
    """
    import torch

    from alkd_tui.rec.trainer import train_model

    if role not in ROLES:
        raise BadInputError(f"--role {role!r}: use {', '.join(ROLES)}")
    given = settings if isinstance(settings, TrainSettings) else build(TrainSettings, settings)
    cfg = given.resolved(role)
    arch = cfg.canonical_architecture()
    if threads:
        torch.set_num_threads(threads)
    ds_row = get_dataset(store, dataset)
    train_config = cfg.model_dump(mode="json")
    job = ModelJob(
        kind="train", dataset=ds_row, role=role, architecture=arch, dim=cfg.dim, config={"train": train_config},
        rebuild=train_config, max_len=cfg.max_len, seed=cfg.seed,
        default_name=f"{ds_row.name}-{arch}-{role}-d{cfg.dim}-s{cfg.seed}",
    )  # fmt: skip

    def fit(
        ds: SessionDataset, resume: TrainState | None, on_epoch: Callable[[TrainState], None]
    ) -> TrainResult:
        return train_model(ds, cfg, report=report, resume=resume, on_epoch=on_epoch)

    return produce_model(store, job, fit, name=name, force=force)


def dataset_name(store: Store, row: RecModel) -> str:
    """The name of the dataset a model was trained on."""
    with store.reading() as orm:
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
    from alkd_tui.rec.evaluate import evaluate
    from alkd_tui.rec.instances import Instances

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


def compare_models(
    store: Store, before: str, after: str, split: str = "test", metric: str = "recall@10"
) -> dict[str, float]:
    """How much model `after` differs from `before` on `metric` (own items excluded) over the
    same sessions of a split, with the standard error of that difference over the sessions
    (`rec.evaluate.paired_difference`)."""
    from alkd_tui.rec.evaluate import paired_difference
    from alkd_tui.rec.instances import Instances

    first, second = get_model(store, before), get_model(store, after)
    if first.dataset_id != second.dataset_id:
        raise BadInputError(f"models {before!r} and {after!r} belong to different datasets")
    a, b = load_trained(store, first), load_trained(store, second)
    ds = load_dataset(store, dataset_name(store, first))
    instances = Instances.of_split(ds, split, max(a.max_len, b.max_len))
    return {"metric": metric, "split": split, **paired_difference(a, b, instances, metric=metric)}
