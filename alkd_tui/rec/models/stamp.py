"""STAMP: Short-Term Attention/Memory Priority model.

Liu et al., "STAMP: Short-Term Attention/Memory Priority Model for Session-based
Recommendation" (KDD 2018). Attention over the session items, conditioned on the last
click `x_t` and the session mean `m_s`: `a_i = w0 . sigmoid(W1 x_i + W2 x_t + W3 m_s + b_a)`,
`m_a = sum_i a_i x_i`; two MLP cells `h_s = tanh(Wa m_a + ba)`, `h_t = tanh(Wb x_t + bb)`;
the trilinear score `<h_s, h_t, x_v>`, so the session vector is `h_s * h_t` and the item
vectors are the shared item embedding. Initialisation as in the paper: embeddings
N(0, 0.002), weights N(0, 0.05), biases zero.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from alkd_tui.rec.batch import SessionBatch
from alkd_tui.rec.models._layers import (
    gather_last,
    item_embedding,
    masked_mean,
    zero_padding_rows,
)
from alkd_tui.rec.models.base import SessionRecommender


class STAMP(SessionRecommender):
    """Short-term attention/memory priority: attention memory times the last-click cell."""

    architecture: ClassVar[str] = "stamp"
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, n_items: int, dim: int, max_len: int = 10, **hparams: Any) -> None:
        super().__init__(n_items, dim, max_len, **hparams)
        self.embedding = item_embedding(n_items, dim)
        self.w0 = nn.Linear(dim, 1, bias=False)
        self.w1 = nn.Linear(dim, dim, bias=False)
        self.w2 = nn.Linear(dim, dim, bias=False)
        self.w3 = nn.Linear(dim, dim, bias=False)
        self.b_a = nn.Parameter(torch.zeros(dim))
        self.mlp_a = nn.Linear(dim, dim)
        self.mlp_b = nn.Linear(dim, dim)
        nn.init.normal_(self.embedding.weight, std=0.002)
        for layer in (self.w0, self.w1, self.w2, self.w3, self.mlp_a, self.mlp_b):
            nn.init.normal_(layer.weight, std=0.05)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        zero_padding_rows(self)

    def encode(self, batch: SessionBatch) -> torch.Tensor:
        mask = batch.mask
        x = self.embedding(batch.items)  # [B, L, D]
        x_t = gather_last(x, batch.lengths)  # last click
        m_s = masked_mean(x, mask)  # general interest
        hidden = self.w1(x) + (self.w2(x_t) + self.w3(m_s) + self.b_a).unsqueeze(1)
        alpha = self.w0(torch.sigmoid(hidden)) * mask.unsqueeze(-1)  # [B, L, 1]
        m_a = (alpha * x).sum(1)
        h_s = torch.tanh(self.mlp_a(m_a))
        h_t = torch.tanh(self.mlp_b(x_t))
        return h_s * h_t

    def item_vectors(self) -> torch.Tensor:
        return self.embedding.weight[: self.n_items]
