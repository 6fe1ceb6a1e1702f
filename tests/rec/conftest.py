"""Small datasets for recommender tests, built in memory."""

from __future__ import annotations

import numpy as np
import pytest

from alkd_tui.data.canonical import SessionDataset


def successor_dataset(n_items: int = 30, n_sessions: int = 600, seed: int = 0) -> SessionDataset:
    """Sessions a, a+1, ..., whose next item is (last + 1) mod n_items; split 6:2:2 in order."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n_items, n_sessions)
    lengths = rng.integers(1, 6, n_sessions)
    inputs = [(s + np.arange(n)) % n_items for s, n in zip(starts, lengths, strict=True)]
    targets = np.array([(x[-1] + 1) % n_items for x in inputs], dtype=np.int32)
    split = np.zeros(n_sessions, dtype=np.int8)
    split[int(n_sessions * 0.6) : int(n_sessions * 0.8)] = 1
    split[int(n_sessions * 0.8) :] = 2
    return SessionDataset(
        item_ids=[f"i{k}" for k in range(n_items)],
        session_ids=[str(k) for k in range(n_sessions)],
        split=split,
        offsets=np.r_[0, np.cumsum(lengths)].astype(np.int64),
        items=np.concatenate(inputs).astype(np.int32),
        targets=targets,
    )


@pytest.fixture
def successor() -> SessionDataset:
    return successor_dataset()
