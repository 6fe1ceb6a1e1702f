"""Difficulty and predictive entropy of sessions, from a tiny model with known weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from alkd_tui.active.difficulty import predictive_entropy, session_difficulty
from alkd_tui.data.canonical import SessionDataset
from alkd_tui.errors import BadInputError
from alkd_tui.rec.baselines import MostPopular
from alkd_tui.rec.models.fpmc import FPMC

LI = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5]]  # session-side item factors
IL = [[0.5, -1.0], [2.0, 0.0], [0.0, 0.0], [1.0, 1.0]]  # output item vectors


def tiny() -> tuple[FPMC, SessionDataset]:
    """FPMC (session vector = mean of LI rows, item vectors = IL rows) over 4 items, and
    three sessions: [0, 1], [2], [3, 0, 1] (the last is cut to [0, 1] by max_len = 2)."""
    model = FPMC(4, 2, max_len=2)
    with torch.no_grad():
        model.li.weight[:4] = torch.tensor(LI)
        model.il.weight[:4] = torch.tensor(IL)
    inputs = [[0, 1], [2], [3, 0, 1]]
    ds = SessionDataset(
        item_ids=["a", "b", "c", "d"],
        session_ids=["s0", "s1", "s2"],
        split=np.zeros(3, dtype=np.int8),
        offsets=np.array([0, 2, 3, 6]),
        items=np.array([x for s in inputs for x in s], dtype=np.int32),
        targets=np.array([2, 3, 2], dtype=np.int32),
    )
    return model, ds


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def by_hand(session: list[int]) -> float:
    enc = [sum(LI[v][d] for v in session) / len(session) for d in range(2)]
    return -sum(sigmoid(dot(enc, IL[v])) for v in session) / len(session)


def test_difficulty_is_the_formula_computed_by_hand() -> None:
    model, ds = tiny()
    got = session_difficulty(model, ds, np.array([0, 1, 2]), batch_size=2)
    assert got.dtype == np.float64
    expected = [by_hand([0, 1]), by_hand([2]), by_hand([0, 1])]  # s2 seen as its last 2 items
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert by_hand([2]) == -0.5  # item 2's output vector is zero: sigmoid(0)
    # Rows in any order come back aligned with the rows given.
    np.testing.assert_allclose(
        session_difficulty(model, ds, np.array([2, 0])), [expected[2], expected[0]], rtol=1e-6
    )


def test_predictive_entropy_is_the_softmax_entropy_over_all_items() -> None:
    model, ds = tiny()
    got = predictive_entropy(model, ds, np.array([0, 1]))
    for row, session in ((0, [0, 1]), (1, [2])):
        enc = [sum(LI[v][d] for v in session) / len(session) for d in range(2)]
        scores = np.array([dot(enc, IL[i]) for i in range(4)])
        q = np.exp(scores - scores.max())
        q /= q.sum()
        assert got[row] == pytest.approx(float(-(q * np.log(q)).sum()), rel=1e-6)


def test_a_model_without_embeddings_is_refused_with_one_line() -> None:
    _, ds = tiny()
    with pytest.raises(BadInputError, match="no session encoder"):
        session_difficulty(MostPopular(4, 1), ds, np.array([0]))
