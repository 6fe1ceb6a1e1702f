"""Evaluating a recommender on a split: full ranking over all items, vectorised in chunks."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from alkd_tui.rec.instances import Instances
from alkd_tui.rec.metrics import DEFAULT_KS, metrics_from_ranks, ranks_of_targets, summarize
from alkd_tui.rec.models.base import SessionRecommender


@torch.no_grad()
def evaluate(
    model: SessionRecommender,
    instances: Instances,
    *,
    exclude_own: bool = False,
    ks: Sequence[int] = DEFAULT_KS,
    batch_size: int = 1024,
) -> dict[str, float]:
    """Recall@K, NDCG@K and MRR@K (expected under random tie order) over `instances`.

    With `exclude_own`, the items of the session the model saw are removed from its ranking
    (the paper's protocol); a target among them is then a miss.
    """
    was_training = model.training
    model.eval()
    parts: dict[str, list[torch.Tensor]] = {}
    try:
        for batch in instances.batches(batch_size):
            assert batch.targets is not None
            scores = model.score_all(batch)
            greater, equal = ranks_of_targets(
                scores, batch.targets, batch.items if exclude_own else None, instances.pad
            )
            for name, values in metrics_from_ranks(greater, equal, model.n_items, ks).items():
                parts.setdefault(name, []).append(values)
    finally:
        model.train(was_training)
    if not parts:
        return {"sessions": 0}
    return summarize({name: torch.cat(values) for name, values in parts.items()})
