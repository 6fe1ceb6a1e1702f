"""Selection strategies behind one interface: a pool of training sessions in, an ordered
selection out, each member with its probability, gain and difficulty where they apply.

Strategies see sessions only through scorers (`rows -> float64 per row`, built from trained
recommenders in `alkd_tui.active.difficulty`), so they are plain numpy and testable alone.

| strategy | needs | order | probability | gain | difficulty |
|---|---|---|---|---|---|
| `alkd` | difficulty | drawn from the max-min policy p* | p* at the draw | g_ef(rank) | df |
| `rad-bc` | difficulty | drawn from the two-class policy (correct/incorrect) | p at the draw | g_ef(rank) | df |
| `random` | - | uniform without replacement | 1/pool | - | df if a scorer is given |
| `tr` | - | as `random`; labelled by the teacher recommender itself, no LLM | 1/pool | - | as random |
| `easiest` | difficulty | least difficult first | - | - | df |
| `hardest` | difficulty | most difficult first | - | - | df |
| `uncertainty` | entropy | highest predictive entropy of the student first | - | entropy | df if given |
| `disagreement` | disagreement | least overlap of the teacher's and student's top 25 first | - | 1 - overlap | df if given |
| `popularity` | popularity | lowest mean log training clicks of the session's items first | - | -mean log clicks | df if given |

The cheap pre-LLM signals (`uncertainty`, `disagreement`, `popularity`) break ties (many
sessions share an overlap) at random with the seed.

`rad-bc` follows the authors' `MAXMIN_vanilla`: gain g = 1/rank^mu when correct, loss g/2
when incorrect, `k_correct / |S| = (r_ef + r_si) / sum(r)` (0.6 with 1:5:4, the authors'
default); its closed form is the exact max-min optimum for two classes. The authors' random,
easiest and hardest baselines pick one session at a time (`sample(1)`, `idxmax`, `idxmin`
of the student-based difficulty), which is what these do in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alkd_tui.active.policy import PAPER_MU, PAPER_RATIOS, Form, difficulty_order
from alkd_tui.active.registry import STRATEGY_ENTRIES
from alkd_tui.active.sampling import as_generator, draw_policy
from alkd_tui.data.canonical import SPLIT_NAMES, TRAIN
from alkd_tui.errors import BadInputError

Scorer = Callable[[np.ndarray], np.ndarray]


@dataclass
class SelectionRequest:
    """What a strategy gets: the pool (dataset rows, training sessions), budget, seed, options
    and scorers."""

    pool: np.ndarray
    budget: int
    seed: int = 0
    ratios: tuple[float, float, float] = PAPER_RATIOS
    mu: float = PAPER_MU
    form: Form = "paper"
    sequential: bool = False
    round_size: int = 1
    difficulty: Scorer | None = None
    """Rows -> difficulty (larger = harder), e.g. from the teacher recommender."""
    entropy: Scorer | None = None
    """Rows -> predictive entropy of the student."""
    disagreement: Scorer | None = None
    """Rows -> 1 - overlap of the teacher recommender's and the student's top 25."""
    popularity: Scorer | None = None
    """Rows -> minus the mean log training clicks of the session's items (larger = rarer)."""


@dataclass
class SelectionOutcome:
    """Selected dataset rows in order (first = selected first) and what is known of each."""

    rows: np.ndarray
    probability: np.ndarray | None = None
    gain: np.ndarray | None = None
    difficulty: np.ndarray | None = None
    k_star: int | None = None
    gamma: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class Strategy:
    """A named way to choose sessions, what it needs, and the function that does it."""

    name: str
    summary: str
    needs: tuple[str, ...]
    """Scorers it cannot run without: "difficulty", "entropy", "disagreement", "popularity"."""
    run: Callable[[SelectionRequest], SelectionOutcome]


def _difficulty_of(request: SelectionRequest, rows: np.ndarray) -> np.ndarray | None:
    return None if request.difficulty is None else request.difficulty(rows)


def _policy(request: SelectionRequest, form: Form) -> SelectionOutcome:
    assert request.difficulty is not None
    pool = request.pool
    difficulty = request.difficulty(pool)
    draw = draw_policy(
        difficulty,
        request.budget,
        request.seed,
        ratios=request.ratios,
        mu=request.mu,
        form=form,
        sequential=request.sequential,
        round_size=request.round_size,
    )
    pos = draw.positions
    policy = draw.policy
    return SelectionOutcome(
        rows=pool[pos],
        probability=draw.probability,
        gain=policy.gain[pos],
        difficulty=difficulty[pos],
        k_star=policy.k_star,
        gamma=policy.gamma,
        info={
            "log_abs_gamma": policy.log_abs_gamma,
            "class_counts": policy.counts.as_dict(),
            "rounds": draw.rounds,
            "rank": policy.rank[pos],
        },
    )


def choose_alkd(request: SelectionRequest) -> SelectionOutcome:
    return _policy(request, request.form)


def choose_rad_bc(request: SelectionRequest) -> SelectionOutcome:
    return _policy(request, "two-class")


def choose_random(request: SelectionRequest) -> SelectionOutcome:
    pool = request.pool
    pos = as_generator(request.seed).choice(len(pool), size=request.budget, replace=False)
    rows = pool[pos]
    return SelectionOutcome(
        rows=rows,
        probability=np.full(len(rows), 1.0 / len(pool)),
        difficulty=_difficulty_of(request, rows),
    )


