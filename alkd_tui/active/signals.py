"""Cheap per-session signals that need no LLM and no recommender: the popularity of a
session's items in the training data (numpy only)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from alkd_tui.data.canonical import TRAIN, SessionDataset

Scorer = Callable[[np.ndarray], np.ndarray]


def training_clicks(ds: SessionDataset) -> np.ndarray:
    """Clicks per item over the training sessions (their input items and next items)."""
    train = ds.split == TRAIN
    inputs = ds.items[np.repeat(train, ds.lengths)]
    return np.bincount(
        np.concatenate([inputs, ds.targets[train]]), minlength=ds.n_items
    ).astype(np.float64)


def rarity(ds: SessionDataset, rows: np.ndarray, clicks: np.ndarray | None = None) -> np.ndarray:
    """Minus the mean `log(1 + training clicks)` of each row's input items (larger = rarer
    items), float64, aligned with `rows`; a session without inputs scores as the rarest."""
    clicks = training_clicks(ds) if clicks is None else clicks
    logs = np.log1p(clicks)
    rows = np.asarray(rows, dtype=np.int64)
    lengths = ds.lengths[rows]
    # Every input position of the rows at once: each row's start, then 0..length-1 within it.
    ends = np.cumsum(lengths)
    within = np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - lengths, lengths)
    positions = np.repeat(ds.offsets[rows], lengths) + within
    sums = np.bincount(np.repeat(np.arange(len(rows)), lengths), weights=logs[ds.items[positions]],
                       minlength=len(rows))  # fmt: skip
    return np.where(lengths > 0, -sums / np.maximum(lengths, 1), 0.0)


def popularity_scorer(ds: SessionDataset) -> Scorer:
    """`rows -> rarity` (what the `popularity` strategy takes), the clicks counted once."""
    clicks = training_clicks(ds)
    return lambda rows: rarity(ds, rows, clicks)
