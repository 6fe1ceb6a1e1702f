"""Reading a stored dataset back into its canonical in-memory form."""

from __future__ import annotations

import json

import numpy as np

from alkd_tui.data.canonical import SPLIT_CODES, SessionDataset
from alkd_tui.errors import NotFoundError
from alkd_tui.store import Store
from alkd_tui.store.datasets import dataset_rows


def load_dataset(store: Store, name: str) -> SessionDataset:
    """The dataset called `name` as a `SessionDataset` (instances in stored order)."""
    found = dataset_rows(store, name)
    if found is None:
        raise NotFoundError(f"no dataset {name!r} in {store.where}")
    items, sessions = found
    blobs = [s[2] for s in sessions]
    lengths = np.fromiter((len(b) // 4 for b in blobs), dtype=np.int64, count=len(blobs))
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    times = [s[4] for s in sessions]
    titles = [i[1] for i in items]
    attributes = [None if i[2] is None else json.loads(i[2]) for i in items]
    return SessionDataset(
        item_ids=[i[0] for i in items],
        session_ids=[s[0] for s in sessions],
        split=np.fromiter(
            (SPLIT_CODES[s[1]] for s in sessions), dtype=np.int8, count=len(sessions)
        ),
        offsets=offsets,
        items=np.frombuffer(b"".join(blobs), dtype="<i4").astype(np.int32),
        targets=np.fromiter((s[3] for s in sessions), dtype=np.int32, count=len(sessions)),
        titles=titles if any(titles) else None,
        attributes=attributes if any(a is not None for a in attributes) else None,
        start_times=None
        if all(t is None for t in times)
        else np.array([np.nan if t is None else t for t in times]),
    )
