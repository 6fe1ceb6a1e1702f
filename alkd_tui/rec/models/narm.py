"""NARM: Neural Attentive Recommendation Machine.

Li et al., "Neural Attentive Session-based Recommendation" (CIKM 2017). A GRU over the
session; the global encoder is the last hidden state `h_t`, the local encoder attends over
all hidden states with `a_j = v . sigmoid(A1 h_t + A2 h_j)`; `c = [c_local; c_global]`
(dropout), and the bilinear decoder `score(v) = e_v^T B c` is realised as the session vector
`B c` against the item embedding.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from alkd_tui.rec.batch import SessionBatch
from alkd_tui.rec.models._layers import gather_last, item_embedding, zero_padding_rows
from alkd_tui.rec.models.base import SessionRecommender


class NARM(SessionRecommender):
    """GRU with a global (last state) and a local (attention) encoder, bilinear decoder.

    Hyper-parameters: `hidden` (GRU width; `None` means `dim`), `layers`, `emb_dropout`,
    `ct_dropout` (on the concatenated representation), as in the paper's 0.25 / 0.5.
    """

    architecture: ClassVar[str] = "narm"
    defaults: ClassVar[dict[str, Any]] = {
        "hidden": None,
        "layers": 1,
        "emb_dropout": 0.25,
        "ct_dropout": 0.5,
    }

    def __init__(self, n_items: int, dim: int, max_len: int = 10, **hparams: Any) -> None:
        super().__init__(n_items, dim, max_len, **hparams)
        hidden = int(self.hparams["hidden"] or dim)
        self.embedding = item_embedding(n_items, dim)
        self.emb_dropout = nn.Dropout(float(self.hparams["emb_dropout"]))
        self.gru = nn.GRU(dim, hidden, num_layers=int(self.hparams["layers"]), batch_first=True)
        self.a1 = nn.Linear(hidden, hidden, bias=False)  # on the global state h_t
        self.a2 = nn.Linear(hidden, hidden, bias=False)  # on every state h_j
        self.v = nn.Linear(hidden, 1, bias=False)
        self.ct_dropout = nn.Dropout(float(self.hparams["ct_dropout"]))
        self.b = nn.Linear(2 * hidden, dim, bias=False)
        nn.init.xavier_normal_(self.embedding.weight)
        for name, param in self.gru.named_parameters():
            if name.startswith("weight"):
                nn.init.xavier_uniform_(param)
            else:
                nn.init.zeros_(param)
        for layer in (self.a1, self.a2, self.v, self.b):
            nn.init.xavier_normal_(layer.weight)
        zero_padding_rows(self)

    def encode(self, batch: SessionBatch) -> torch.Tensor:
        mask = batch.mask.unsqueeze(-1)
        out, _ = self.gru(self.emb_dropout(self.embedding(batch.items)))  # [B, L, H]
        c_global = gather_last(out, batch.lengths)
        energy = torch.sigmoid(self.a1(c_global).unsqueeze(1) + self.a2(out))
        alpha = self.v(energy) * mask  # [B, L, 1]
        c_local = (alpha * out).sum(1)
        c_t = self.ct_dropout(torch.cat([c_local, c_global], dim=1))
        return self.b(c_t)

    def item_vectors(self) -> torch.Tensor:
        return self.embedding.weight[: self.n_items]
