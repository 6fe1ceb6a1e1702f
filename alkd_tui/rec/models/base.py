"""The one interface every session recommender implements."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from alkd_tui.rec.batch import SessionBatch


class SessionRecommender(nn.Module):
    """Encode a batch of sessions into vectors; score them against item embeddings.

    Subclasses set `architecture`, build their layers in `__init__(n_items, dim, max_len,
    **hparams)`, and implement `encode`. Item index `n_items` is padding: embedding tables
    have `n_items + 1` rows with `padding_idx=n_items`. Scores cover the `n_items` real items.
    """

    architecture: ClassVar[str]
    #: Hyper-parameters this architecture accepts, with their defaults.
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, n_items: int, dim: int, max_len: int = 10, **hparams: Any) -> None:
        super().__init__()
        unknown = set(hparams) - set(self.defaults)
        if unknown:
            raise ValueError(f"{self.architecture}: unknown hyper-parameters {sorted(unknown)}")
        self.n_items = n_items
        self.dim = dim
        self.max_len = max_len
        self.hparams = {**self.defaults, **hparams}

    def encode(self, batch: SessionBatch) -> torch.Tensor:
        """Session representations: float [B, D_out]."""
        raise NotImplementedError

    def item_vectors(self) -> torch.Tensor:
        """Output-side item vectors of the real items: float [n_items, D_out]."""
        raise NotImplementedError

    def score_all(self, batch: SessionBatch) -> torch.Tensor:
        """Scores of every real item for each session: float [B, n_items]."""
        return self.encode(batch) @ self.item_vectors().T

    def score_items(self, batch: SessionBatch, items: torch.Tensor) -> torch.Tensor:
        """Scores of given items (int64 [B, K]) for each session: float [B, K]."""
        session = self.encode(batch)
        return torch.einsum("bd,bkd->bk", session, self.item_vectors()[items])
