"""Sampling a budget from p*: distribution, inclusion probabilities, no repeats, seeds."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from alkd_tui.active.policy import max_min_policy, policy_by_rank
from alkd_tui.active.sampling import draw_policy, sample_without_replacement

stats = pytest.importorskip("scipy.stats")


def test_single_draws_follow_the_weights() -> None:
    p = np.array([0.05, 0.4, 0.0, 0.15, 0.3, 0.1])
    rng = np.random.default_rng(0)
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    draws = np.array([sample_without_replacement(log_p, 1, rng)[0] for _ in range(20_000)])
    counts = np.bincount(draws, minlength=len(p))
    assert counts[2] == 0  # probability 0: never
    keep = p > 0
    _, pvalue = stats.chisquare(counts[keep], counts.sum() * p[keep])
    assert pvalue > 1e-3


def test_single_draws_from_the_policy_follow_p_star() -> None:
    difficulty = np.random.default_rng(1).normal(size=12)
    policy = max_min_policy(difficulty, (1, 5, 4), 1.0)
    rng = np.random.default_rng(2)
    first = np.array([draw_policy(difficulty, 1, rng, mu=1.0).positions[0] for _ in range(20_000)])
    counts = np.bincount(first, minlength=12)
    keep = policy.probability > 0
    assert counts[~keep].sum() == 0
    _, pvalue = stats.chisquare(counts[keep], counts.sum() * policy.probability[keep])
    assert pvalue > 1e-3


def successive_inclusion(p: np.ndarray, size: int) -> np.ndarray:
    """Exact inclusion probabilities of successive sampling (draw, remove, renormalise)."""
    n = len(p)
    inclusion = np.zeros(n)
    for seq in itertools.permutations(range(n), size):
        prob, left = 1.0, 1.0
        for s in seq:
            prob *= p[s] / left
            left -= p[s]
        inclusion[list(seq)] += prob
    return inclusion


def test_without_replacement_inclusion_probabilities_are_those_of_successive_sampling() -> None:
    p = np.array([0.4, 0.25, 0.15, 0.1, 0.07, 0.03])
    size, reps = 3, 20_000
    rng = np.random.default_rng(3)
    counts = np.zeros(len(p))
    for _ in range(reps):
        drawn = sample_without_replacement(np.log(p), size, rng)
        assert len(set(drawn.tolist())) == size
        counts[drawn] += 1
    expected = successive_inclusion(p, size)
    assert expected.sum() == pytest.approx(size)
    # Each inclusion count is binomial(reps, pi): all within 4.5 standard deviations.
    sd = np.sqrt(reps * expected * (1 - expected))
    assert (np.abs(counts - reps * expected) < 4.5 * sd).all(), (counts / reps, expected)
    # ...and it is not simply size * p (which would exceed 1 for the first session).
    assert expected[0] < size * p[0]


def test_draws_never_repeat_and_are_reproducible_with_a_seed() -> None:
    difficulty = np.random.default_rng(4).random(3000)
    a = draw_policy(difficulty, 500, 7)
    b = draw_policy(difficulty, 500, 7)
    c = draw_policy(difficulty, 500, 8)
    assert len(np.unique(a.positions)) == 500
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.probability, b.probability)
    assert not np.array_equal(a.positions, c.positions)
    # Every drawn session is inside the support, with its p* recorded.
    assert (a.policy.rank[a.positions] <= a.policy.k_star).all()
    np.testing.assert_array_equal(a.probability, a.policy.probability[a.positions])


def test_a_budget_beyond_the_support_takes_it_whole_then_recomputes() -> None:
    difficulty = np.random.default_rng(5).random(200)
    k_star = policy_by_rank(200).k_star
    draw = draw_policy(difficulty, 199, 0)
    assert draw.rounds >= 2 and len(np.unique(draw.positions)) == 199
    first = draw.positions[:k_star]
    assert set(draw.policy.rank[first].tolist()) == set(range(1, k_star + 1))
    with pytest.raises(ValueError):
        draw_policy(difficulty, 201, 0)


def test_the_sequential_variant_recomputes_after_every_draw() -> None:
    difficulty = np.random.default_rng(6).random(400)
    a = draw_policy(difficulty, 50, 11, sequential=True)
    b = draw_policy(difficulty, 50, 11, sequential=True)
    assert a.rounds == 50 and len(np.unique(a.positions)) == 50
    np.testing.assert_array_equal(a.positions, b.positions)
    # The first draw follows p*; the k-th follows the policy of the 400 - k + 1 sessions left.
    assert a.probability[0] == a.policy.probability[a.positions[0]]
    left = np.setdiff1d(np.arange(400), a.positions[:1])
    again = max_min_policy(difficulty[left])
    position_in_left = int(np.searchsorted(left, a.positions[1]))
    assert a.probability[1] == pytest.approx(again.probability[position_in_left], rel=1e-12)
    rounds = draw_policy(difficulty, 50, 11, sequential=True, round_size=10)
    assert rounds.rounds == 5 and len(np.unique(rounds.positions)) == 50


def test_sequential_single_draws_follow_p_star() -> None:
    difficulty = np.random.default_rng(7).normal(size=10)
    policy = max_min_policy(difficulty, mu=1.0)
    rng = np.random.default_rng(8)
    first = [
        draw_policy(difficulty, 1, rng, mu=1.0, sequential=True).positions[0] for _ in range(20_000)
    ]
    counts = np.bincount(first, minlength=10)
    keep = policy.probability > 0
    assert counts[~keep].sum() == 0
    _, pvalue = stats.chisquare(counts[keep], counts.sum() * policy.probability[keep])
    assert pvalue > 1e-3


def test_log_weights_keep_sessions_whose_probability_underflows() -> None:
    log_p = np.array([-2000.0, -2001.0, -np.inf, -1999.0])  # exp() is 0.0 for all of them
    drawn = sample_without_replacement(log_p, 3, 0)
    assert sorted(drawn.tolist()) == [0, 1, 3]
    with pytest.raises(ValueError):
        sample_without_replacement(log_p, 4, 0)
