"""Figures about a dataset, computed once at import and stored with it (so `show` is instant)."""

from __future__ import annotations

from typing import Any

import numpy as np

from alkd_tui.data.canonical import TRAIN, SessionDataset

HISTOGRAM_CAP = 20
TOP_ITEMS = 10


def dataset_stats(ds: SessionDataset) -> dict[str, Any]:
    """Split sizes, clicks, titles, the session length distribution and the top items."""
    counts = ds.split_counts()
    clicks = ds.lengths + 1  # an instance's inputs and its target
    hist = np.bincount(np.minimum(clicks, HISTOGRAM_CAP), minlength=HISTOGRAM_CAP + 1)
    histogram = {str(k): int(hist[k]) for k in range(2, HISTOGRAM_CAP)}
    histogram[f"{HISTOGRAM_CAP}+"] = int(hist[HISTOGRAM_CAP])
    train = ds.split == TRAIN
    train_items = np.concatenate([ds.items[np.repeat(train, ds.lengths)], ds.targets[train]])
    popularity = np.bincount(train_items, minlength=ds.n_items)
    top = np.argsort(-popularity, kind="stable")[:TOP_ITEMS]
    titles = ds.titles or [None] * ds.n_items
    return {
        "sessions": {**counts, "total": ds.n_sessions},
        "items": ds.n_items,
        "clicks": int(clicks.sum()),
        "items_with_titles": sum(1 for t in titles if t),
        "session_length": {
            "min": int(clicks.min()) if clicks.size else 0,
            "max": int(clicks.max()) if clicks.size else 0,
            "mean": round(float(clicks.mean()), 3) if clicks.size else 0.0,
            "median": float(np.median(clicks)) if clicks.size else 0.0,
            "p90": float(np.percentile(clicks, 90)) if clicks.size else 0.0,
            "histogram": histogram,
        },
        "top_items": [
            {"item": ds.item_ids[i], "title": titles[i], "train_clicks": int(popularity[i])}
            for i in top
            if popularity[i] > 0
        ],
        **(
            {"source_sessions": ds.notes["source_sessions"]}
            if "source_sessions" in ds.notes
            else {}
        ),
        **({"dropped_clicks": ds.notes["dropped_clicks"]} if "dropped_clicks" in ds.notes else {}),
    }
