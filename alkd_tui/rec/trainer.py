"""Training a session recommender: full-softmax cross-entropy or BPR, Adam, early stopping on a
validation metric, resumable at every epoch, reproducible from one seed."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field

from alkd_tui.data.canonical import SessionDataset
from alkd_tui.errors import BadInputError
from alkd_tui.progress import Reporter, Task, silent
from alkd_tui.rec.baselines import FittedRecommender, MostPopular, SessionKNN
from alkd_tui.rec.batch import SessionBatch
from alkd_tui.rec.evaluate import evaluate
from alkd_tui.rec.instances import Instances
from alkd_tui.rec.models import ARCHITECTURES, build_model
from alkd_tui.rec.models.base import SessionRecommender

BASELINES: dict[str, type[FittedRecommender]] = {"pop": MostPopular, "sknn": SessionKNN}


class TrainConfig(BaseModel):
    """How to train one recommender (stored with the model; its hash identifies the model)."""

    model_config = ConfigDict(extra="forbid")

    architecture: str
    """fpmc, stamp, gru4rec, narm, sasrec, srgnn, attenmixer; or the baselines pop, sknn."""
    dim: int = Field(ge=1)
    """Embedding size (the paper: 100 for the teacher recommender, 10 for the student)."""
    max_len: int = Field(10, ge=1)
    """Only the last N input items of each session are used."""
    loss: Literal["ce", "bpr"] = "ce"
    """Full-softmax cross-entropy, or BPR (the paper's) with sampled or in-batch negatives."""
    negatives: Literal["sampled", "in-batch"] = "sampled"
    """BPR only: uniformly sampled negatives, or the other targets of the batch."""
    n_negatives: int = Field(1, ge=1)
    """BPR with sampled negatives: negatives per instance."""
    batch_size: int = Field(512, ge=1)
    epochs: int = Field(30, ge=1)
    """At most this many epochs."""
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    patience: int = Field(3, ge=1)
    """Stop after this many epochs without a better validation metric."""
    metric: str = "recall@10"
    """The validation metric for early stopping (recall@K, ndcg@K or mrr@K, K in 5, 10, 20)."""
    seed: int = 0
    hparams: dict[str, Any] = Field(default_factory=dict)
    """Architecture hyper-parameters (e.g. {"layers": 2})."""

    def canonical_architecture(self) -> str:
        return self.architecture.lower().replace("-", "").replace("_", "")


def make_recommender(cfg: TrainConfig, n_items: int) -> SessionRecommender:
    """A fresh recommender for `cfg` (weights drawn from torch's RNG, seeded by the caller)."""
    arch = cfg.canonical_architecture()
    if arch in BASELINES:
        try:
            return BASELINES[arch](n_items, cfg.dim, cfg.max_len, **cfg.hparams)
        except ValueError as exc:
            raise BadInputError(f"{arch}: {exc}") from None
    return build_model(arch, n_items, cfg.dim, cfg.max_len, **cfg.hparams)


def known_architectures() -> list[str]:
    return [*ARCHITECTURES, *BASELINES]


@dataclass
class TrainState:
    """Everything needed to continue training after an interruption (saved every epoch)."""

    epoch: int = 0
    model: dict[str, Any] = field(default_factory=dict)
    optimizer: dict[str, Any] = field(default_factory=dict)
    best_model: dict[str, Any] = field(default_factory=dict)
    best_epoch: int = 0
    best_value: float = float("-inf")
    bad_epochs: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TrainResult:
    model: SessionRecommender
    history: list[dict[str, Any]]
    best_epoch: int
    seconds: float


def _epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919 + 17) % (2**63 - 1)


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
    negatives = torch.randint(0, model.n_items, (len(batch.targets), cfg.n_negatives))
    scores = model.score_items(batch, torch.cat([batch.targets.unsqueeze(1), negatives], dim=1))
    return -F.logsigmoid(scores[:, :1] - scores[:, 1:]).mean()


def batch_loss(model: SessionRecommender, batch: SessionBatch, cfg: TrainConfig) -> torch.Tensor:
    """The training loss of one batch under `cfg.loss`."""
    assert batch.targets is not None
    if cfg.loss == "ce":
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
    started = time.perf_counter()
    torch.manual_seed(cfg.seed)
    model = make_recommender(cfg, ds.n_items)
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
    if cfg.metric.split("@")[0] not in ("recall", "ndcg", "mrr"):
        raise BadInputError(f"--metric {cfg.metric!r}: use recall@K, ndcg@K or mrr@K")
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state = resume or TrainState()
    if resume is not None:
        model.load_state_dict(resume.model)
        optimizer.load_state_dict(resume.optimizer)
    n_batches = (len(train) + cfg.batch_size - 1) // cfg.batch_size
    every = max(1, n_batches // 20)
    epochs = Task(report, "train", cfg.epochs, "epochs")
    epochs.completed = state.epoch
    for epoch in range(state.epoch, cfg.epochs):
        epoch_start = time.perf_counter()
        torch.manual_seed(_epoch_seed(cfg.seed, epoch))
        order = np.random.default_rng([cfg.seed, epoch]).permutation(len(train))
        model.train()
        total = 0.0
        batches = Task(report, f"epoch {epoch + 1}", n_batches, "batches")
        for b, batch in enumerate(train.batches(cfg.batch_size, order), start=1):
            optimizer.zero_grad(set_to_none=True)
            loss = batch_loss(model, batch, cfg)
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
            if b % every == 0 or b == n_batches:
                batches.advance(b - batches.completed, loss=total / b)
        batches.end()
        train_seconds = time.perf_counter() - epoch_start
        metrics = evaluate(model, valid) if len(valid) else {}
        value = metrics.get(cfg.metric, -float(total / n_batches))
        record = {
            "epoch": epoch + 1,
            "loss": total / n_batches,
            "valid": metrics,
            "train_seconds": train_seconds,
        }
        state.history.append(record)
        if value > state.best_value or not state.best_model:
            state.best_value, state.best_epoch, state.bad_epochs = value, epoch + 1, 0
            state.best_model = copy.deepcopy(model.state_dict())
        else:
            state.bad_epochs += 1
        state.epoch = epoch + 1
        state.model = model.state_dict()
        state.optimizer = optimizer.state_dict()
        epochs.advance(
            1, loss=record["loss"], **{f"valid {cfg.metric}": metrics.get(cfg.metric, 0.0)}
        )
        if on_epoch is not None:
            on_epoch(state)
        if state.bad_epochs >= cfg.patience:
            break
    epochs.end(best_epoch=state.best_epoch)
    model.load_state_dict(state.best_model)
    return TrainResult(model, state.history, state.best_epoch, time.perf_counter() - started)
