"""Knowledge-distillation losses: the paper's position-weighted BPR over the teacher's ranking,
DLLM2Rec-style position weights, and soft labels from the teacher's probabilities.

Paper: `L = -sum_{s in B} sum_{v in rank(s)} alpha_v * log sigmoid(S(s, v) - S(s, v'))` with
`alpha = 3 / 2 / 1` for ranking positions 1-5 / 6-15 / 16-25 and `v'` a negative item (drawn
from the other sessions' ranked items in the batch, as the authors' code does, or uniformly).
Here the sum is a weighted mean, so the learning rate does not depend on the batch size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from alkd_tui.distill.settings import PAPER_ALPHA
from alkd_tui.rec.batch import SessionBatch
from alkd_tui.rec.models.base import SessionRecommender


def position_weights(
    length: int,
    scheme: str = "paper",
    alpha: Sequence[tuple[int, float]] = PAPER_ALPHA,
    beta: float = 10.0,
) -> torch.Tensor:
    """Weights of ranking positions 1..length.

    `paper`: alpha by position band (positions beyond the last band get 0); `dllm2rec`:
    `exp(-position / beta)`, rescaled to mean 1 over the positions; `uniform`: all 1.
    """
    positions = torch.arange(1, length + 1, dtype=torch.float32)  # on the CPU: built once, moved
    if scheme == "uniform":
        return torch.ones(length)  # on the CPU
    if scheme == "dllm2rec":
        w = torch.exp(-positions / beta)
        return w / w.mean()
    if scheme != "paper":
        raise ValueError(f"unknown weighting {scheme!r}")
    weights = torch.zeros(length)  # on the CPU
    lower = 0
    for upto, value in alpha:
        weights[(positions > lower) & (positions <= upto)] = value
        lower = upto
    return weights


def ranking_bpr_loss(
    model: SessionRecommender,
    batch: SessionBatch,
    ranked: torch.Tensor,
    weights: torch.Tensor,
    *,
    negatives: str = "in-batch",
    n_negatives: int = 1,
) -> torch.Tensor:
    """Position-weighted BPR of the teacher's rankings `ranked` (int [B, K], -1 = none) with
    `weights` (float [B, K], 0 where there is no item)."""
    session = model.encode(batch)
    vectors = model.item_vectors()
    valid = ranked >= 0
    safe = ranked.clamp(min=0)
    pos = torch.einsum("bd,bkd->bk", session, vectors[safe])
    b, k = ranked.shape
    if negatives == "in-batch":
        pool = ranked[valid]
        if pool.numel() == 0:
            return session.sum() * 0.0
        neg = pool[torch.randint(0, pool.numel(), (b, k, n_negatives), device=ranked.device)]
    else:
        neg = torch.randint(0, model.n_items, (b, k, n_negatives), device=ranked.device)
    neg_scores = torch.einsum("bd,bknd->bkn", session, vectors[neg])
    # A negative that the teacher itself ranked for this session is not a negative.
    own = (neg.unsqueeze(-1) == ranked.view(b, 1, 1, k)).any(-1)
    mass = weights.unsqueeze(-1) * valid.unsqueeze(-1) * (~own)
    losses = -F.logsigmoid(pos.unsqueeze(-1) - neg_scores) * mass
    total = mass.sum()
    return losses.sum() / total if total > 0 else session.sum() * 0.0


def soft_label_loss(
    model: SessionRecommender, batch: SessionBatch, ranked: torch.Tensor, probs: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy between the teacher's distribution over its ranked items (`probs`, rows sum
    to 1 over valid entries) and the student's softmax over the same items."""
    session = model.encode(batch)
    valid = ranked >= 0
    scores = torch.einsum("bd,bkd->bk", session, model.item_vectors()[ranked.clamp(min=0)])
    scores = scores.masked_fill(~valid, -math.inf)
    log_q = torch.log_softmax(scores, dim=1).masked_fill(~valid, 0.0)
    rows = valid.any(dim=1)
    if not bool(rows.any()):
        return session.sum() * 0.0
    return -(probs * log_q).sum(dim=1)[rows].mean()