def choose_tr(request: SelectionRequest) -> SelectionOutcome:
    outcome = choose_random(request)
    outcome.info["labeller"] = "teacher recommender (no LLM)"
    return outcome


def choose_easiest(request: SelectionRequest) -> SelectionOutcome:
    """The least difficult sessions first."""
    return _by_difficulty(request, False)


def choose_hardest(request: SelectionRequest) -> SelectionOutcome:
    """The most difficult sessions first."""
    return _by_difficulty(request, True)


def _by_difficulty(request: SelectionRequest, hardest_first: bool) -> SelectionOutcome:
    assert request.difficulty is not None
    difficulty = request.difficulty(request.pool)
    order = difficulty_order(difficulty if hardest_first else -difficulty)
    pos = order[: request.budget]
    return SelectionOutcome(rows=request.pool[pos], difficulty=difficulty[pos])


def choose_uncertain(request: SelectionRequest) -> SelectionOutcome:
    assert request.entropy is not None
    entropy = request.entropy(request.pool)
    pos = difficulty_order(entropy)[: request.budget]
    rows = request.pool[pos]
    return SelectionOutcome(
        rows=rows,
        gain=entropy[pos],
        difficulty=_difficulty_of(request, rows),
        info={"gain_is": "predictive entropy (nats)"},
    )


def _highest_first(
    request: SelectionRequest, scores: np.ndarray, gain_is: str
) -> SelectionOutcome:
    """The `budget` highest-scoring pool sessions, ties in a random order drawn with the seed."""
    tiebreak = as_generator(request.seed).random(len(scores))
    pos = np.lexsort((tiebreak, -scores))[: request.budget]
    rows = request.pool[pos]
    return SelectionOutcome(
        rows=rows,
        gain=scores[pos],
        difficulty=_difficulty_of(request, rows),
        info={"gain_is": gain_is},
    )


def choose_disagreement(request: SelectionRequest) -> SelectionOutcome:
    """Where the teacher recommender and the student agree least: the sessions whose answer is
    least likely to be one the student already gives (the audit's 'similar' class)."""
    assert request.disagreement is not None
    scores = np.asarray(request.disagreement(request.pool), dtype=np.float64)
    return _highest_first(request, scores, "1 - overlap of the teacher's and student's top 25")


def choose_popularity(request: SelectionRequest) -> SelectionOutcome:
    """The sessions of the rarest items first: where the data teaches the student least."""
    assert request.popularity is not None
    scores = np.asarray(request.popularity(request.pool), dtype=np.float64)
    return _highest_first(request, scores, "minus the mean log(1 + training clicks) of the items")


STRATEGIES: dict[str, Strategy] = {
    entry.name: Strategy(entry.name, entry.summary, entry.needs, entry.load())
    for entry in STRATEGY_ENTRIES.values()
}


def get_strategy(name: str) -> Strategy:
    """The strategy called `name`, or a `BadInputError` listing the known ones."""
    strategy = STRATEGIES.get(name.strip().lower())
    if strategy is None:
        raise BadInputError(f"--strategy {name!r}: known are {', '.join(STRATEGIES)}")
    return strategy


def restrict_pool(
    split: np.ndarray, rows: Iterable[int] | None = None, *, strict: bool = True
) -> np.ndarray:
    """The pool: training rows among `rows` (all training rows when None), sorted, unique.

    With `strict`, a row that is not a training session is a `BadInputError`; otherwise it
    is left out.
    """
    split = np.asarray(split)
    if rows is None:
        return np.flatnonzero(split == TRAIN).astype(np.int64)
    given = np.unique(np.fromiter(rows, dtype=np.int64))
    if given.size and (given[0] < 0 or given[-1] >= len(split)):
        bad = given[(given < 0) | (given >= len(split))][0]
        raise BadInputError(f"pool row {int(bad)} is not a session of the dataset")
    train = split[given] == TRAIN
    if strict and not train.all():
        bad = int(given[~train][0])
        raise BadInputError(
            f"pool row {bad} is a {SPLIT_NAMES[int(split[bad])]} session; only training sessions can be selected"
        )
    return given[train]


def select(strategy: str | Strategy, request: SelectionRequest) -> SelectionOutcome:
    """Run a strategy after checking the request (budget, scorers it needs)."""
    chosen = get_strategy(strategy) if isinstance(strategy, str) else strategy
    n = len(request.pool)
    if n == 0:
        raise BadInputError("the pool of training sessions is empty")
    if request.budget < 1:
        raise BadInputError(f"--budget {request.budget}: must be at least 1")
    if request.budget > n:
        raise BadInputError(f"--budget {request.budget} is more than the pool's {n:,} sessions")
    for need in chosen.needs:
        if getattr(request, need) is None:
            model = "--teacher (or --student)" if need == "difficulty" else "--student"
            raise BadInputError(f"--strategy {chosen.name} needs {model}: a trained recommender")
    request.pool = np.asarray(request.pool, dtype=np.int64)
    outcome = chosen.run(request)
    assert len(np.unique(outcome.rows)) == len(outcome.rows) == request.budget
    return outcome
