"""How sessions are selected for the LLM: `SelectSettings`, declared once for `alkd select`,
the TUI's Select area and `alkd run`'s [select] section."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alkd_tui.active.registry import FORMS, PAPER_MU, PAPER_RATIOS, STRATEGY_ENTRIES

POLICY = "Policy (alkd, rad-bc)"

Strategy = Literal[tuple(STRATEGY_ENTRIES)]  # type: ignore[valid-type]
Form = Literal[FORMS]  # type: ignore[valid-type]


class SelectSettings(BaseModel):
    """Which training sessions the teacher is asked about, and how they are drawn."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    strategy: Strategy = "alkd"  # type: ignore[assignment]
    """How sessions are chosen (`alkd_tui.active.strategies`): alkd is the paper's max-min
    policy over the teacher recommender's difficulty."""
    budget: int = Field(20, ge=1)
    """How many sessions to select (the paper: 500). With from_file: the first this many."""
    ratios: str = Field(
        ":".join(f"{r:g}" for r in PAPER_RATIOS), json_schema_extra={"panel": POLICY}
    )
    """Assumed effective:similar:incorrect shares, or from:SELECTION (what `alkd audit
    --save-ratios` measured on that selection's answers)."""
    mu: float = Field(PAPER_MU, ge=0, json_schema_extra={"panel": POLICY})
    """Gain exponent: g = 1/rank^mu."""
    form: Form = Field("paper", json_schema_extra={"panel": POLICY})  # type: ignore[assignment]
    """paper: the paper's closed form; exact: the max-min optimum; two-class: RAD-BC's."""
    sequential: bool = Field(False, json_schema_extra={"panel": POLICY})
    """Recompute the policy on the remaining pool after every draw (the authors' code)."""
    difficulty_from: Literal["teacher", "student"] = Field(
        "teacher", json_schema_extra={"panel": POLICY}
    )
    """Whose difficulty ranks the sessions: the teacher recommender's (the paper) or the
    student's (the authors' code)."""
    pool: str | None = None
    """Only these training sessions: replay:FILE (recorded answers: JSONL, CSV or Parquet) or
    ids:FILE (session ids); default every training session."""
    from_file: str | None = None
    """Instead of a strategy: the session ids of a file, in order (the paper's lists)."""
    seed: int = 0
    """Seed of the draws (in `alkd run`, the run's seed)."""
