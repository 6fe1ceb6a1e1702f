"""GRU4Rec: a recurrent session encoder.

Hidasi et al., "Session-based Recommendations with Recurrent Neural Networks" (ICLR 2016),
in the common embedding form (as in RecBole): item embedding -> dropout -> GRU -> the hidden
state at each session's last real item -> linear map to `dim`; item vectors are the item
embedding. Sessions are encoded independently (no session-parallel mini-batches).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from alkd_tui.rec.batch import SessionBatch
from alkd_tui.rec.models._layers import gather_last, item_embedding, zero_padding_rows
from alkd_tui.rec.models.base import SessionRecommender


class GRU4Rec(SessionRecommender):
    """GRU over the session; the last real hidden state, projected to `dim`.

    Hyper-parameters: `layers` (GRU layers), `dropout` (on the embeddings and between GRU
    layers), `hidden` (GRU width; `None` means `dim`).
    """

    architecture: ClassVar[str] = "gru4rec"
    defaults: ClassVar[dict[str, Any]] = {"layers": 1, "dropout": 0.25, "hidden": None}

    def __init__(self, n_items: int, dim: int, max_len: int = 10, **hparams: Any) -> None:
        super().__init__(n_items, dim, max_len, **hparams)
        layers = int(self.hparams["layers"])
        dropout = float(self.hparams["dropout"])
        hidden = int(self.hparams["hidden"] or dim)
        self.embedding = item_embedding(n_items, dim)
        self.dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(
            dim, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0
        )
        self.dense = nn.Linear(hidden, dim)
        nn.init.xavier_normal_(self.embedding.weight)
        for name, param in self.gru.named_parameters():
            if name.startswith("weight"):
                nn.init.xavier_uniform_(param)
            else:
                nn.init.zeros_(param)
        nn.init.xavier_normal_(self.dense.weight)
        nn.init.zeros_(self.dense.bias)
        zero_padding_rows(self)

    def encode(self, batch: SessionBatch) -> torch.Tensor:
        x = self.dropout(self.embedding(batch.items))
        out, _ = self.gru(x)  # left-aligned: steps after the last item never reach it
        return self.dense(gather_last(out, batch.lengths))

    def item_vectors(self) -> torch.Tensor:
        return self.embedding.weight[: self.n_items]
