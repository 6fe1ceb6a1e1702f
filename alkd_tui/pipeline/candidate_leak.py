"""How often a candidate list holds the true next item ("candidate leak"): on training
sessions, which the teacher recommender may have memorised, against validation sessions,
which it never saw. Where the two differ a lot, the candidates carry the target because of
memorisation, and an LLM's hit@k on training sessions says more about the list than about
the LLM (see docs/method.md, "Candidates and calibration").

`alkd audit` reports it for the candidate lists a selection's questions showed;
`benchmarks/candidate_leak.py` measures full and cross-fitted lists on alkdrec-ml with the
same functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from alkd_tui.data.canonical import VALID, SessionDataset
from alkd_tui.pipeline.models import get_model, load_trained

#: The cut-offs reported.
LEAK_HITS = (1, 10, 25)
#: Training lists holding the target more than this many times as often as validation lists,
#: and by more than two standard errors, are called leaking.
LEAK_RATIO = 1.5


def hit_rates(
    candidates: Sequence[Sequence[int]], targets: Sequence[int], ks: Sequence[int] = LEAK_HITS
) -> dict[str, Any]:
    """The share of lists whose first k items hold the target, with its standard error, for
    each k (a k longer than the lists counts the whole list)."""
    n = len(candidates)
    out: dict[str, Any] = {"sessions": n}
    for k in ks:
        hits = [int(t) in list(c)[:k] for c, t in zip(candidates, targets, strict=True)]
        share = sum(hits) / n if n else None
        out[f"hit@{k}"] = None if share is None else round(share, 4)
        out[f"hit@{k}_se"] = None if share is None else round(math.sqrt(share * (1 - share) / n), 4)
    return out


def validation_hit_rates(
    store: Any, teacher: str, ds: SessionDataset, kappa: int, sample: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Hit rates of the teacher recommender's own top `kappa` on up to `sample` validation
    sessions drawn with `seed` (sessions it never trained on)."""
    from alkd_tui.teacher.candidates import top_candidates

    rows = np.flatnonzero(ds.split == VALID)
    if len(rows) > sample:
        rows = np.sort(np.random.default_rng(seed).choice(rows, sample, replace=False))
    model = load_trained(store, get_model(store, teacher))
    top, _ = top_candidates(model, ds, rows, kappa)
    return hit_rates(top.tolist(), ds.targets[rows].tolist())


def leak_warning(training: dict[str, Any], validation: dict[str, Any], k: int = 25) -> str | None:
    """One sentence when training lists hold the target far more often than validation lists
    (more than `LEAK_RATIO` times, and by more than two standard errors), else None."""
    t, v = training.get(f"hit@{k}"), validation.get(f"hit@{k}")
    if t is None or v is None:
        return None
    se = math.hypot(training[f"hit@{k}_se"] or 0.0, validation[f"hit@{k}_se"] or 0.0)
    if t > LEAK_RATIO * v and t - v > 2 * se:
        return (
            f"candidate leak: the training sessions' candidate lists hold the target {t:.1%} of "
            f"the time (first {k}), the validation sessions' {v:.1%}: the teacher recommender "
            "memorised its training sessions, so hit@k on them measures the list more than the "
            "LLM (label with --candidates cross-fit, and --calibration N for the LLM's accuracy)"
        )
    return None
