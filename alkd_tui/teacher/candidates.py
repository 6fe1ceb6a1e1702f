"""Candidate items for a session: the teacher recommender's top kappa, never the true target
unless a flag asks for the paper's behaviour (which forces it in and makes answers optimistic)."""

from __future__ import annotations

import numpy as np
import torch

from alkd_tui.data.canonical import SessionDataset
from alkd_tui.rec.batch import mask_own_items
from alkd_tui.rec.device import device_of
from alkd_tui.rec.instances import Instances
from alkd_tui.rec.models.base import SessionRecommender


@torch.no_grad()
def top_candidates(
    model: SessionRecommender,
    ds: SessionDataset,
    rows: np.ndarray,
    kappa: int,
    *,
    exclude_own: bool = True,
    force_target: bool = False,
    batch_size: int = 512,
) -> tuple[np.ndarray, np.ndarray]:
    """For instances `rows`: the model's top `kappa` items (best first) and their scores.

    With `exclude_own`, the session's own items are not candidates. With `force_target` (the
    paper's code), a target missing from the list replaces the last candidate.
    """
    model.eval()
    kappa = min(kappa, ds.n_items)
    instances = Instances.of_rows(ds, np.asarray(rows), model.max_len)
    items, scores = [], []
    for batch in instances.batches(batch_size, device=device_of(model)):
        s = model.score_all(batch).float()
        if exclude_own:
            mask_own_items(s, batch)
        top_scores, top_items = s.topk(kappa, dim=1)
        if force_target:
            assert batch.targets is not None
            missing = ~(top_items == batch.targets.unsqueeze(1)).any(dim=1)
            top_items[missing, -1] = batch.targets[missing]
            top_scores[missing, -1] = (
                s[missing].gather(1, batch.targets[missing].unsqueeze(1)).squeeze(1)
            )
        items.append(top_items.cpu().numpy())
        scores.append(top_scores.cpu().numpy())
    if not items:
        return np.zeros((0, kappa), dtype=np.int64), np.zeros((0, kappa), dtype=np.float32)
    return np.concatenate(items), np.concatenate(scores)
