"""Drawing a budget of sessions from the max-min policy, reproducibly, never twice the same.

One-shot (the default): the budget is drawn from p* without replacement by Gumbel-top-k
(Efraimidis-Spirakis keys in log form: `key_s = log p*_s + Gumbel_s`, the `budget` largest keys
in decreasing order). This is *successive sampling*: the first draw follows p*, each later
draw follows p* renormalised over the sessions not yet drawn, exactly the semantics of
`numpy.random.Generator.choice(n, budget, replace=False, p=p*)`, but in one vectorised pass
and on `log p*`, so sessions whose p* underflows float64 keep their (tiny) chance. The draw
order is recorded. This is the architecture's reading of the paper ("sample the budget from
p* without replacement"): renormalising over the sessions left is the standard way to draw
without replacement from one fixed p*; the first draw follows p* exactly, later ones p*
conditioned on the earlier (inclusion probabilities are therefore not `budget * p*`, which
could exceed 1). Where the budget exceeds the policy's support k*, the support is drawn
whole and the rest comes from the policy recomputed on the sessions not yet drawn (ranks
re-counted among them), round after round.

Sequential (`sequential=True`, the authors' code): after every draw (or every `round_size`
draws) the policy is recomputed on the shrinking pool, ranks re-counted among the sessions
left, and the next session is drawn from it (the authors' loop calls
`np.random.choice(N, size=1, p=MAXMIN(N))`, drops the drawn row and repeats, with N the
sessions left). Each member records the probability it had at its draw. The authors' loop
re-solves the policy (k* and p* change with the pool), so it is not the same distribution as
the one-shot draw; for a budget much smaller than the pool the two are close.

Both take a `numpy.random.Generator` (or a seed): same seed, same selection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alkd_tui.active.policy import (
    PAPER_MU,
    PAPER_RATIOS,
    Form,
    Policy,
    RankPolicy,
    max_min_policy,
    policy_by_rank,
)


def as_generator(seed: int | np.random.Generator) -> np.random.Generator:
    """A numpy Generator: `seed` itself, or a new PCG64 seeded with it."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def sample_without_replacement(
    log_p: np.ndarray, size: int, rng: int | np.random.Generator
) -> np.ndarray:
    """Positions of `size` successive draws without replacement from weights `exp(log_p)`
    (need not be normalised; -inf = never), in draw order (Gumbel-top-k)."""
    log_p = np.asarray(log_p, dtype=np.float64)
    possible = int(np.isfinite(log_p).sum())
    if size > possible:
        raise ValueError(f"cannot draw {size} from {possible} sessions with a positive chance")
    if size <= 0:
        return np.empty(0, dtype=np.int64)
    keys = log_p + as_generator(rng).gumbel(size=len(log_p))
    top = np.argpartition(-keys, size - 1)[:size]
    return top[np.argsort(-keys[top], kind="stable")].astype(np.int64)


@dataclass
class PolicyDraw:
    """Drawn pool positions in draw order, each with the probability it had when drawn."""

    positions: np.ndarray
    probability: np.ndarray
    policy: Policy
    """The policy over the whole pool (k*, Gamma, ranks, gains of the first round)."""
    rounds: int


def _rank_policy(n: int, ratios: tuple[float, float, float], mu: float, form: Form) -> RankPolicy:
    return policy_by_rank(n, ratios, mu, form=form)


def draw_policy(
    difficulty: np.ndarray,
    budget: int,
    rng: int | np.random.Generator = 0,
    *,
    ratios: tuple[float, float, float] = PAPER_RATIOS,
    mu: float = PAPER_MU,
    form: Form = "paper",
    sequential: bool = False,
    round_size: int = 1,
) -> PolicyDraw:
    """Draw `budget` pool positions (into `difficulty`) by the max-min policy (module doc)."""
    difficulty = np.asarray(difficulty, dtype=np.float64)
    n = len(difficulty)
    if not 0 <= budget <= n:
        raise ValueError(f"budget {budget} is not between 0 and the pool's {n} sessions")
    if round_size < 1:
        raise ValueError("round_size must be >= 1")
    gen = as_generator(rng)
    policy = max_min_policy(difficulty, ratios, mu, form=form)
    left = policy.order  # pool positions still undrawn, hardest first
    drawn: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    rounds = 0
    taken = 0
    while taken < budget:
        by_rank = (
            _rank_policy(len(left), ratios, mu, form)
            if rounds
            else RankPolicy(
                policy.k_star,
                policy.gamma,
                policy.log_abs_gamma,
                policy.log_probability[left],
                policy.counts,
                form,
            )
        )
        want = budget - taken
        if sequential:
            want = min(want, round_size)
        want = min(want, int(np.isfinite(by_rank.log_probability).sum()))
        if sequential and want == 1:
            # One draw by inverse CDF on p (what np.random.choice(size=1, p=p) does).
            p = by_rank.probability
            cdf = np.cumsum(p)
            pick = np.array(
                [min(int(np.searchsorted(cdf, gen.random() * cdf[-1], "right")), len(p) - 1)]
            )
            while p[pick[0]] == 0:  # a zero-probability rank can only be hit through rounding
                pick[0] -= 1
        else:
            pick = sample_without_replacement(by_rank.log_probability, want, gen)
        drawn.append(left[pick])
        probs.append(np.exp(by_rank.log_probability[pick]))
        left = np.delete(left, pick)
        taken += len(pick)
        rounds += 1
    positions = np.concatenate(drawn) if drawn else np.empty(0, dtype=np.int64)
    probability = np.concatenate(probs) if probs else np.empty(0)
    return PolicyDraw(positions.astype(np.int64), probability, policy, rounds)
