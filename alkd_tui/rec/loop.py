"""The epoch loop shared by training and distillation: seeded shuffles and sampling per epoch,
Adam steps, validation after each epoch, early stopping that keeps the best epoch, and a
resumable state handed out after every epoch."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from alkd_tui.errors import BadInputError
from alkd_tui.progress import Reporter, Task, silent
from alkd_tui.rec.device import device_of
from alkd_tui.rec.evaluate import evaluate
from alkd_tui.rec.instances import Instances
from alkd_tui.rec.models.base import SessionRecommender


@dataclass
class TrainState:
    """Everything needed to continue after an interruption (handed out every epoch)."""

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


def epoch_seed(seed: int, epoch: int) -> int:
    """torch's seed for one epoch: resuming at an epoch boundary replays the same randomness."""
    return (seed * 1_000_003 + epoch * 7919 + 17) % (2**63 - 1)


@contextmanager
def deterministic_kernels() -> Iterator[None]:
    """torch's deterministic kernels while the block runs (the previous setting after).

    With more than one thread, the backward pass of advanced indexing (`weights[ids]`, which
    accumulates into repeated rows) adds in an order that varies from run to run, so the same
    seed gave different weights in two processes (the same metrics to four digits, not the
    same checkpoint). The deterministic kernels cost no measurable time here
    (docs/benchmarks.md)."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def check_metric(metric: str) -> None:
    name, _, k = metric.partition("@")
    if name not in ("recall", "ndcg", "mrr") or k not in ("5", "10", "20"):
        raise BadInputError(
            f"--metric {metric!r}: use recall@K, ndcg@K or mrr@K with K in 5, 10, 20"
        )


def checkpoint_epochs(epochs: int, first: int = 10, factor: float = 10**0.5) -> list[int]:
    """Epochs spaced by `factor` from `first` (10, 30, 100, 300, 1000...), and the last."""
    found: list[int] = []
    at = float(first)
    while round(at) < epochs:
        scale = 10 ** math.floor(math.log10(at))
        step = round(at / scale) * scale  # one significant digit: 10, 30, 100, 300
        if not found or step > found[-1]:
            found.append(step)
        at *= factor
    return [*found, epochs]


def run_epochs(
    model: SessionRecommender,
    *,
    batches: Callable[[int], Iterable[Any]],
    n_batches: int,
    loss: Callable[[Any], torch.Tensor],
    valid: Instances,
    epochs: int,
    patience: int,
    metric: str,
    seed: int,
    lr: float,
    weight_decay: float = 0.0,
    report: Reporter = silent,
    resume: TrainState | None = None,
    on_epoch: Callable[[TrainState], None] | None = None,
    name: str = "train",
    checkpoints: Sequence[int] | None = None,
    precision: str = "fp32",
) -> TrainResult:
    """Optimise `loss` over `batches(epoch)` with Adam, keep the epoch best on `valid`.

    `batches(epoch)` yields the epoch's batches (shuffled from the seed and epoch); `loss`
    turns one into a scalar. Without validation sessions the lowest training loss decides.
    Validation follows every epoch, stopping after `patience` epochs without a better one;
    or, with `checkpoints` (epochs, e.g. 10, 30, 100, 300), it follows only those epochs and
    stops after `patience` checkpoints without a better one (comparisons over many epochs,
    where one epoch's change is smaller than the noise of the validation metric).
    Runs with torch's deterministic kernels (`deterministic_kernels`): a seed gives the same
    weights every time. With `precision` "bf16" the forward pass and the loss run under torch's
    autocast to bfloat16 (matrix products in bf16; the weights, their gradients' accumulation
    in the optimiser, and validation stay fp32).
    """
    check_at = set(checkpoints or ())
    check_metric(metric)
    with deterministic_kernels():
        started = time.perf_counter()
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        kind = device_of(model).type  # autocast's device: where the model computes
        state = resume or TrainState()
        if resume is not None:
            model.load_state_dict(resume.model)
            optimizer.load_state_dict(resume.optimizer)
        every = max(1, n_batches // 20)
        progress = Task(report, name, epochs, "epochs")
        progress.completed = state.epoch
        for epoch in range(state.epoch, epochs):
            epoch_start = time.perf_counter()
            torch.manual_seed(epoch_seed(seed, epoch))
            model.train()
            total = 0.0
            steps = 0
            task = Task(report, f"epoch {epoch + 1}", n_batches, "batches")
            for steps, batch in enumerate(batches(epoch), start=1):
                optimizer.zero_grad(set_to_none=True)
                with torch.autocast(kind, dtype=torch.bfloat16, enabled=precision == "bf16"):
                    value = loss(batch)
                value.backward()
                optimizer.step()
                total += float(value.detach())
                if steps % every == 0 or steps == n_batches:
                    task.advance(steps - task.completed, loss=total / steps)
            task.end()
            seconds = time.perf_counter() - epoch_start
            mean_loss = total / max(steps, 1)
            checking = not check_at or epoch + 1 in check_at
            metrics = evaluate(model, valid) if len(valid) and checking else {}
            score = metrics.get(metric, -mean_loss)
            record = {
                "epoch": epoch + 1,
                "loss": mean_loss,
                "valid": metrics,
                "train_seconds": seconds,
            }
            state.history.append(record)
            if not checking:
                pass  # between checkpoints: nothing is compared
            elif score > state.best_value or not state.best_model:
                state.best_value, state.best_epoch, state.bad_epochs = score, epoch + 1, 0
                state.best_model = copy.deepcopy(model.state_dict())
            else:
                state.bad_epochs += 1  # a check (an epoch, or a checkpoint) without a better one
            state.epoch = epoch + 1
            state.model = model.state_dict()
            state.optimizer = optimizer.state_dict()
            shown = {f"valid {metric}": metrics[metric]} if metric in metrics else {}
            progress.advance(1, loss=mean_loss, **shown)
            if on_epoch is not None:
                on_epoch(state)
            if state.bad_epochs >= patience:
                break
        progress.end(best_epoch=state.best_epoch)
        model.load_state_dict(state.best_model)
        return TrainResult(model, state.history, state.best_epoch, time.perf_counter() - started)
