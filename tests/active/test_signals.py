"""Popularity of a session's items in the training data."""

from __future__ import annotations

import numpy as np
import pytest

from alkd_tui.active.signals import popularity_scorer, rarity, training_clicks
from alkd_tui.data.canonical import SessionDataset


def dataset() -> SessionDataset:
    # Sessions (inputs -> target): train [0,0] -> 1, train [1] -> 2, valid [2] -> 0, train [2] -> 3
    return SessionDataset(
        item_ids=["a", "b", "c", "d"],
        session_ids=["s1", "s2", "s3", "s4"],
        split=np.array([0, 0, 1, 0], dtype=np.int8),
        offsets=np.array([0, 2, 3, 4, 5]),
        items=np.array([0, 0, 1, 2, 2], dtype=np.int32),
        targets=np.array([1, 2, 0, 3], dtype=np.int32),
    )


def test_clicks_count_training_inputs_and_targets_only() -> None:
    # a: 2 inputs (the valid target does not count); b: 1 input + 1 target; c: 1 input + 1
    # target (the valid input does not count); d: 1 target.
    np.testing.assert_array_equal(training_clicks(dataset()), [2, 2, 2, 1])


def test_rarity_is_minus_the_mean_log_clicks_of_the_inputs() -> None:
    ds = dataset()
    got = rarity(ds, np.array([0, 1, 3]))
    assert got == pytest.approx(-np.log1p([2.0, 2.0, 2.0]))
    ds.targets[0] = 0  # now a has 3 clicks, b 1
    scores = popularity_scorer(ds)(np.array([0, 1]))
    assert scores[1] > scores[0]  # b is rarer than a


def test_rarity_matches_a_loop_over_sessions_on_random_data() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 6, 300)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    ds = SessionDataset(
        item_ids=[f"i{k}" for k in range(40)], session_ids=[f"s{k}" for k in range(300)],
        split=rng.integers(0, 3, 300).astype(np.int8), offsets=offsets,
        items=rng.integers(0, 40, int(offsets[-1])).astype(np.int32),
        targets=rng.integers(0, 40, 300).astype(np.int32),
    )  # fmt: skip
    rows = rng.permutation(300)[:120]
    logs = np.log1p(training_clicks(ds))
    expected = [-logs[ds.inputs(int(r))].mean() if len(ds.inputs(int(r))) else 0.0 for r in rows]
    np.testing.assert_allclose(rarity(ds, rows), expected)
    assert rarity(ds, np.array([], dtype=np.int64)).shape == (0,)
