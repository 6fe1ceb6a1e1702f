"""The Runs area's messages: what its workers read."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from alkd_tui.pipeline.results import ModelSummary
from alkd_tui.tui.background_jobs import Job

METRICS = ("recall@5", "recall@10", "ndcg@5", "ndcg@10", "mrr@10")
JOB_KINDS = ("train", "distill", "run")  # the jobs this area starts and follows


class RunsLoaded(Message):
    """Runs, models, selections and datasets; `running` is a job of this area still running
    (one an earlier app started, say)."""

    def __init__(
        self,
        runs: list[dict[str, Any]],
        models: list[ModelSummary],
        selections: dict[str, str],
        datasets: dict[str, int],
        running: Job | None = None,
    ) -> None:
        """`selections`: each selection's dataset by its name, oldest first."""
        super().__init__()
        self.runs = runs
        self.models = models
        self.selections = selections
        self.datasets = datasets
        self.running = running


class RunShown(Message):
    """A run, and the history of the model it trained (a train or distill run)."""

    def __init__(self, run: dict[str, Any], history: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.run = run
        self.history = history


class ModelCurve(Message):
    """A model's per-epoch history (None where none was kept)."""

    def __init__(self, name: str, history: list[dict[str, Any]] | None) -> None:
        super().__init__()
        self.name = name
        self.history = history


class RunsDiffed(Message):
    def __init__(self, diff: dict[str, Any]) -> None:
        super().__init__()
        self.diff = diff
