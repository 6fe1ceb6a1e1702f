"""What a label curve measures (`alkd curve`), declared once: the CLI's options, the run's
record and the benchmarks derive from `CurveSettings`. Light: no numpy, no torch."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from alkd_tui.rec.settings import Metric


def _fractions(value: Any) -> Any:
    """`"0.25,0.5"`, `["0.25,0.5"]` and `[0.25, 0.5]` alike: a list of numbers."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        out: list[Any] = []
        for item in value:
            out += (
                [p for p in str(item).split(",") if p.strip()] if isinstance(item, str) else [item]
            )
        return out
    return value


class CurveSettings(BaseModel):
    """What a label curve measures: which fractions of the accepted labels, over how many
    seeds, by which validation metric."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    fractions: Annotated[list[float], BeforeValidator(_fractions)] = Field(
        default_factory=lambda: [0.25, 0.5, 0.75, 1.0]
    )
    """Fractions of the accepted labels to distil on, nested (comma-separated, e.g.
    0.25,0.5,0.75,1)."""
    seeds: int = Field(3, ge=1, le=20)
    """Seeds: each draws the labels' order and seeds its distillations."""
    metric: Metric = "recall@10"
    """The validation metric of the curve."""
    min_labels: int = Field(10, ge=1)
    """The fewest labels the smallest fraction may hold (fewer: refused)."""

    @field_validator("fractions")
    @classmethod
    def _check(cls, value: list[float]) -> list[float]:
        if len(value) < 2:
            raise ValueError("give at least two fractions, e.g. 0.25,0.5,0.75,1")
        if any(not 0 < f <= 1 for f in value):
            raise ValueError("fractions lie in (0, 1]")
        return sorted(set(value))

    def minimum(self) -> int:
        """The fewest accepted labels these fractions can run on."""
        return math.ceil(self.min_labels / self.fractions[0] - 1e-9)
