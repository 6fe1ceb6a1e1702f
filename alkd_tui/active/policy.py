"""Gains by difficulty rank and ALKDRec's max-min selection policy, in closed form.

Sessions are ranked by difficulty, hardest first (rank s = 1 is the hardest). Each session
gains `g_ef(s) = 1 / s^mu` (mu = 10 in the paper) when the LLM's answer is *effective* for
distillation, `g_si(s) = g_ef(s) / 2` when it is *similar* to what the recommenders already
know, and loses `g_in(s) = g_ef(s) / 2` when it is *incorrect*. Only the class counts are
assumed: of |S| sessions, `k_ef : k_si : k_in = r_ef : r_si : r_in` (paper 1:5:4), so
`k_c = |S| * r_c / (r_ef + r_si + r_in)`. A policy p (a distribution over sessions) is worth
its worst case over class assignments c with those counts::

    max_p  min_c  sum_s p_s (c_ef(s) g_ef(s) + c_si(s) g_si(s) - c_in(s) g_in(s))

`form="paper"` is the closed form of the paper and of its authors' code (the default), with
`m = k_si + k_in` and, for s <= m and s > m respectively::

    w_s = 1 / (g_si + g_in)            w_s = 1 / (g_ef + g_in)
    u_s = g_si / (g_si + g_in)         u_s = g_ef / (g_ef + g_in)
    H_k = sum_{s<=k} w_s,   G_k = sum_{s<=k} u_s
    Gamma(k) = (k_ef + k_si - |S| + G_k) / H_k,   k* = argmax_k Gamma(k)
    p*_s = w_s / H_{k*} for s <= k*, else 0

Gamma(k*) is exactly what this p* is worth against its worst case (whenever k* >= k_in), but
it is not always the optimum of the max-min problem above: the exact optimum (`form="exact"`,
checked against a linear program in the tests) is, because all three gains are proportional
to `g_ef`, `p_s = (1/g_ef(s)) / H'_k` on the k hardest sessions with
`H'_k = sum_{s<=k} 1/g_ef(s)` and value `V(k) = C_k / H'_k`, where `C_k` sums the adversary's
coefficients over ranks 1..k: `-g_in/g_ef` on the first k_in ranks, `g_si/g_ef` on the next
k_si, 1 on the rest (fractions at fractional boundaries); `k* = argmax V(k)`. (Where no
policy is worth anything positive, e.g. k_ef = 0 and k_in > k_si, the least bad one puts p
on the k* *easiest* sessions instead, with the same weights.) The two forms
agree when k* <= m (e.g. k_ef = 0). With 1:5:4 and mu = 10, k*/|S| is about 0.937 (paper)
and 0.935 (exact).

`form="two-class"` is the RAD-BC baseline of the authors' code (`MAXMIN_vanilla`): classes
*correct* (gain g_ef, share r_ef + r_si) and *incorrect* (loss g_in, share r_in), with
`w_s = 1 / (g_ef + g_in)`, `u_s = g_ef / (g_ef + g_in)` for every s and the same Gamma, k*,
p*; for two classes this closed form is the exact optimum.

Numerics: gains are kept as natural logs (`log g_ef = -mu log s`), so nothing overflows or
underflows for any |S| or mu: `u_s` is a sigmoid of a log-gain difference (it saturates at
1/2 and 2/3, never 0/0), `log H_k` is a running log-sum-exp, and k* is the argmax of
`log(num_k) - log H_k` (Gamma itself can underflow to 0.0 in float64, its log cannot).
p* is computed as `exp(log w_s - log H_{k*})`; the sampler uses `log p*` directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from alkd_tui.active.registry import FORMS, PAPER_MU, PAPER_RATIOS

Form = Literal["paper", "exact", "two-class"]


@dataclass(frozen=True)
class ClassCounts:
    """How many of |S| sessions are assumed effective, similar and incorrect (may be fractional)."""

    effective: float
    similar: float
    incorrect: float

    def as_dict(self) -> dict[str, float]:
        return {"effective": self.effective, "similar": self.similar, "incorrect": self.incorrect}


def check_ratios(ratios: tuple[float, float, float] | list[float]) -> tuple[float, float, float]:
    """Three finite, non-negative ratios with a positive sum, or `ValueError`."""
    values = tuple(float(r) for r in ratios)
    if len(values) != 3:
        raise ValueError(f"ratios need 3 values (effective:similar:incorrect), got {len(values)}")
    if not all(math.isfinite(r) and r >= 0 for r in values) or sum(values) <= 0:
        raise ValueError(f"ratios must be non-negative numbers with a positive sum, got {values}")
    return values  # type: ignore[return-value]


def class_counts(n: int, ratios: tuple[float, float, float] = PAPER_RATIOS) -> ClassCounts:
    """`k_c = n * r_c / sum(r)` for the three classes."""
    r_ef, r_si, r_in = check_ratios(ratios)
    total = r_ef + r_si + r_in
    return ClassCounts(n * r_ef / total, n * r_si / total, n * r_in / total)


@dataclass(frozen=True)
class Gains:
    """Gains by rank (index 0 = rank 1 = hardest) as natural logs, float64."""

    log_ef: np.ndarray
    log_si: np.ndarray
    log_in: np.ndarray

    @property
    def ef(self) -> np.ndarray:
        """`g_ef` itself (underflows to 0.0 only where it is below float64's range)."""
        return np.exp(self.log_ef)

    def __len__(self) -> int:
        return len(self.log_ef)


def rank_gains(
    n: int, mu: float = PAPER_MU, *, si_share: float = 0.5, in_share: float = 0.5
) -> Gains:
    """`g_ef = 1/rank^mu`, `g_si = si_share * g_ef`, `g_in = in_share * g_ef` for ranks 1..n."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not (math.isfinite(mu) and mu >= 0):
        raise ValueError(f"mu must be a finite number >= 0, got {mu}")
    if not (0 < si_share <= 1 and in_share > 0):
        raise ValueError("si_share must be in (0, 1] and in_share > 0")
    log_ef = -float(mu) * np.log(np.arange(1, n + 1, dtype=np.float64))
    return Gains(log_ef, log_ef + math.log(si_share), log_ef + math.log(in_share))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


@dataclass(frozen=True)
class RankPolicy:
    """The policy over ranks (index 0 = hardest): k*, Gamma(k*) and log p* by rank."""

    k_star: int
    gamma: float
    """Gamma(k*) (for `exact`: V(k*)); may underflow to 0.0, see `log_abs_gamma`."""
    log_abs_gamma: float
    log_probability: np.ndarray
    """log p*_s by rank; -inf beyond k*."""
    counts: ClassCounts
    form: str

    @property
    def probability(self) -> np.ndarray:
        return np.exp(self.log_probability)


def _argmax_ratio(num: np.ndarray, log_den: np.ndarray) -> tuple[int, float, float]:
    """argmax_k num_k / exp(log_den_k) without forming the ratio; returns (index, sign, log|ratio|)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_abs = np.log(np.abs(num)) - log_den
    if (num > 0).any():
        k = int(np.argmax(np.where(num > 0, log_abs, -np.inf)))
        return k, 1.0, float(log_abs[k])
    zero = np.flatnonzero(num == 0)
    if zero.size:
        return int(zero[0]), 0.0, -math.inf
    k = int(np.argmin(log_abs))
    return k, -1.0, float(log_abs[k])


def policy_by_rank(
    n: int,
    ratios: tuple[float, float, float] = PAPER_RATIOS,
    mu: float = PAPER_MU,
    *,
    form: Form = "paper",
    si_share: float = 0.5,
    in_share: float = 0.5,
) -> RankPolicy:
    """The closed-form policy for a pool of `n` sessions already in rank order (see module doc)."""
    if form not in FORMS:
        raise ValueError(f"unknown policy form {form!r}; known: {', '.join(FORMS)}")
    if n < 1:
        raise ValueError("the pool is empty")
    counts = class_counts(n, ratios)
    gains = rank_gains(n, mu, si_share=si_share, in_share=in_share)
    lef, lsi, lin = gains.log_ef, gains.log_si, gains.log_in
    k_in = counts.incorrect
    if form == "exact":
        log_w = -lef
        k = np.arange(1, n + 1, dtype=np.float64)
        m = counts.similar + k_in
        num = (
            -in_share * np.minimum(k, k_in)
            + si_share * np.clip(k - k_in, 0.0, counts.similar)
            + np.maximum(k - m, 0.0)
        )
    else:
        if form == "paper":
            m = counts.similar + k_in
            m_int = math.floor(m + 1e-9 * max(1.0, m))  # s <= m, robust to n * r / sum(r) noise
            first = np.arange(1, n + 1) <= m_int
            log_w = np.where(first, -np.logaddexp(lsi, lin), -np.logaddexp(lef, lin))
            u = np.where(first, _sigmoid(lsi - lin), _sigmoid(lef - lin))
        else:  # two-class: correct (ef + si) vs incorrect
            log_w = -np.logaddexp(lef, lin)
            u = _sigmoid(lef - lin)
        num = np.cumsum(u) - k_in  # = k_ef + k_si - |S| + G_k
    log_h = np.logaddexp.accumulate(log_w)
    index, sign, log_abs = _argmax_ratio(num, log_h)
    k_star = index + 1
    support = slice(0, k_star)
    if form == "exact" and sign < 0:
        # No policy is worth anything positive: the least bad spreads p over the *easiest*
        # sessions instead (small gains, small losses): V(j) = C_j / H''_j over suffixes.
        log_h = np.logaddexp.accumulate(log_w[::-1])
        index, sign, log_abs = _argmax_ratio(num, log_h)
        k_star = index + 1
        support = slice(n - k_star, n)
    log_p = np.full(n, -np.inf)
    log_p[support] = log_w[support] - log_h[index]
    # Renormalise away the rounding of the running log-sum-exp (a relative 1e-15 or so).
    top = log_p[support].max()
    log_p[support] -= top + math.log(float(np.exp(log_p[support] - top).sum()))
    gamma = sign * math.exp(log_abs) if sign else 0.0
    return RankPolicy(k_star, gamma, log_abs, log_p, counts, form)


@dataclass(frozen=True)
class Policy:
    """The policy over a pool in its original order, with each session's rank and gain."""

    k_star: int
    gamma: float
    log_abs_gamma: float
    probability: np.ndarray
    """p* aligned with the input order (0 for sessions of rank > k*)."""
    log_probability: np.ndarray
    gain: np.ndarray
    """g_ef aligned with the input order."""
    rank: np.ndarray
    """1-based difficulty rank aligned with the input order (1 = hardest)."""
    order: np.ndarray
    """Input positions sorted hardest first (`order[r - 1]` has rank r)."""
    counts: ClassCounts
    form: str


def difficulty_order(difficulty: np.ndarray) -> np.ndarray:
    """Positions sorted hardest first (largest difficulty first); ties keep input order."""
    values = np.asarray(difficulty, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("difficulty contains NaN")
    return np.argsort(-values, kind="stable")


def max_min_policy(
    difficulty: np.ndarray,
    ratios: tuple[float, float, float] = PAPER_RATIOS,
    mu: float = PAPER_MU,
    *,
    form: Form = "paper",
    si_share: float = 0.5,
    in_share: float = 0.5,
) -> Policy:
    """The max-min policy for sessions with these difficulties (larger = harder).

    Returns k*, Gamma(k*), and p*, gains and ranks aligned with the order of `difficulty`.
    """
    order = difficulty_order(difficulty)
    n = len(order)
    by_rank = policy_by_rank(n, ratios, mu, form=form, si_share=si_share, in_share=in_share)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    log_p = np.empty(n)
    log_p[order] = by_rank.log_probability
    return Policy(
        k_star=by_rank.k_star,
        gamma=by_rank.gamma,
        log_abs_gamma=by_rank.log_abs_gamma,
        probability=np.exp(log_p),
        log_probability=log_p,
        gain=np.exp(-float(mu) * np.log(rank.astype(np.float64))),
        rank=rank,
        order=order,
        counts=by_rank.counts,
        form=form,
    )
