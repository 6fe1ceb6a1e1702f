"""The max-min policy: closed forms against a brute-force linear program, numerics at scale."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal, getcontext

import numpy as np
import pytest

from alkd_tui.active.policy import (
    class_counts,
    max_min_policy,
    policy_by_rank,
    rank_gains,
)

linprog = pytest.importorskip("scipy.optimize").linprog
sparse = pytest.importorskip("scipy.sparse")

LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


def payoffs(n: int, mu: float) -> np.ndarray:
    """[3, n]: what each session is worth when effective, similar, incorrect (by rank)."""
    g = rank_gains(n, mu)
    return np.stack([g.ef, np.exp(g.log_si), -np.exp(g.log_in)])


def assignments(n: int, k_ef: int, k_si: int):  # type: ignore[no-untyped-def]
    """Every assignment of exactly k_ef, k_si and n - k_ef - k_si sessions to the classes."""
    for ef in itertools.combinations(range(n), k_ef):
        rest = [s for s in range(n) if s not in ef]
        for si in itertools.combinations(rest, k_si):
            c = np.full(n, 2)
            c[list(ef)] = 0
            c[list(si)] = 1
            yield c


def vertex_matrix(pay: np.ndarray, k_ef: int, k_si: int) -> np.ndarray:
    """One row per class assignment: each session's payoff under it."""
    n = pay.shape[1]
    return np.array([pay[c, np.arange(n)] for c in assignments(n, k_ef, k_si)])


def brute_force(vertices: np.ndarray) -> float:
    """max_p min_c p . payoff(c) as an LP over the assignment polytope's vertices."""
    rows, n = vertices.shape
    res = linprog(
        np.r_[np.zeros(n), -1.0],
        A_ub=np.hstack([-vertices, np.ones((rows, 1))]),
        b_ub=np.zeros(rows),
        A_eq=np.r_[np.ones(n), 0.0][None],
        b_eq=[1.0],
        bounds=[(0, None)] * n + [(None, None)],
        method="highs",
        options=LP_OPTIONS,
    )
    assert res.status == 0
    return -res.fun


def brute_force_fractional(pay: np.ndarray, counts: tuple[float, float, float]) -> float:
    """The same max-min with real-valued class counts: the inner minimum over the
    transportation polytope replaced by its LP dual (max sum alpha + sum k_c beta_c)."""
    n = pay.shape[1]
    eye = sparse.identity(n, format="csr")
    blocks = []
    for c in range(3):
        pick = np.zeros((n, 3))
        pick[:, c] = 1
        blocks.append(sparse.hstack([-sparse.diags(pay[c]), eye, sparse.csr_matrix(pick)]))
    res = linprog(
        np.r_[np.zeros(n), -np.ones(n), -np.asarray(counts)],
        A_ub=sparse.vstack(blocks).tocsr(),
        b_ub=np.zeros(3 * n),
        A_eq=np.r_[np.ones(n), np.zeros(n + 3)][None],
        b_eq=[1.0],
        bounds=[(0, None)] * n + [(None, None)] * (n + 3),
        method="highs",
        options=LP_OPTIONS,
    )
    assert res.status == 0
    return -res.fun


def random_instances(count: int, seed: int, max_n: int = 7):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(1, max_n + 1))
        mu = float(rng.uniform(0.0, 4.0))
        a, b = sorted(rng.integers(0, n + 1, 2).tolist())
        yield n, mu, (a, b - a, n - b)


def test_the_exact_form_equals_a_brute_force_max_min_solution() -> None:
    for n, mu, (k_ef, k_si, k_in) in random_instances(250, seed=0):
        vertices = vertex_matrix(payoffs(n, mu), k_ef, k_si)
        optimum = brute_force(vertices)
        policy = policy_by_rank(n, (k_ef, k_si, k_in), mu, form="exact")
        attained = (vertices @ policy.probability).min()
        assert policy.gamma == pytest.approx(optimum, abs=1e-9), (n, mu, k_ef, k_si, k_in)
        assert attained == pytest.approx(optimum, abs=1e-9), (n, mu, k_ef, k_si, k_in)


