"""Leak-free candidates: for a training session, the candidate list comes from a copy of the
teacher recommender that did not see that session.

A teacher recommender memorises its training sessions: on them it ranks the true next item
first most of the time, so a candidate list drawn from it nearly always holds the answer, and
an LLM that copies the list's order looks accurate. Cross-fitting removes that: the training
sessions are dealt into K folds (a permutation drawn with the teacher's seed), and fold k's
candidates come from a model trained with the teacher's own settings on the other K-1 folds.
Sessions outside the training split (validation sessions asked for calibration) take the
full teacher, which never saw them either.

The K fold models are ordinary stored models (role `fold`, named `TEACHER-cfKofN`), trained
once and reused by every later job on that teacher.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from alkd_tui.data.canonical import TRAIN, SessionDataset
from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.models import ModelJob, get_model, load_trained, produce_model
from alkd_tui.progress import ProgressEvent, Reporter, silent
from alkd_tui.rec.settings import TrainSettings
from alkd_tui.store import Dataset, RecModel, Run, Store

if TYPE_CHECKING:
    from alkd_tui.rec.loop import TrainResult, TrainState

#: The role of a fold model (not offered where a teacher or a student is chosen).
FOLD_ROLE = "fold"
#: The split code a fold's own sessions get while its model trains (no split: not trained on).
HELD_OUT = 127


def training_folds(ds: SessionDataset, folds: int, seed: int) -> np.ndarray:
    """Each instance's fold (0..folds-1) for training instances, -1 for the others: the
    training instances in a random order drawn with `seed`, dealt round-robin."""
    train_rows = np.flatnonzero(ds.split == TRAIN)
    order = np.random.default_rng(seed).permutation(len(train_rows))
    fold = np.full(ds.n_sessions, -1, dtype=np.int64)
    fold[train_rows[order]] = np.arange(len(train_rows)) % folds
    return fold


def fold_model(
    store: Store, teacher: RecModel, fold: int, folds: int, report: Reporter = silent
) -> RecModel:
    """The model trained like `teacher` on every training session but fold `fold`'s
    (trained now if it is not stored yet)."""
    from alkd_tui.rec.trainer import train_model

    settings = (teacher.config or {}).get("train")
    if not settings:
        raise BadInputError(
            f"--candidates cross-fit: {teacher.name!r} was not trained by `alkd train` (no "
            "training settings to train its folds with); use --candidates full"
        )
    cfg = TrainSettings.model_validate(settings)
    with store.reading() as orm:
        ds_row = orm.get(Dataset, teacher.dataset_id)
    assert ds_row is not None and teacher.id is not None
    job = ModelJob(
        kind="train", dataset=ds_row, role=FOLD_ROLE, architecture=teacher.architecture,
        dim=teacher.dim, config={"train": settings, "cross_fit": {"teacher": teacher.id, "fold": fold,
        "folds": folds}}, rebuild=settings, max_len=cfg.max_len, seed=cfg.seed,
        default_name=f"{teacher.name}-cf{fold + 1}of{folds}", parent_id=teacher.id,
    )  # fmt: skip

    def fit(
        ds: SessionDataset, resume: TrainState | None, on_epoch: Callable[[TrainState], None]
    ) -> TrainResult:
        split = ds.split.copy()
        split[training_folds(ds, folds, cfg.seed) == fold] = HELD_OUT
        held_out = dataclasses.replace(ds, split=split)
        return train_model(held_out, cfg, report=report, resume=resume, on_epoch=on_epoch)

    # Two labelling jobs on one teacher (two processes) need the same fold models: one trains
    # each, the other waits for it rather than training it twice.
    made = wait_for_elsewhere(store, job.digest())
    if made is not None:
        return made
    try:
        summary = produce_model(store, job, fit)
    except IntegrityError:  # another process created it a moment ago
        made = wait_for_elsewhere(store, job.digest())
        if made is None:
            raise
        return made
    if not summary.reused:
        report(ProgressEvent("log", "label", message=(
            f"trained {summary.name} (fold {fold + 1} of {folds}) for leak-free candidates")))  # fmt: skip
    return get_model(store, summary.name)


#: How long a job waits for another process's fold model before giving up on it.
WAIT_S = 3600.0


#: A fold model row younger than this without its run is still being set up by its process.
SETUP_S = 60.0


def _just_created(created_at: datetime | None) -> bool:
    if created_at is None:
        return False
    moment = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
    return (datetime.now(UTC) - moment).total_seconds() < SETUP_S


def wait_for_elsewhere(store: Store, digest: str, poll_s: float = 1.0) -> RecModel | None:
    """The model with `digest` once another live process has trained it; None when there is
    none, or its process is gone, or it did not finish (then this job trains it itself)."""
    from alkd_tui.store.owners import is_alive, this_process

    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        with store.reading() as orm:
            row = orm.exec(
                select(RecModel).where(RecModel.config["hash"].as_string() == digest)
                .order_by(RecModel.id.desc())  # type: ignore[union-attr]
            ).first()  # fmt: skip
            run = orm.get(Run, row.run_id) if row is not None and row.run_id else None
        if row is None or row.status not in ("done", "training"):
            return None
        if row.status == "done":
            return row
        if run is None and _just_created(row.created_at):
            time.sleep(poll_s)  # its process made the row and is about to attach its run
            continue
        owner = run.owner if run is not None else None
        if not owner or owner.startswith(this_process()) or is_alive(owner) is not True:
            return None
        time.sleep(poll_s)
    return None


def cross_fitted_candidates(
    store: Store,
    teacher_name: str,
    ds: SessionDataset,
    rows: np.ndarray,
    kappa: int,
    *,
    folds: int = 5,
    force_target: bool = False,
    report: Reporter = silent,
) -> np.ndarray:
    """The top `kappa` candidates of each instance in `rows`, each from a model that did not
    train on it: a training instance's from its fold's model, any other's from the teacher."""
    from alkd_tui.teacher.candidates import top_candidates

    if folds < 2:
        raise BadInputError(f"--folds {folds}: cross-fitting needs at least 2 folds")
    teacher = get_model(store, teacher_name)
    rows = np.asarray(rows, dtype=np.int64)
    fold = training_folds(ds, folds, TrainSettings.model_validate(
        (teacher.config or {}).get("train") or {}).seed or 0)[rows]  # fmt: skip
    out = np.zeros((len(rows), min(kappa, ds.n_items)), dtype=np.int64)
    for k in range(-1, folds):
        where = np.flatnonzero(fold == k)
        if not len(where):
            continue
        model_row = teacher if k < 0 else fold_model(store, teacher, k, folds, report)
        model = load_trained(store, model_row)
        top, _ = top_candidates(model, ds, rows[where], kappa, force_target=force_target)
        out[where] = top
    return out
