"""Fine-tuning a trained student on the teacher's rankings of a few sessions."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from alkd_tui.data.canonical import SessionDataset
from alkd_tui.distill.loss import position_weights, ranking_bpr_loss, soft_label_loss
from alkd_tui.distill.settings import DistillConfig
from alkd_tui.errors import BadInputError
from alkd_tui.progress import ProgressEvent, Reporter, silent
from alkd_tui.rec.baselines import FittedRecommender
from alkd_tui.rec.device import device_of
from alkd_tui.rec.evaluate import evaluate
from alkd_tui.rec.instances import Instances
from alkd_tui.rec.loop import TrainResult, TrainState, checkpoint_epochs, run_epochs
from alkd_tui.rec.models.base import SessionRecommender


@dataclass
class TeacherLabels:
    """The teacher's rankings of some training instances, as padded tensors."""

    rows: np.ndarray  # instance indices in the dataset
    ranked: torch.Tensor  # int64 [N, K], -1 where there is no item
    probs: torch.Tensor | None = None  # float [N, K], soft labels (rows sum to 1), if any

    @classmethod
    def from_lists(
        cls,
        rows: list[int],
        rankings: list[list[int]],
        scores: list[list[float] | None] | None,
        width: int,
    ) -> TeacherLabels:
        # Labels are built on the CPU once; each batch's rows move to the student's device.
        ranked = torch.full((len(rows), width), -1, dtype=torch.int64)  # on the CPU
        probs = torch.zeros((len(rows), width))  # on the CPU
        has_probs = False
        for i, ranking in enumerate(rankings):
            items = ranking[:width]
            ranked[i, : len(items)] = torch.tensor(items, dtype=torch.int64)  # on the CPU
            if scores is not None and scores[i]:
                values = torch.tensor(  # on the CPU
                    [s if s is not None else 0.0 for s in scores[i][: len(items)]],
                    dtype=torch.float32,
                )
                if values.sum() > 0:
                    probs[i, : len(items)] = values / values.sum()
                    has_probs = True
        return cls(np.asarray(rows, dtype=np.int64), ranked, probs if has_probs else None)


def distill(
    student: SessionRecommender,
    ds: SessionDataset,
    labels: TeacherLabels,
    cfg: DistillConfig,
    *,
    report: Reporter = silent,
    resume: TrainState | None = None,
    on_epoch: Any = None,
) -> TrainResult:
    """Fine-tune `student` (in place) on the teacher's rankings; keeps the best epoch on validation.

    The history starts with epoch 0, the student before distillation. The result is the best
    of the distillation checks; with `cfg.keep_student`, when none of them beats epoch 0 on
    validation, it is the undistilled student, unchanged, and the best epoch is 0.
    """
    if isinstance(student, FittedRecommender):
        raise BadInputError(f"a {student.architecture} model has no parameters to distil into")
    if len(labels.rows) == 0:
        raise BadInputError("no labels to distil")
    inst = Instances.of_rows(ds, labels.rows, student.max_len)
    valid = Instances.of_split(ds, "valid", student.max_len)
    train = Instances.of_split(ds, "train", student.max_len) if cfg.gt_weight > 0 else None
    width = labels.ranked.shape[1]
    device = device_of(student)
    weights = position_weights(width, cfg.weighting, [tuple(a) for a in cfg.alpha], cfg.beta).to(device)  # type: ignore[misc]
    soft = cfg.soft and labels.probs is not None
    n = len(inst)
    n_batches = (n + cfg.batch_size - 1) // cfg.batch_size

    def batches(epoch: int):  # type: ignore[no-untyped-def]
        rng = np.random.default_rng([cfg.seed, epoch])
        order = rng.permutation(n)
        gt_order = rng.permutation(len(train)) if train is not None else None
        for b, start in enumerate(range(0, n, cfg.batch_size)):
            idx = order[start : start + cfg.batch_size]
            gt = None
            if train is not None and gt_order is not None:
                at = (b * cfg.batch_size) % max(len(train), 1)
                gt = train.batch(gt_order[at : at + cfg.batch_size], device)
            yield inst.batch(idx, device), torch.from_numpy(idx), gt

    def loss(item: Any) -> torch.Tensor:
        batch, idx, gt = item
        ranked = labels.ranked[idx].to(device)
        if soft:
            assert labels.probs is not None
            value = soft_label_loss(student, batch, ranked, labels.probs[idx].to(device))
        else:
            w = weights.unsqueeze(0).expand_as(ranked) * (ranked >= 0)
            value = ranking_bpr_loss(
                student, batch, ranked, w, negatives=cfg.negatives, n_negatives=cfg.n_negatives
            )
        if gt is not None:
            from alkd_tui.rec.trainer import TrainConfig, batch_loss

            value = value + cfg.gt_weight * batch_loss(
                student, gt, TrainConfig(architecture=student.architecture, dim=student.dim)
            )
        return value

    before = evaluate(student, valid) if len(valid) else {}
    undistilled = copy.deepcopy(student.state_dict())
    result = run_epochs(
        student, batches=batches, n_batches=n_batches, loss=loss, valid=valid, epochs=cfg.epochs,
        patience=cfg.patience, metric=cfg.metric, seed=cfg.seed, lr=cfg.lr, weight_decay=cfg.weight_decay,
        report=report, resume=resume, on_epoch=on_epoch, name="distill",
        checkpoints=checkpoint_epochs(cfg.epochs) if cfg.stop == "checkpoints" else None,
    )  # fmt: skip
    result.history.insert(0, {"epoch": 0, "loss": None, "valid": before, "train_seconds": 0.0})
    if cfg.keep_student and _no_check_beats_student(result, cfg.metric):
        student.load_state_dict(undistilled)
        result.best_epoch = 0
        report(
            ProgressEvent(
                "log",
                "distill",
                message=f"no validation check beat the undistilled student on {cfg.metric}: "
                "kept the student unchanged",
            )
        )
    return result


def _no_check_beats_student(result: TrainResult, metric: str) -> bool:
    """Whether the kept check is no better than epoch 0 (the student) on validation."""
    by_epoch = {row["epoch"]: row.get("valid") or {} for row in result.history}
    before = by_epoch.get(0, {}).get(metric)
    best = by_epoch.get(result.best_epoch, {}).get(metric)
    return before is not None and best is not None and best <= before