def test_the_exact_form_is_optimal_with_fractional_class_counts_too() -> None:
    rng = np.random.default_rng(1)
    for _ in range(120):
        n = int(rng.integers(1, 25))
        mu = float(rng.uniform(0.0, 3.0))
        ratios = rng.uniform(0, 1, 3)
        if rng.random() < 0.25:
            ratios[rng.integers(3)] = 0.0
        counts = class_counts(n, tuple(ratios))
        optimum = brute_force_fractional(
            payoffs(n, mu), (counts.effective, counts.similar, counts.incorrect)
        )
        policy = policy_by_rank(n, tuple(ratios), mu, form="exact")
        assert policy.gamma == pytest.approx(optimum, abs=1e-9)


def test_the_paper_form_is_worth_its_gamma_and_never_more_than_the_optimum() -> None:
    """Gamma(k*) is what the paper's p* guarantees against its worst case; the paper's form is
    the max-min optimum when k* <= m = k_si + k_in (here: no effective class, k_si >= k_in),
    and can fall short of it otherwise (the exact form exists for that)."""
    short = 0
    for n, mu, (k_ef, k_si, k_in) in random_instances(250, seed=2):
        vertices = vertex_matrix(payoffs(n, mu), k_ef, k_si)
        optimum = brute_force(vertices)
        policy = policy_by_rank(n, (k_ef, k_si, k_in), mu, form="paper")
        attained = (vertices @ policy.probability).min()
        if policy.k_star >= k_in:
            assert attained == pytest.approx(policy.gamma, abs=1e-9)
        assert attained <= optimum + 1e-9
        if k_ef == 0 and k_si >= k_in:
            assert policy.gamma == pytest.approx(optimum, abs=1e-9)
        short += attained < optimum - 1e-9
    assert short > 0  # the paper's closed form is not always the optimum


def test_the_two_class_form_equals_a_brute_force_max_min_solution() -> None:
    """RAD-BC: correct (gain g) or incorrect (loss g/2), k_in of them incorrect."""
    for n, mu, (k_ef, k_si, k_in) in random_instances(150, seed=3):
        k_correct = k_ef + k_si
        pay = payoffs(n, mu)
        two = np.stack([pay[0], pay[0], pay[2]])  # "similar" pays like "effective": one class
        vertices = vertex_matrix(two, k_correct, 0)
        policy = policy_by_rank(n, (k_correct, 0, k_in), mu, form="two-class")
        optimum = brute_force(vertices)
        assert (vertices @ policy.probability).min() <= optimum + 1e-9
        if optimum > 0:  # (where nothing is worth anything, the authors' form is not optimal)
            assert policy.gamma == pytest.approx(optimum, abs=1e-9)
            assert (vertices @ policy.probability).min() == pytest.approx(policy.gamma, abs=1e-9)


def authors_maxmin(n: int, k1: float = 0.1, k2: float = 0.5) -> tuple[np.ndarray, int]:
    """The authors' MAXMIN (active learning-ML.ipynb), in float64 as they wrote it; returns
    its Gamma curve and its argmax (0-based)."""
    g = np.arange(1, n + 1, dtype=float) ** -10
    f = loss = 0.5 * g  # their f and l
    cut = int(n * (1 - k1))
    gk = f / (f + loss)
    gk[cut:] = (g / (g + loss))[cut:]
    hk = 1 / (f + loss)
    hk[cut:] = (1 / (g + loss))[cut:]
    gamma = (np.cumsum(gk) + n * (k1 + k2 - 1)) / np.cumsum(hk)
    return gamma, int(np.argmax(gamma))


@pytest.mark.parametrize("n", [10, 97, 1000, 7393])
def test_the_paper_form_matches_the_authors_code_where_floats_suffice(n: int) -> None:
    gamma, index = authors_maxmin(n)
    policy = policy_by_rank(n)
    assert policy.k_star == index + 1  # their p keeps index k_star - 1 too: one session fewer
    assert policy.gamma == pytest.approx(gamma[index], rel=1e-12)
    w = np.where(np.arange(1, n + 1) <= int(n * 0.9), 1.0, 2.0 / 3.0) * np.arange(1, n + 1.0) ** 10
    expected = np.where(np.arange(1, n + 1) <= policy.k_star, w, 0.0)
    np.testing.assert_allclose(policy.probability, expected / expected.sum(), rtol=1e-12, atol=0)


