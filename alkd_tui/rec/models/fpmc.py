"""FPMC for sessions: a factorised Markov chain without user factors.

Rendle et al., "Factorizing Personalized Markov Chains for Next-Basket Recommendation"
(WWW 2010). Sessions have no users, so only the item-to-item transition term remains; as
for a basket, the transition is averaged over the session's items:
`score(s, i) = (1/|s|) sum_{l in s} <IL_i, LI_l>`. The session vector is the masked mean of
the LI embeddings, the item vectors are the IL embeddings.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from alkd_tui.rec.batch import SessionBatch
from alkd_tui.rec.models._layers import item_embedding, masked_mean, zero_padding_rows
from alkd_tui.rec.models.base import SessionRecommender


class FPMC(SessionRecommender):
    """Factorised first-order Markov chain over the session's items (no user term)."""

    architecture: ClassVar[str] = "fpmc"
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, n_items: int, dim: int, max_len: int = 10, **hparams: Any) -> None:
        super().__init__(n_items, dim, max_len, **hparams)
        self.li = item_embedding(n_items, dim)  # the previous item's factor
        self.il = item_embedding(n_items, dim)  # the next item's factor
        nn.init.xavier_normal_(self.li.weight)
        nn.init.xavier_normal_(self.il.weight)
        zero_padding_rows(self)

    def encode(self, batch: SessionBatch) -> torch.Tensor:
        return masked_mean(self.li(batch.items), batch.mask)

    def item_vectors(self) -> torch.Tensor:
        return self.il.weight[: self.n_items]
