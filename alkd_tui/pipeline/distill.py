"""Distillation over the store: fine-tune a copy of a trained student on the accepted teacher
labels of a selection; the result is a new `distilled` model linked to both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from alkd_tui.config import build
from alkd_tui.data.canonical import SessionDataset
from alkd_tui.distill.finetune import TeacherLabels, distill
from alkd_tui.distill.settings import DistillSettings
from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.models import ModelJob, get_model, load_trained, produce_model
from alkd_tui.pipeline.results import DistilledModel
from alkd_tui.pipeline.review import selection_labels
from alkd_tui.pipeline.selection import get_selection
from alkd_tui.progress import Reporter, silent
from alkd_tui.rec.loop import TrainResult, TrainState
from alkd_tui.store import Dataset, Store


def accepted_labels(
    store: Store, selection_id: int, selection_name: str, teacher: str | None
) -> tuple[str, list[Any]]:
    """The accepted labels of one teacher model for a selection; refuses ambiguity and emptiness."""
    labels = selection_labels(store, selection_id, teacher)
    models = sorted({label.model_name for label in labels})
    if not labels:
        who = f" from {teacher}" if teacher else ""
        raise BadInputError(
            f"selection {selection_name!r} has no answered labels{who}: run `alkd label` first"
        )
    if teacher is None and len(models) > 1:
        raise BadInputError(
            f"selection {selection_name!r} was labelled by {', '.join(models)}: choose one with --teacher"
        )
    accepted = [label for label in labels if label.status == "accepted" and label.ranking]
    if not accepted:
        raise BadInputError(
            f"none of the {len(labels)} labels of selection {selection_name!r} is accepted: review them "
            f"(`alkd-tui`, `alkd review`) or accept by rule: `alkd review accept {selection_name} --rule parsed`"
        )
    return models[0] if teacher is None else teacher, accepted


def distill_student(
    store: Store,
    student: str,
    selection: str,
    settings: DistillSettings | dict[str, Any] | None = None,
    *,
    teacher: str | None = None,
    name: str | None = None,
    force: bool = False,
    report: Reporter = silent,
) -> DistilledModel:
    """Distil the accepted labels of `selection` into a copy of `student`; returns the new model's
    summary (the same shape as training), reusing an identical finished job unless `force`."""
    cfg = (
        settings
        if isinstance(settings, DistillSettings)
        else build(DistillSettings, settings or {})
    )
    student_row = get_model(store, student)
    if student_row.role == "baseline":
        raise BadInputError(f"model {student_row.name!r} is a baseline; distil into a student")
    sel = get_selection(store, selection)
    assert sel.id is not None
    if sel.dataset_id != student_row.dataset_id:
        raise BadInputError(
            f"selection {sel.name!r} and model {student_row.name!r} belong to different datasets"
        )
    teacher_model, labels = accepted_labels(store, sel.id, sel.name, teacher)
    with store.reading() as orm:
        ds_row = orm.get(Dataset, sel.dataset_id)
    assert ds_row is not None
    train_config = dict(student_row.config.get("train", {}))
    student_model = load_trained(store, student_row)
    job = ModelJob(
        kind="distill",
        dataset=ds_row,
        role="distilled",
        architecture=student_row.architecture,
        dim=student_row.dim,
        config={
            "distill": cfg.model_dump(mode="json"), "student": student_row.name, "student_sha256": student_row.checkpoint_sha256,
            "selection": sel.name, "teacher": teacher_model, "labels": [label.request_id for label in labels],
            "train": train_config,
        },
        rebuild=train_config,
        max_len=student_model.max_len,
        seed=cfg.seed,
        default_name=f"{student_row.name}-kd-{sel.name}-s{cfg.seed}",
        parent_id=student_row.id,
        selection_id=sel.id,
    )  # fmt: skip

    def fit(
        ds: SessionDataset, resume: TrainState | None, on_epoch: Callable[[TrainState], None]
    ) -> TrainResult:
        teacher_labels = TeacherLabels.from_lists(
            [label.session_index for label in labels],
            [label.ranking for label in labels],
            [label.scores for label in labels],
            cfg.max_positions,
        )
        torch.manual_seed(cfg.seed)
        return distill(
            student_model, ds, teacher_labels, cfg, report=report, resume=resume, on_epoch=on_epoch
        )

    made = produce_model(store, job, fit, name=name, force=force)
    return DistilledModel(
        **{field: getattr(made, field) for field in made.model_fields_set},
        labels=len(labels),
        teacher=teacher_model,
        student=student_row.name,
        student_metrics=student_row.metrics,
    )