def test_p_star_is_a_distribution_zero_beyond_k_star_and_follows_the_original_order() -> None:
    rng = np.random.default_rng(4)
    difficulty = rng.normal(size=501)
    policy = max_min_policy(difficulty)
    p = policy.probability
    assert p.min() >= 0 and p.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.array_equal(np.argsort(-difficulty, kind="stable"), policy.order)
    assert (p[policy.rank > policy.k_star] == 0).all()
    assert (p[policy.rank <= policy.k_star] > 0).all()
    by_rank = policy_by_rank(501)
    np.testing.assert_array_equal(p[policy.order], by_rank.probability)
    hardest = int(np.argmax(difficulty))
    assert policy.rank[hardest] == 1 and policy.gain[hardest] == 1.0
    assert policy.gain[int(np.argmin(difficulty))] == pytest.approx(501.0**-10)


def test_with_paper_ratios_and_mu_k_star_is_about_0_937_of_the_pool() -> None:
    paper = policy_by_rank(10_000, (1, 5, 4), 10.0)
    exact = policy_by_rank(10_000, (1, 5, 4), 10.0, form="exact")
    assert paper.k_star / 10_000 == pytest.approx(0.937, abs=0.001)
    assert exact.k_star / 10_000 == pytest.approx(0.935, abs=0.001)
    assert exact.gamma >= paper.gamma  # the exact optimum is worth at least as much


def reference_policy(n: int, mu: int, k_in: Decimal, m: int) -> tuple[int, list[Decimal]]:
    """The paper's closed form in 60-digit decimals (no float range limits)."""
    getcontext().prec = 60
    h = Decimal(0)
    g_sum = Decimal(0)
    best: tuple[Decimal, int] | None = None
    weights = []
    for s in range(1, n + 1):
        g = Decimal(s) ** -mu
        w = 1 / g if s <= m else 1 / (g + g / 2)
        u = Decimal(1) / 2 if s <= m else Decimal(2) / 3
        h += w
        g_sum += u
        weights.append(w)
        value = (g_sum - k_in) / h
        if best is None or value > best[0]:
            best = (value, s)
    assert best is not None
    k = best[1]
    total = sum(weights[:k])
    return k, [w / total for w in weights[:k]]


def test_k_star_and_p_star_are_right_where_gains_leave_float64_range() -> None:
    """mu = 120: rank 2000's gain is 1e-396 (0.0 in float64) and its weight 1e396 (inf);
    the log-space closed form still finds the same k* and p* as 60-digit arithmetic."""
    n, mu = 2000, 120
    policy = policy_by_rank(n, (1, 5, 4), float(mu))
    k, p_ref = reference_policy(n, mu, Decimal(n) * 4 / 10, 1800)
    assert policy.k_star == k
    log_ref = np.array([float(p.ln()) for p in p_ref])
    np.testing.assert_allclose(policy.log_probability[:k], log_ref, rtol=0, atol=1e-9)
    assert np.isfinite(policy.log_abs_gamma) and policy.probability.sum() == pytest.approx(1.0)


@pytest.mark.slow
def test_numerically_safe_at_ten_million_sessions() -> None:
    for mu in (10.0, 50.0):
        policy = policy_by_rank(10_000_000, (1, 5, 4), mu)
        p = policy.probability
        assert np.isfinite(p).all() and p.min() >= 0
        assert p.sum() == pytest.approx(1.0, abs=1e-9)
        assert np.isfinite(policy.log_abs_gamma)
        assert 0.5 < policy.k_star / 10_000_000 < 1.0  # 0.937 with mu = 10, 0.816 with 50
        small = policy_by_rank(100_000, (1, 5, 4), mu)
        assert policy.k_star / 1e7 == pytest.approx(small.k_star / 1e5, abs=1e-3)
    assert math.isfinite(policy_by_rank(10_000_000, form="exact").log_abs_gamma)
