"""How the audit classes answers against a student: `AuditSettings`, declared once for `alkd
audit` and the TUI's Audit area (no torch here: the CLI builds its options from it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AuditSettings(BaseModel):
    """How answers are classed against a student (`alkd audit --student`)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    n: int = Field(25, ge=1)
    """Answer length the classes compare (the paper: 25)."""
    overlap: float = Field(0.5, ge=0, le=1)
    """Share of common items that makes an answer 'similar' to the student's top n."""
