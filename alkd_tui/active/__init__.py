"""Active selection: difficulty of sessions, gains by rank, the max-min policy, sampling and
the selection strategies (the paper's Module 3). Numpy only, except `difficulty` (torch)."""

from alkd_tui.active.policy import (
    FORMS,
    PAPER_MU,
    PAPER_RATIOS,
    ClassCounts,
    Gains,
    Policy,
    RankPolicy,
    class_counts,
    max_min_policy,
    policy_by_rank,
    rank_gains,
)
from alkd_tui.active.sampling import PolicyDraw, draw_policy, sample_without_replacement
from alkd_tui.active.strategies import (
    STRATEGIES,
    SelectionOutcome,
    SelectionRequest,
    Strategy,
    get_strategy,
    restrict_pool,
    select,
)

__all__ = [
    "FORMS",
    "PAPER_MU",
    "PAPER_RATIOS",
    "STRATEGIES",
    "ClassCounts",
    "Gains",
    "Policy",
    "PolicyDraw",
    "RankPolicy",
    "SelectionOutcome",
    "SelectionRequest",
    "Strategy",
    "class_counts",
    "draw_policy",
    "get_strategy",
    "max_min_policy",
    "policy_by_rank",
    "rank_gains",
    "restrict_pool",
    "sample_without_replacement",
    "select",
]
