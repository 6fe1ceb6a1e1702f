"""Two non-neural baselines behind the same interface and evaluation: most-popular and
session-kNN. They are fitted, not trained by gradient, and are strong on real session data."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from alkd_tui.data.canonical import TRAIN, SessionDataset
from alkd_tui.rec.batch import SessionBatch
from alkd_tui.rec.models.base import SessionRecommender


class FittedRecommender(SessionRecommender):
    """A recommender fitted in one pass over the training split (no gradient training)."""

    trainable: ClassVar[bool] = False

    def fit(self, ds: SessionDataset) -> None:
        """Learn from the training instances of `ds` (inputs and targets)."""
        raise NotImplementedError

    def score_items(self, batch: SessionBatch, items: torch.Tensor) -> torch.Tensor:
        return self.score_all(batch).gather(1, items)

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Take the fitted buffers as they are (their sizes depend on the data they saw)."""
        buffers = dict(self.named_buffers())
        unknown = set(state_dict) - set(buffers)
        missing = set(buffers) - set(state_dict)
        if strict and (unknown or missing):
            raise RuntimeError(
                f"{self.architecture}: state has {sorted(unknown)} extra, {sorted(missing)} missing"
            )
        for name, value in state_dict.items():
            if name in buffers:
                setattr(self, name, value.clone())
        self.fitted()
        return sorted(missing), sorted(unknown)

    def fitted(self) -> None:
        """Called after `fit` or loading: drop caches derived from the buffers."""


def _train_sessions(ds: SessionDataset) -> tuple[np.ndarray, np.ndarray]:
    """Training sessions as (row of each click, item of each click): inputs then target."""
    train = ds.split == TRAIN
    rows = np.flatnonzero(train)
    inputs = ds.items[np.repeat(train, ds.lengths)]
    seg = np.repeat(np.arange(len(rows)), ds.lengths[rows])
    clicks_row = np.concatenate([seg, np.arange(len(rows))])
    clicks_item = np.concatenate([inputs, ds.targets[rows]]).astype(np.int64)
    return clicks_row, clicks_item


class MostPopular(FittedRecommender):
    """Scores every item by how often it was clicked in training (the same for all sessions)."""

    architecture: ClassVar[str] = "pop"
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, n_items: int, dim: int = 1, max_len: int = 10, **hparams: Any) -> None:
        super().__init__(n_items, dim, max_len, **hparams)
        self.register_buffer("counts", torch.zeros(n_items))

    def fit(self, ds: SessionDataset) -> None:
        _, items = _train_sessions(ds)
        self.counts = torch.from_numpy(
            np.bincount(items, minlength=self.n_items).astype(np.float32)
        )

    def score_all(self, batch: SessionBatch) -> torch.Tensor:
        return self.counts.unsqueeze(0).expand(batch.items.shape[0], -1)


class SessionKNN(FittedRecommender):
    """Session-kNN (Jannach & Ludewig, RecSys 2017): the k training sessions most similar to
    the current one (cosine over item sets) vote for their items with their similarity.

    Exact: every training session is a candidate neighbour (no sampling). Hyper-parameter
    `k` (100).
    """

    architecture: ClassVar[str] = "sknn"
    defaults: ClassVar[dict[str, Any]] = {"k": 100}

    def __init__(self, n_items: int, dim: int = 1, max_len: int = 10, **hparams: Any) -> None:
        super().__init__(n_items, dim, max_len, **hparams)
        self.register_buffer("session_of", torch.zeros(0, dtype=torch.int64))
        self.register_buffer("item_of", torch.zeros(0, dtype=torch.int64))
        self._matrix: torch.Tensor | None = None

    def fit(self, ds: SessionDataset) -> None:
        rows, items = _train_sessions(ds)
        pairs = np.unique(rows * self.n_items + items)  # one entry per (session, item)
        self.session_of = torch.from_numpy(pairs // self.n_items)
        self.item_of = torch.from_numpy(pairs % self.n_items)
        self.fitted()

    def fitted(self) -> None:
        self._matrix = None

    def _sessions_by_items(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._matrix is None:
            n_sessions = int(self.session_of.max()) + 1 if self.session_of.numel() else 0
            values = torch.ones(self.session_of.numel())
            index = torch.stack([self.session_of, self.item_of])
            self._matrix = torch.sparse_coo_tensor(
                index, values, (n_sessions, self.n_items), check_invariants=False
            ).coalesce()
            self._norms = torch.bincount(self.session_of, minlength=n_sessions).float().sqrt()
        return self._matrix, self._norms

    def score_all(self, batch: SessionBatch) -> torch.Tensor:
        matrix, norms = self._sessions_by_items()
        b = batch.items.shape[0]
        query = torch.zeros(b, self.n_items + 1)
        query.scatter_(1, batch.items, 1.0)
        query = query[:, : self.n_items]
        overlap = torch.sparse.mm(matrix, query.T).T  # [B, n_train]
        sims = overlap / (
            norms.clamp(min=1).unsqueeze(0) * query.sum(1, keepdim=True).sqrt().clamp(min=1)
        )
        k = min(int(self.hparams["k"]), sims.shape[1])
        top, idx = sims.topk(k, dim=1)
        kept = torch.zeros_like(sims).scatter_(1, idx, top)
        return torch.sparse.mm(matrix.T, kept.T).T
