"""Distillation moves the student toward the teacher's rankings, on a tiny constructed case."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from alkd_tui.data.canonical import SessionDataset
from alkd_tui.distill.finetune import DistillConfig, TeacherLabels, distill
from alkd_tui.rec.instances import Instances
from alkd_tui.rec.trainer import train_model
from tests.conftest import train_settings


def teacher_rank(model, ds: SessionDataset, rows: np.ndarray, wanted: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    """Mean rank (1 = top) the model gives the teacher's first item, over `rows`."""
    model.eval()
    with torch.no_grad():
        scores = model.score_all(Instances.of_rows(ds, rows, 10).batch(slice(None)))
    target = scores.gather(1, torch.from_numpy(wanted).unsqueeze(1))
    return float((scores > target).sum(1).float().mean() + 1)


def without_validation(ds: SessionDataset) -> SessionDataset:
    """The same data with no validation split, so the lowest distillation loss picks the epoch
    (validation measures the true next item, which this teacher contradicts on purpose)."""
    return replace(ds, split=np.where(ds.split == 1, 0, ds.split).astype(np.int8))


def test_distillation_moves_the_student_toward_the_teacher(successor: SessionDataset) -> None:
    successor = without_validation(successor)
    trained = train_model(
        successor, train_settings(architecture="gru4rec", dim=16, epochs=4, batch_size=64, lr=0.01)
    )
    student = trained.model
    # The teacher disagrees with the data: for these sessions it ranks (last + 2) first, then (last + 3).
    rows = np.flatnonzero(successor.split == 0)[:120]
    last = np.array([successor.inputs(r)[-1] for r in rows])
    first, second = (last + 2) % 30, (last + 3) % 30
    before = teacher_rank(student, successor, rows, first)
    labels = TeacherLabels.from_lists(
        rows.tolist(), [[int(a), int(b)] for a, b in zip(first, second, strict=True)], None, 25
    )
    cfg = DistillConfig(
        epochs=15, batch_size=32, lr=0.01, patience=15, negatives="sampled", n_negatives=4
    )
    result = distill(student, successor, labels, cfg)
    after = teacher_rank(result.model, successor, rows, first)
    assert before > 5  # the trained student puts (last + 1) first, not (last + 2)
    assert after < before / 2
    assert result.history[0]["epoch"] == 0 and result.best_epoch >= 1


def test_soft_labels_follow_the_teachers_probabilities(successor: SessionDataset) -> None:
    successor = without_validation(successor)
    trained = train_model(
        successor, train_settings(architecture="fpmc", dim=16, epochs=3, batch_size=64, lr=0.01)
    )
    rows = np.flatnonzero(successor.split == 0)[:100]
    last = np.array([successor.inputs(r)[-1] for r in rows])
    favourite, other = (last + 5) % 30, (last + 6) % 30
    before = teacher_rank(trained.model, successor, rows, favourite)
    labels = TeacherLabels.from_lists(
        rows.tolist(),
        [[int(a), int(b)] for a, b in zip(favourite, other, strict=True)],
        [[0.9, 0.1]] * len(rows),
        25,
    )
    assert labels.probs is not None
    result = distill(
        trained.model, successor, labels, DistillConfig(soft=True, epochs=15, lr=0.02, patience=15)
    )
    assert teacher_rank(result.model, successor, rows, favourite) < before


def test_a_distillation_worse_than_the_student_keeps_the_student(successor: SessionDataset) -> None:
    """Labels that contradict the data lower validation at every check: with keep_student (the
    default) the result is the undistilled student, bit for bit; without it, the best check."""
    trained = train_model(
        successor, train_settings(architecture="gru4rec", dim=16, epochs=4, batch_size=64, lr=0.01)
    )
    weights = {k: v.clone() for k, v in trained.model.state_dict().items()}
    rows = np.flatnonzero(successor.split == 0)[:120]
    last = np.array([successor.inputs(r)[-1] for r in rows])
    wrong = [[int(a), int(b)] for a, b in zip((last + 2) % 30, (last + 3) % 30, strict=True)]
    labels = TeacherLabels.from_lists(rows.tolist(), wrong, None, 25)
    cfg = DistillConfig(epochs=4, batch_size=32, lr=0.05, stop="patience", patience=4)
    events: list = []
    kept = distill(trained.model, successor, labels, cfg, report=events.append)
    assert kept.best_epoch == 0
    assert all(torch.equal(v, weights[k]) for k, v in kept.model.state_dict().items())
    assert any("kept the student unchanged" in e.message for e in events)
    before = kept.history[0]["valid"]["recall@10"]
    assert all(row["valid"]["recall@10"] <= before for row in kept.history[1:])

    student = train_model(
        successor, train_settings(architecture="gru4rec", dim=16, epochs=4, batch_size=64, lr=0.01)
    ).model
    worse = distill(student, successor, labels, cfg.model_copy(update={"keep_student": False}))
    assert worse.best_epoch >= 1
    assert not all(torch.equal(v, weights[k]) for k, v in worse.model.state_dict().items())
