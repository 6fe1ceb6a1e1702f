"""SASRec: self-attentive sequential recommendation.

Kang & McAuley, "Self-Attentive Sequential Recommendation" (ICDM 2018). Item embeddings
(scaled by sqrt(dim)) plus learned positional embeddings, dropout, causal self-attention
blocks with point-wise feed-forward layers (ReLU, inner width `dim`), residuals, layer
norms, a final layer norm; the session vector is the output at the last real item and the
item vectors are the shared item embedding.

Batches are left-aligned, so positions are counted back from each session's last item
(the last item has position 0): this gives the last items the same position embedding as
the original's left-padded sequences, whatever the padding. Sessions longer than `max_len`
share the oldest position. Attention is causal and padding keys are masked. The blocks are
pre-norm (`x + Attn(LN(x))`, `x + FFN(LN(x))`), a close variant of the original's
`LN(x) + Attn(LN(x), x)`. Initialisation: N(0, 0.02), layer norms 1/0, biases 0.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from alkd_tui.rec.batch import SessionBatch
from alkd_tui.rec.models._layers import (
    auto_heads,
    gather_last,
    item_embedding,
    zero_padding_rows,
)
from alkd_tui.rec.models.base import SessionRecommender


class _Block(nn.Module):
    """One pre-norm transformer block: masked multi-head self-attention and an FFN."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.p = dropout
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff1 = nn.Linear(dim, dim)
        self.ff2 = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        """x [B, L, D]; allowed bool [B, 1, L, L] (True where a query may see a key)."""
        b, length, d = x.shape
        q, k, v = (
            self.qkv(self.norm1(x))
            .view(b, length, 3, self.heads, d // self.heads)
            .permute(2, 0, 3, 1, 4)
            .unbind(0)
        )
        att = F.scaled_dot_product_attention(
            q, k, v, attn_mask=allowed, dropout_p=self.p if self.training else 0.0
        )
        x = x + self.dropout(self.proj(att.transpose(1, 2).reshape(b, length, d)))
        ff = self.ff2(self.dropout(F.relu(self.ff1(self.norm2(x)))))
        return x + self.dropout(ff)


class SASRec(SessionRecommender):
    """Causal transformer over the session; the output at the last real item.

    Hyper-parameters: `layers` (blocks), `heads` (`None`: 2 if `dim` is even and at least
    16, else 1; otherwise it must divide `dim`), `dropout`.
    """

    architecture: ClassVar[str] = "sasrec"
    defaults: ClassVar[dict[str, Any]] = {"layers": 2, "heads": None, "dropout": 0.2}

    def __init__(self, n_items: int, dim: int, max_len: int = 10, **hparams: Any) -> None:
        super().__init__(n_items, dim, max_len, **hparams)
        heads = self.hparams["heads"]
        if heads is None:
            heads = 2 if dim >= 16 and dim % 2 == 0 else 1
        self.heads = auto_heads(dim, int(heads), ())
        dropout = float(self.hparams["dropout"])
        self.embedding = item_embedding(n_items, dim)
        self.position = nn.Embedding(max_len, dim)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            _Block(dim, self.heads, dropout) for _ in range(int(self.hparams["layers"]))
        )
        self.norm = nn.LayerNorm(dim)
        self.apply(self._init_weights)
        zero_padding_rows(self)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def encode(self, batch: SessionBatch) -> torch.Tensor:
        items, lengths, mask = batch.items, batch.lengths, batch.mask
        width = items.size(1)
        steps = torch.arange(width, device=items.device)
        back = (lengths.unsqueeze(1) - 1 - steps).clamp(0, self.max_len - 1)  # [B, L]
        x = self.embedding(items) * math.sqrt(self.dim) + self.position(back)
        keep = mask.unsqueeze(-1).to(x.dtype)
        x = self.dropout(x) * keep
        causal = steps.unsqueeze(1) >= steps.unsqueeze(0)  # [L, L]: key <= query
        allowed = (causal.unsqueeze(0) & mask.unsqueeze(1)).unsqueeze(1)  # [B, 1, L, L]
        for block in self.blocks:
            x = block(x, allowed) * keep
        return gather_last(self.norm(x), lengths)

    def item_vectors(self) -> torch.Tensor:
        return self.embedding.weight[: self.n_items]
