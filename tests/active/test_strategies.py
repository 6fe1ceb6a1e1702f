"""Selection strategies behind one interface, with scorers given as plain functions."""

from __future__ import annotations

import numpy as np
import pytest

from alkd_tui.active.policy import max_min_policy
from alkd_tui.active.strategies import (
    STRATEGIES,
    SelectionRequest,
    get_strategy,
    restrict_pool,
    select,
)
from alkd_tui.errors import BadInputError

N = 1000
DIFFICULTY = np.random.default_rng(0).normal(size=N)  # by dataset row
ENTROPY = np.random.default_rng(1).random(N)
#: Few distinct values, as an overlap of two top-25 lists has: ties everywhere.
DISAGREEMENT = np.random.default_rng(2).integers(0, 5, N) / 4
RARITY = np.random.default_rng(3).normal(size=N)
SPLIT = np.where(np.arange(N) < 600, 0, np.where(np.arange(N) < 800, 1, 2)).astype(np.int8)


def request(budget: int = 50, pool: np.ndarray | None = None, **options) -> SelectionRequest:  # type: ignore[no-untyped-def]
    return SelectionRequest(
        pool=restrict_pool(SPLIT) if pool is None else pool,
        budget=budget,
        difficulty=lambda rows: DIFFICULTY[rows],
        entropy=lambda rows: ENTROPY[rows],
        disagreement=lambda rows: DISAGREEMENT[rows],
        popularity=lambda rows: RARITY[rows],
        **options,
    )


def test_every_strategy_returns_budget_distinct_training_sessions() -> None:
    for name in STRATEGIES:
        outcome = select(name, request())
        assert len(outcome) == 50 and len(np.unique(outcome.rows)) == 50, name
        assert (SPLIT[outcome.rows] == 0).all(), name


def test_easiest_and_hardest_order_by_difficulty() -> None:
    pool = restrict_pool(SPLIT)
    hardest = select("hardest", request(10))
    easiest = select("easiest", request(10))
    by_difficulty = pool[np.argsort(-DIFFICULTY[pool], kind="stable")]
    np.testing.assert_array_equal(hardest.rows, by_difficulty[:10])
    np.testing.assert_array_equal(easiest.rows, by_difficulty[::-1][:10])
    assert (np.diff(hardest.difficulty) <= 0).all() and (np.diff(easiest.difficulty) >= 0).all()
    np.testing.assert_array_equal(hardest.difficulty, DIFFICULTY[hardest.rows])


def test_disagreement_takes_the_least_overlap_first_and_draws_ties_with_the_seed() -> None:
    pool = restrict_pool(SPLIT)
    a = select("disagreement", request(100, seed=1))
    b = select("disagreement", request(100, seed=1))
    c = select("disagreement", request(100, seed=2))
    top = DISAGREEMENT[pool].max()
    assert (DISAGREEMENT[pool] == top).sum() > 100  # the budget falls inside one tie
    assert (DISAGREEMENT[a.rows] == top).all() and (a.gain == top).all()
    np.testing.assert_array_equal(a.rows, b.rows)
    assert set(a.rows) != set(c.rows)  # another seed breaks the tie another way
    np.testing.assert_array_equal(a.difficulty, DIFFICULTY[a.rows])


def test_popularity_takes_the_rarest_items_first() -> None:
    pool = restrict_pool(SPLIT)
    outcome = select("popularity", request(10))
    np.testing.assert_array_equal(outcome.rows, pool[np.argsort(-RARITY[pool])][:10])
    assert (np.diff(outcome.gain) <= 0).all()


def test_random_is_reproducible_and_uniform() -> None:
    a = select("random", request(20, seed=3))
    b = select("random", request(20, seed=3))
    c = select("random", request(20, seed=4))
    np.testing.assert_array_equal(a.rows, b.rows)
    assert not np.array_equal(a.rows, c.rows)
    assert (a.probability == 1 / 600).all()
    tr = select("tr", request(20, seed=3))
    np.testing.assert_array_equal(tr.rows, a.rows)
    assert "teacher recommender" in tr.info["labeller"]


def test_alkd_draws_from_the_policy_over_the_pool() -> None:
    outcome = select("alkd", request(40, seed=5))
    pool = restrict_pool(SPLIT)
    policy = max_min_policy(DIFFICULTY[pool])
    assert outcome.k_star == policy.k_star and outcome.gamma == policy.gamma
    position = np.searchsorted(pool, outcome.rows)
    np.testing.assert_array_equal(outcome.probability, policy.probability[position])
    np.testing.assert_array_equal(outcome.gain, policy.gain[position])
    assert (policy.rank[position] <= policy.k_star).all()
    again = select("alkd", request(40, seed=5))
    np.testing.assert_array_equal(outcome.rows, again.rows)
    rad = select("rad-bc", request(40, seed=5))
    assert rad.k_star == max_min_policy(DIFFICULTY[pool], form="two-class").k_star


def test_uncertainty_takes_the_highest_entropy_first() -> None:
    outcome = select("uncertainty", request(15))
    pool = restrict_pool(SPLIT)
    np.testing.assert_array_equal(outcome.rows, pool[np.argsort(-ENTROPY[pool])][:15])
    np.testing.assert_array_equal(outcome.gain, ENTROPY[outcome.rows])


def test_a_pool_restriction_is_honoured() -> None:
    given = np.arange(0, 1000, 7)  # some valid and test rows among them
    with pytest.raises(BadInputError, match="only training sessions"):
        restrict_pool(SPLIT, given)
    pool = restrict_pool(SPLIT, given, strict=False)
    assert set(pool.tolist()) == {r for r in given.tolist() if r < 600}
    for name in STRATEGIES:
        outcome = select(name, request(30, pool=pool))
        assert set(outcome.rows.tolist()) <= set(pool.tolist()), name
    with pytest.raises(BadInputError, match="not a session"):
        restrict_pool(SPLIT, [5, 1000])


def test_bad_requests_are_one_line_errors() -> None:
    with pytest.raises(BadInputError, match="known are alkd, random"):
        get_strategy("smart")
    with pytest.raises(BadInputError, match="more than the pool's 600"):
        select("random", request(601))
    with pytest.raises(BadInputError, match="needs --teacher"):
        select("alkd", SelectionRequest(pool=np.arange(10), budget=2))
    with pytest.raises(BadInputError, match="needs --student"):
        select("uncertainty", SelectionRequest(pool=np.arange(10), budget=2))
