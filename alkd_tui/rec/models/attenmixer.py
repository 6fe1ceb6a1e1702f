"""Atten-Mixer: multi-level intent queries with an attention-mixture readout.

Zhang et al., "Efficiently Leveraging Multi-level User Intent for Session-based
Recommendation via Atten-Mixer Network" (WSDM 2023). The paper's point is that a GNN's
propagation adds little and the readout does the work; its readout reasons over several
levels of user intent:

- Intent queries. Inherent priority: the recent items matter most, so level-k queries are
  built from the last k items only, `q_k = W_k [x_n; x_{n-1}; ...; x_{n-k+1}]` for
  k = 1..`levels` (a position before the session's start contributes a zero vector). A
  session-level query `q_0 = W_0 mean(x)` covers the whole session.
- Multi-head attention of each query over the session items (scaled dot product, masked
  softmax over the items), per head.
- Attention mixture: the queries' attention distributions are mixed per head and item by
  Lp pooling (power mean with exponent `p`), renormalised over the items; the readout is the
  mixed attention over the value projections of the items, heads concatenated, projected.
- Final session vector `W_s [readout; x_n]` against the item embedding.

Simplified or changed, relative to the paper and the authors' code:
- No GNN: the item embeddings are used directly (the paper's own "Atten-Mixer without
  GNN" setting); no NISER-style L2 normalisation and score scaling.
- Concept-view queries (the paper's area/group enumeration pruned by local invariance)
  are reduced to the last-k linear queries above plus the session mean.
- Attention is scaled dot product with a masked softmax (the authors' code uses a sigmoid
  then a softmax, and masks padding only after it); the mixture is renormalised by its sum
  rather than by a second softmax.
- Dropout `dropout` on the item embeddings of the session and on the mixed attention.

Initialisation: uniform in +-1/sqrt(dim) as in the reference code.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import nn

from alkd_tui.rec.batch import SessionBatch
from alkd_tui.rec.models._layers import (
    auto_heads,
    gather_last,
    item_embedding,
    masked_mean,
    zero_padding_rows,
)
from alkd_tui.rec.models.base import SessionRecommender


class AttenMixer(SessionRecommender):
    """Multi-level intent queries, multi-head attention, Lp attention mixture readout.

    Hyper-parameters: `levels` (last-k queries, k = 1..levels, plus the session mean),
    `heads` (`None`: the first of 4, 2, 1 that divides `dim`), `p` (Lp-pooling exponent of
    the mixture; 1 is a plain average of the attention distributions), `dropout`.
    """

    architecture: ClassVar[str] = "attenmixer"
    defaults: ClassVar[dict[str, Any]] = {"levels": 3, "heads": None, "p": 4.0, "dropout": 0.1}

    def __init__(self, n_items: int, dim: int, max_len: int = 10, **hparams: Any) -> None:
        super().__init__(n_items, dim, max_len, **hparams)
        self.levels = int(self.hparams["levels"])
        if self.levels < 1:
            raise ValueError(f"levels={self.levels} must be at least 1")
        heads = self.hparams["heads"]
        self.heads = auto_heads(dim, None if heads is None else int(heads), (4, 2, 1))
        self.p = float(self.hparams["p"])
        if self.p <= 0:
            raise ValueError(f"p={self.p} must be positive")
        self.embedding = item_embedding(n_items, dim)
        self.dropout = nn.Dropout(float(self.hparams["dropout"]))
        self.query_mean = nn.Linear(dim, dim)
        self.query_last = nn.ModuleList(nn.Linear(k * dim, dim) for k in range(1, self.levels + 1))
        self.w_q = nn.Linear(dim, dim, bias=False)
        self.w_k = nn.Linear(dim, dim, bias=False)
        self.w_v = nn.Linear(dim, dim, bias=False)
        self.w_o = nn.Linear(dim, dim)
        self.w_s = nn.Linear(2 * dim, dim)
        bound = 1.0 / math.sqrt(dim)
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)
        zero_padding_rows(self)

    def _queries(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The intent queries: [B, levels + 1, D] (session mean, last 1, ..., last k)."""
        b, _, d = x.shape
        back = torch.arange(1, self.levels + 1, device=x.device)
        index = lengths.unsqueeze(1) - back  # [B, levels]: the last, second last, ...
        recent = x.gather(1, index.clamp(min=0).unsqueeze(-1).expand(-1, -1, d))
        recent = recent * (index >= 0).unsqueeze(-1).to(x.dtype)  # [B, levels, D]
        queries = [self.query_mean(masked_mean(x, mask))]
        queries += [
            layer(recent[:, :k].reshape(b, k * d)) for k, layer in enumerate(self.query_last, 1)
        ]
        return torch.stack(queries, dim=1)

    def encode(self, batch: SessionBatch) -> torch.Tensor:
        mask, lengths = batch.mask, batch.lengths
        x = self.dropout(self.embedding(batch.items))  # [B, L, D]
        b, width, d = x.shape
        h, dh = self.heads, d // self.heads
        queries = self._queries(x, lengths, mask)  # [B, M, D]
        q = self.w_q(queries).view(b, -1, h, dh).transpose(1, 2)  # [B, H, M, dh]
        k = self.w_k(x).view(b, width, h, dh).transpose(1, 2)  # [B, H, L, dh]
        v = self.w_v(x).view(b, width, h, dh).transpose(1, 2)
        logits = (q @ k.transpose(-1, -2)) / math.sqrt(dh)  # [B, H, M, L]
        keys = mask.view(b, 1, 1, width)
        # A finite fill keeps every gradient finite; those weights are exactly 0 below.
        log_att = torch.log_softmax(logits.masked_fill(~keys, -1e9), dim=-1)
        # Lp mixture over the M queries, (mean_m att^p)^(1/p), in log space; renormalising
        # it over the items is a softmax of its log.
        m = queries.size(1)
        log_mixed = (torch.logsumexp(self.p * log_att, dim=2) - math.log(m)) / self.p
        mixed = torch.softmax(log_mixed.masked_fill(~keys.squeeze(2), float("-inf")), dim=-1)
        mixed = self.dropout(mixed)  # [B, H, L]
        readout = (mixed.unsqueeze(-1) * v).sum(2).reshape(b, d)  # heads concatenated
        last = gather_last(x, lengths)
        return self.w_s(torch.cat([self.w_o(readout), last], dim=1))

    def item_vectors(self) -> torch.Tensor:
        return self.embedding.weight[: self.n_items]
