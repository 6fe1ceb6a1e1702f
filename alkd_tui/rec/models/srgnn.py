"""SR-GNN: session-based recommendation with graph neural networks.

Wu et al., "Session-based Recommendation with Graph Neural Networks" (AAAI 2019). Each
session becomes a directed graph over its unique items (an edge for every consecutive
pair, repeated transitions counted once) with the out-adjacency normalised by out-degree
and the in-adjacency by in-degree. A gated graph neural network (`step` GRU-style updates
with the messages along in- and out-edges as input) refines the item embeddings; the
session's positions read their node's state; a soft attention with the last item,
`a_i = q . sigmoid(W1 v_last + W2 v_i + c)`, gives the global vector, and
`W3 [s_global; v_last]` is the session vector (the hybrid variant). Item vectors are the
item embedding. All parameters start uniform in +-1/sqrt(dim), as in the reference code.

The graphs are built in torch for the whole batch at once (no Python loop over sessions):
nodes in order of first occurrence (the reference code sorts them; the order does not
change the result).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import nn

from alkd_tui.rec.batch import SessionBatch
from alkd_tui.rec.models._layers import gather_last, item_embedding, zero_padding_rows
from alkd_tui.rec.models.base import SessionRecommender


def session_graphs(
    items: torch.Tensor, mask: torch.Tensor, pad: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-session item graphs of a padded batch, vectorised.

    Returns `nodes` int64 [B, L] (unique items in order of first occurrence, then `pad`),
    `alias` int64 [B, L] (each position's node; 0 at padding), and the normalised
    adjacencies `a_in`, `a_out` float [B, L, L] (`a_out[b, u, v]`: edge u -> v over the
    out-degree of u; `a_in[b, v, u]`: edge u -> v over the in-degree of v).
    """
    b, width = items.shape
    steps = torch.arange(width, device=items.device)
    same = (items.unsqueeze(2) == items.unsqueeze(1)) & mask.unsqueeze(1)  # [B, L, L]
    first = same.to(torch.uint8).argmax(dim=2)  # the first position with the same item
    is_first = (first == steps) & mask
    rank = is_first.long().cumsum(1) - 1  # node number of each first occurrence
    alias = torch.where(mask, rank.gather(1, first), torch.zeros_like(rank))
    # Scatter the items onto their nodes; padding positions write to a spare column.
    target = torch.where(mask, alias, torch.full_like(alias, width))
    nodes = torch.full((b, width + 1), pad, dtype=items.dtype, device=items.device)
    nodes = nodes.scatter(1, target, items)[:, :width]
    # Edges between consecutive real positions, each (u, v) set once.
    edge = mask[:, 1:]
    src = torch.where(edge, alias[:, :-1], torch.full_like(alias[:, 1:], width))
    dst = torch.where(edge, alias[:, 1:], torch.full_like(alias[:, 1:], width))
    flat = torch.zeros(b, (width + 1) * (width + 1), device=items.device)
    flat.scatter_(1, src * (width + 1) + dst, 1.0)
    adj = flat.view(b, width + 1, width + 1)[:, :width, :width]
    a_out = adj / adj.sum(2, keepdim=True).clamp(min=1.0)
    a_in = (adj / adj.sum(1, keepdim=True).clamp(min=1.0)).transpose(1, 2)
    return nodes, alias, a_in, a_out


class _GatedGraphCell(nn.Module):
    """One gated GNN update: messages along in/out edges feed a GRU-style gate."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.edge_in = nn.Linear(dim, dim)
        self.edge_out = nn.Linear(dim, dim)
        self.b_in = nn.Parameter(torch.zeros(dim))
        self.b_out = nn.Parameter(torch.zeros(dim))
        self.w_ih = nn.Linear(2 * dim, 3 * dim)
        self.w_hh = nn.Linear(dim, 3 * dim)

    def forward(self, h: torch.Tensor, a_in: torch.Tensor, a_out: torch.Tensor) -> torch.Tensor:
        msg_in = a_in @ self.edge_in(h) + self.b_in
        msg_out = a_out @ self.edge_out(h) + self.b_out
        i_r, i_z, i_n = self.w_ih(torch.cat([msg_in, msg_out], dim=2)).chunk(3, dim=2)
        h_r, h_z, h_n = self.w_hh(h).chunk(3, dim=2)
        reset = torch.sigmoid(i_r + h_r)
        update = torch.sigmoid(i_z + h_z)
        candidate = torch.tanh(i_n + reset * h_n)
        return candidate + update * (h - candidate)


class SRGNN(SessionRecommender):
    """Gated GNN over each session's item graph, soft attention with the last item.

    Hyper-parameters: `step` (GNN propagation steps).
    """

    architecture: ClassVar[str] = "srgnn"
    defaults: ClassVar[dict[str, Any]] = {"step": 1}

    def __init__(self, n_items: int, dim: int, max_len: int = 10, **hparams: Any) -> None:
        super().__init__(n_items, dim, max_len, **hparams)
        self.step = int(self.hparams["step"])
        self.embedding = item_embedding(n_items, dim)
        self.cell = _GatedGraphCell(dim)
        self.w1 = nn.Linear(dim, dim)  # on the last item
        self.w2 = nn.Linear(dim, dim)  # on every item
        self.q = nn.Linear(dim, 1, bias=False)
        self.w3 = nn.Linear(2 * dim, dim)
        bound = 1.0 / math.sqrt(dim)
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)
        zero_padding_rows(self)

    def encode(self, batch: SessionBatch) -> torch.Tensor:
        mask = batch.mask
        nodes, alias, a_in, a_out = session_graphs(batch.items, mask, batch.pad)
        h = self.embedding(nodes)  # [B, N, D]
        for _ in range(self.step):
            h = self.cell(h, a_in, a_out)
        seq = h.gather(1, alias.unsqueeze(-1).expand(-1, -1, h.size(-1)))  # [B, L, D]
        last = gather_last(seq, batch.lengths)
        alpha = self.q(torch.sigmoid(self.w1(last).unsqueeze(1) + self.w2(seq)))  # [B, L, 1]
        s_global = (alpha * seq * mask.unsqueeze(-1)).sum(1)
        return self.w3(torch.cat([s_global, last], dim=1))

    def item_vectors(self) -> torch.Tensor:
        return self.embedding.weight[: self.n_items]
