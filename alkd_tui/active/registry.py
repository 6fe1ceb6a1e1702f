"""Every selection strategy by name, and the paper's policy constants: the one list the CLI's
choices, the TUI's lists, run validation and `alkd_tui.active.strategies` read. A new strategy
is one function (in `strategies.py` or a module of its own) and one line here; nothing is
imported until a strategy runs (no numpy to list them)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The paper's assumed class shares effective:similar:incorrect, and its gain exponent.
PAPER_RATIOS = (1.0, 5.0, 4.0)
PAPER_MU = 10.0
#: Forms of the max-min policy: the paper's closed form, the exact optimum, RAD-BC's two classes.
FORMS: tuple[str, ...] = ("paper", "exact", "two-class")
#: The scorers built from the teacher recommender, and from the student.
TEACHER_SCORERS = frozenset({"difficulty", "disagreement"})
STUDENT_SCORERS = frozenset({"entropy", "disagreement"})


@dataclass(frozen=True)
class StrategyEntry:
    """A way to choose sessions: its name, what it needs, where its function is."""

    name: str
    target: str
    """`module:function` taking a `SelectionRequest`, returning a `SelectionOutcome`."""
    summary: str
    needs: tuple[str, ...] = ()
    """Scorers it cannot run without: "difficulty" (a recommender), "entropy" (the student),
    "disagreement" (the teacher recommender and the student), "popularity" (the dataset)."""

    @property
    def needs_teacher(self) -> bool:
        """Whether it needs a teacher recommender (difficulty from the student aside)."""
        return bool(TEACHER_SCORERS & set(self.needs))

    @property
    def needs_student(self) -> bool:
        """Whether it needs a student."""
        return bool(STUDENT_SCORERS & set(self.needs))

    def load(self) -> Callable[..., Any]:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


STRATEGY_ENTRIES: dict[str, StrategyEntry] = {
    s.name: s
    for s in (
        StrategyEntry("alkd", "alkd_tui.active.strategies:choose_alkd",
                      "the paper's max-min policy over difficulty ranks", ("difficulty",)),
        StrategyEntry("random", "alkd_tui.active.strategies:choose_random", "uniformly at random"),
        StrategyEntry("easiest", "alkd_tui.active.strategies:choose_easiest", "least difficult first",
                      ("difficulty",)),
        StrategyEntry("hardest", "alkd_tui.active.strategies:choose_hardest", "most difficult first",
                      ("difficulty",)),
        StrategyEntry("rad-bc", "alkd_tui.active.strategies:choose_rad_bc",
                      "two-class (correct/incorrect) max-min policy", ("difficulty",)),
        StrategyEntry("uncertainty", "alkd_tui.active.strategies:choose_uncertain",
                      "highest predictive entropy of the student first", ("entropy",)),
        StrategyEntry("disagreement", "alkd_tui.active.strategies:choose_disagreement",
                      "least overlap of the teacher recommender's and the student's top 25 first",
                      ("disagreement",)),
        StrategyEntry("popularity", "alkd_tui.active.strategies:choose_popularity",
                      "sessions of the least-clicked items first (the long tail)", ("popularity",)),
        StrategyEntry("tr", "alkd_tui.active.strategies:choose_tr",
                      "random sessions, labelled by the teacher recommender (no LLM)"),
    )
}  # fmt: skip
