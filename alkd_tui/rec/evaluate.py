"""Evaluating a recommender on a split: full ranking over all items, vectorised in chunks."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from alkd_tui.rec.device import device_of
from alkd_tui.rec.instances import Instances
from alkd_tui.rec.metrics import DEFAULT_KS, metrics_from_ranks, ranks_near_top, summarize
from alkd_tui.rec.models.base import SessionRecommender


@torch.no_grad()
def _evaluate(
    model: SessionRecommender,
    instances: Instances,
    exclude_own: Sequence[bool],
    ks: Sequence[int],
    batch_size: int,
) -> list[dict[str, torch.Tensor]]:
    """The per-instance metrics of each view in `exclude_own` (False: all items ranked; True:
    the session's own items excluded) from one scoring pass."""
    was_training = model.training
    model.eval()
    depth = max(ks)
    views: list[dict[str, list[torch.Tensor]]] = [{} for _ in exclude_own]
    # Scores are `encode @ item_vectors().T` unless a model says otherwise: then the item
    # vectors are computed once, and every chunk's [B, n_items] scores reuse one buffer
    # (a fresh one per chunk costs the kernel mapping in ~100 MB on a 26k-item dataset).
    plain = type(model).score_all is SessionRecommender.score_all
    buffer: torch.Tensor | None = None
    device = device_of(model)
    try:
        items = model.item_vectors() if plain else None
        for batch in instances.batches(batch_size, device=device):
            assert batch.targets is not None
            if items is not None:
                session = model.encode(batch)
                if buffer is None:
                    buffer = torch.empty(
                        batch_size * model.n_items, dtype=session.dtype, device=device
                    )
                scores = torch.mm(
                    session,
                    items.T,
                    out=buffer[: len(session) * model.n_items].view(len(session), -1),
                )
            else:
                scores = model.score_all(batch)
            for view, own in zip(views, exclude_own, strict=True):
                exclude = batch.items if own else None
                greater, equal = ranks_near_top(
                    scores, batch.targets, depth, exclude, instances.pad
                )
                for name, values in metrics_from_ranks(greater, equal, model.n_items, ks).items():
                    view.setdefault(name, []).append(values)
    finally:
        model.train(was_training)
    return [{name: torch.cat(values).cpu() for name, values in view.items()} for view in views]


def _summary(view: dict[str, torch.Tensor]) -> dict[str, float]:
    return summarize(view) if view else {"sessions": 0}


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
    return _summary(_evaluate(model, instances, (exclude_own,), ks, batch_size)[0])


def evaluate_both(
    model: SessionRecommender,
    instances: Instances,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    batch_size: int = 1024,
) -> tuple[dict[str, float], dict[str, float]]:
    """`(evaluate(...), evaluate(..., exclude_own=True))` from one scoring pass."""
    every, own_excluded = _evaluate(model, instances, (False, True), ks, batch_size)
    return _summary(every), _summary(own_excluded)


def paired_difference(
    before: SessionRecommender,
    after: SessionRecommender,
    instances: Instances,
    *,
    metric: str = "recall@10",
    exclude_own: bool = True,
) -> dict[str, float]:
    """How much `after` differs from `before` on one metric over the same instances: the mean
    difference, and its standard error over the instances (the paired differences' standard
    deviation over the square root of their number): the noise of the test split itself,
    which a difference smaller than about two standard errors does not clear."""
    ks = (int(metric.split("@")[1]),)
    first = _evaluate(before, instances, (exclude_own,), ks, 1024)[0].get(metric)
    second = _evaluate(after, instances, (exclude_own,), ks, 1024)[0].get(metric)
    if first is None or second is None or len(first) < 2:
        return {"difference": 0.0, "standard_error": float("nan"), "sessions": 0}
    delta = (second - first).double()
    return {
        "difference": float(delta.mean()),
        "standard_error": float(delta.std() / len(delta) ** 0.5),
        "sessions": len(delta),
    }
