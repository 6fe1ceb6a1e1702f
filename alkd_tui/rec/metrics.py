"""Full-ranking metrics: Recall@K (= HR@K, one target), NDCG@K by rank order, MRR@K.

Ties never flatter a model: each metric is its expected value when tied items are put in a
uniformly random order. A target tied with `e - 1` other items behind `g` better ones sits at
each of the ranks `g+1 .. g+e` with probability `1/e`, so an untrained model that scores every
item the same gets exactly the chance figures (Recall@K = K / n_items).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

DEFAULT_KS = (5, 10, 20)


def ranks_of_targets(
    scores: torch.Tensor,
    targets: torch.Tensor,
    exclude: torch.Tensor | None = None,
    exclude_pad: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each row: how many items score above the target (`greater`) and how many score
    the same, the target included (`equal`).

    `exclude` (int [B, L], padded with `exclude_pad`) lists items removed from the ranking,
    e.g. the session's own items. A target that is itself excluded can never be recommended:
    it gets `greater = n_items` (a miss at every K).
    """
    scores = scores.float()
    target_scores = scores.gather(1, targets.unsqueeze(1))
    target_excluded = torch.zeros_like(targets, dtype=torch.bool)
    if exclude is not None:
        scores = scores.clone()
        valid = (
            exclude != exclude_pad
            if exclude_pad is not None
            else torch.ones_like(exclude, dtype=torch.bool)
        )
        rows = torch.arange(scores.shape[0], device=scores.device).unsqueeze(1).expand_as(exclude)
        scores[rows[valid], exclude[valid]] = float("-inf")
        target_excluded = ((exclude == targets.unsqueeze(1)) & valid).any(dim=1)
    greater = (scores > target_scores).sum(dim=1)
    equal = (scores == target_scores).sum(dim=1).clamp(min=1)
    greater = torch.where(target_excluded, torch.full_like(greater, scores.shape[1]), greater)
    return greater, equal


def ranks_near_top(
    scores: torch.Tensor,
    targets: torch.Tensor,
    depth: int,
    exclude: torch.Tensor | None = None,
    exclude_pad: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`ranks_of_targets` for metrics at K <= `depth`: exact wherever the target can reach
    the top `depth`, and `greater = depth` (a miss at every such K) where it cannot.

    It reads each row's top `depth + L` scores (`L` = the width of `exclude`, the most that
    excluding can remove) instead of comparing every item with the target, which is several
    times faster with many items. Where the target ties with the `depth`-th best remaining
    score, the tie may run past that list: those rows fall back to `ranks_of_targets`.
    """
    n = scores.shape[1]
    width = depth + (exclude.shape[1] if exclude is not None else 0)
    if width >= n:
        return ranks_of_targets(scores, targets, exclude, exclude_pad)
    scores = scores.float()
    target_scores = scores.gather(1, targets.unsqueeze(1))
    top, where = scores.topk(width, dim=1)  # sorted, best first
    target_excluded = torch.zeros_like(targets, dtype=torch.bool)
    if exclude is not None:
        valid = (
            exclude != exclude_pad
            if exclude_pad is not None
            else torch.ones_like(exclude, dtype=torch.bool)
        )
        own = ((where.unsqueeze(2) == exclude.unsqueeze(1)) & valid.unsqueeze(1)).any(dim=2)
        top = top.masked_fill(own, float("-inf")).sort(dim=1, descending=True).values
        target_excluded = ((exclude == targets.unsqueeze(1)) & valid).any(dim=1)
    threshold = top[:, depth - 1 : depth]  # the depth-th best score that remains
    above = (target_scores > threshold).squeeze(1)
    greater = torch.where(above, (top > target_scores).sum(dim=1), torch.full_like(targets, depth))
    equal = torch.where(above, (top == target_scores).sum(dim=1), torch.ones_like(targets))
    tied = (target_scores == threshold).squeeze(1) & ~target_excluded
    if bool(tied.any()):
        rows = exclude[tied] if exclude is not None else None
        greater[tied], equal[tied] = ranks_of_targets(
            scores[tied], targets[tied], rows, exclude_pad
        )
    greater = torch.where(target_excluded, torch.full_like(greater, n), greater)
    equal = torch.where(target_excluded, torch.ones_like(equal), equal)
    return greater, equal


def _cumulative(weights: torch.Tensor) -> torch.Tensor:
    """C[p] = sum of weights[1..p] with C[0] = 0 (weights indexed by 1-based rank)."""
    return torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(weights, 0)])  # on the CPU


def metrics_from_ranks(
    greater: torch.Tensor, equal: torch.Tensor, n_items: int, ks: Sequence[int] = DEFAULT_KS
) -> dict[str, torch.Tensor]:
    """Per-row expected Recall@K, NDCG@K and MRR@K under random tie order (float64 [B] each)."""
    ranks = torch.arange(1, n_items + 1, dtype=torch.float64)  # on the CPU, as the ranks below
    ndcg_table = _cumulative(1.0 / torch.log2(ranks + 1))
    mrr_table = _cumulative(1.0 / ranks)
    g = greater.to("cpu", torch.int64)  # ranks of one batch: small, and the tables are here
    e = equal.to("cpu", torch.int64)
    out: dict[str, torch.Tensor] = {}
    for k in ks:
        lo = g.clamp(max=k)  # tied ranks run over g+1 .. g+e; the part within the top k:
        hi = (g + e).clamp(max=k)
        ef = e.to(torch.float64)
        out[f"recall@{k}"] = (hi - lo).to(torch.float64) / ef
        out[f"ndcg@{k}"] = (ndcg_table[hi] - ndcg_table[lo]) / ef
        out[f"mrr@{k}"] = (mrr_table[hi] - mrr_table[lo]) / ef
    return out


def summarize(per_row: dict[str, torch.Tensor]) -> dict[str, float]:
    """Means of per-row metrics (rounded to 6 places), plus the number of rows."""
    n = next(iter(per_row.values())).numel() if per_row else 0
    result = {name: round(float(v.mean()), 6) if n else 0.0 for name, v in per_row.items()}
    result["sessions"] = n
    return result
