"""Training a session recommender: full-softmax cross-entropy or BPR, Adam, early stopping on a
validation metric, resumable at every epoch, reproducible from one seed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from alkd_tui.data.canonical import SessionDataset
from alkd_tui.errors import BadInputError
from alkd_tui.progress import Reporter, Task, silent
from alkd_tui.rec.baselines import FittedRecommender
from alkd_tui.rec.batch import SessionBatch
from alkd_tui.rec.device import device_of, place
from alkd_tui.rec.evaluate import evaluate
from alkd_tui.rec.instances import Instances
from alkd_tui.rec.loop import TrainResult, TrainState, run_epochs
from alkd_tui.rec.models import build_model
from alkd_tui.rec.models.base import SessionRecommender
from alkd_tui.rec.registry import RECOMMENDERS, get_recommender
from alkd_tui.rec.settings import TrainConfig

__all__ = ["TrainConfig", "batch_loss", "known_architectures", "make_recommender", "train_model"]


def make_recommender(cfg: TrainConfig, n_items: int) -> SessionRecommender:
    """A fresh recommender for `cfg` (weights drawn from torch's RNG, seeded by the caller)."""
    entry = get_recommender(cfg.architecture)
    if entry.baseline:
        try:
            return entry.load()(n_items, cfg.dim or 1, cfg.max_len, **cfg.hparams)  # type: ignore[no-any-return]
        except (TypeError, ValueError) as exc:
            raise BadInputError(f"{entry.name}: {exc}") from None
    return build_model(entry.name, n_items, cfg.dim or 1, cfg.max_len, **cfg.hparams)


def known_architectures() -> list[str]:
    """Every recommender name of the registry."""
    return list(RECOMMENDERS)


def bpr_loss(model: SessionRecommender, batch: SessionBatch, cfg: TrainConfig) -> torch.Tensor:
    """-log sigmoid(s(pos) - s(neg)), averaged, with sampled or in-batch negatives."""
    assert batch.targets is not None
    if cfg.negatives == "in-batch":
        session = model.encode(batch)
        scores = session @ model.item_vectors()[batch.targets].T  # [B, B]: column j is target j
        same = batch.targets.unsqueeze(1) == batch.targets.unsqueeze(0)
        diff = scores.diagonal().unsqueeze(1) - scores
        if bool((~same).any()):
            return -F.logsigmoid(diff[~same]).mean()
        return scores.sum() * 0.0
    negatives = torch.randint(
        0, model.n_items, (len(batch.targets), cfg.n_negatives), device=batch.targets.device
    )
    scores = model.score_items(batch, torch.cat([batch.targets.unsqueeze(1), negatives], dim=1))
    return -F.logsigmoid(scores[:, :1] - scores[:, 1:]).mean()


class _FullSoftmaxCE(torch.autograd.Function):
    """Mean cross-entropy of the scores `session @ items.T` [B, n] against `targets` [B].

    The same loss and gradients as `F.cross_entropy(session @ items.T, targets)`, but with
    one [B, n] buffer instead of four (scores, log-softmax, the gradient of the loss, the
    gradient of the scores), updated in place: the scores become `exp(score - max)` in the
    forward pass and the gradient of the scores in the backward pass. With many items these
    buffers are the bulk of a training step's memory traffic (each fresh one is page-faulted
    in): on CPU a GRU4Rec step on alkdrec-games (26k items) takes about 1.5x less time.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        session: torch.Tensor,
        items: torch.Tensor,
        targets: torch.Tensor,
        out: torch.Tensor | None,
    ) -> torch.Tensor:
        kind = session.device.type  # autocast is per device type (cpu, cuda)
        low = (
            kind in ("cpu", "cuda")
            and torch.is_autocast_enabled(kind)
            and torch.get_autocast_dtype(kind) == torch.bfloat16
        )
        if low:  # bf16 products (the bulk of the time), the softmax in fp32
            session_low, items_low = session.bfloat16(), items.bfloat16()
            scores = (session_low @ items_low.T).float()
            ctx.low = (session_low, items_low)
        else:
            scores = torch.mm(session, items.T, out=out) if out is not None else session @ items.T
            ctx.low = None
        target_scores = scores.gather(1, targets.unsqueeze(1)).squeeze(1)
        top = scores.amax(dim=1, keepdim=True)
        exp = scores.sub_(top).exp_()  # in place: exp(score - max)
        total = exp.sum(dim=1, keepdim=True)
        losses = total.log().squeeze(1) + top.squeeze(1) - target_scores
        ctx.save_for_backward(session, items, targets)
        ctx.exp, ctx.total = exp, total
        return losses.mean()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
        session, items, targets = ctx.saved_tensors
        exp, total = ctx.exp, ctx.total
        ctx.exp = ctx.total = None
        n = exp.shape[0]
        scale = grad / n
        d_scores = exp.mul_(scale / total)  # in place: softmax * grad / B
        d_scores[torch.arange(n, device=targets.device), targets] -= scale
        if ctx.low is not None:
            session_low, items_low = ctx.low
            ctx.low = None
            d_low = d_scores.bfloat16()
            d_session = (d_low @ items_low).float() if ctx.needs_input_grad[0] else None
            d_items = (d_low.T @ session_low).float() if ctx.needs_input_grad[1] else None
            return d_session, d_items, None, None
        d_session = d_scores @ items if ctx.needs_input_grad[0] else None
        d_items = d_scores.T @ session if ctx.needs_input_grad[1] else None
        return d_session, d_items, None, None


def full_softmax_cross_entropy(
    session: torch.Tensor,
    items: torch.Tensor,
    targets: torch.Tensor,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """`F.cross_entropy(session @ items.T, targets)` with a quarter of the large buffers.

    `out` (float [B, n], contents ignored) is used as that buffer when given: a training
    loop can pass the same one for every batch (each backward pass ends before the next
    forward pass), which saves the kernel mapping in fresh memory for every batch.
    """
    return _FullSoftmaxCE.apply(session, items, targets, out)  # type: ignore[no-any-return]


def batch_loss(
    model: SessionRecommender,
    batch: SessionBatch,
    cfg: TrainConfig,
    scratch: torch.Tensor | None = None,
) -> torch.Tensor:
    """The training loss of one batch under `cfg.loss`; `scratch` (float [>= B * n_items],
    reused in place) spares cross-entropy a fresh [B, n_items] buffer."""
    assert batch.targets is not None
    if cfg.loss == "ce":
        if type(model).score_all is SessionRecommender.score_all:  # scores are encode @ items.T
            session, items = model.encode(batch), model.item_vectors()
            out = None
            if scratch is not None and scratch.dtype == session.dtype:
                out = scratch[: len(batch.targets) * model.n_items].view(-1, model.n_items)
            return full_softmax_cross_entropy(session, items, batch.targets, out)
        return F.cross_entropy(model.score_all(batch), batch.targets)
    return bpr_loss(model, batch, cfg)


def train_model(
    ds: SessionDataset,
    cfg: TrainConfig,
    *,
    report: Reporter = silent,
    resume: TrainState | None = None,
    on_epoch: Callable[[TrainState], None] | None = None,
) -> TrainResult:
    """Train a recommender of `cfg` on `ds`'s training split, early-stopping on validation.

    `on_epoch` receives the resumable state after every epoch; pass it back as `resume` to
    continue. The same seed and data give the same model.
    """
    if not cfg.is_resolved():
        raise ValueError("train_model needs resolved settings (TrainSettings.resolved(role))")
    started = time.perf_counter()
    torch.manual_seed(cfg.seed)
    model = place(make_recommender(cfg, ds.n_items))  # drawn on the CPU, then moved
    valid = Instances.of_split(ds, "valid", cfg.max_len)
    if isinstance(model, FittedRecommender):
        task = Task(report, f"fit {cfg.canonical_architecture()}", None)
        model.fit(ds)
        task.end()
        metrics = evaluate(model, valid) if len(valid) else {}
        return TrainResult(
            model, [{"epoch": 0, "valid": metrics}], 0, time.perf_counter() - started
        )

    train = Instances.of_split(ds, "train", cfg.max_len)
    if len(train) == 0:
        raise BadInputError("the dataset has no training sessions")
    n_batches = (len(train) + cfg.batch_size - 1) // cfg.batch_size
    # One [batch, n_items] buffer for the cross-entropy of every batch (see batch_loss).
    device = device_of(model)
    scratch = torch.empty(cfg.batch_size * model.n_items, device=device) if cfg.loss == "ce" else None

    def batches(epoch: int) -> Iterator[SessionBatch]:
        order = np.random.default_rng([cfg.seed, epoch]).permutation(len(train))
        return train.batches(cfg.batch_size, order, device)

    result = run_epochs(
        model, batches=batches, n_batches=n_batches, loss=lambda b: batch_loss(model, b, cfg, scratch),
        valid=valid, epochs=cfg.epochs, patience=cfg.patience, metric=cfg.metric, seed=cfg.seed,
        lr=cfg.lr, weight_decay=cfg.weight_decay, report=report, resume=resume, on_epoch=on_epoch,
        precision=cfg.precision,
    )  # fmt: skip
    result.seconds = time.perf_counter() - started
    return result
