"""Options that say how to read a format's files (as opposed to how to preprocess them)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class ReaderOptions(BaseModel):
    """How to read the input files; each format uses the options that make sense for it."""

    model_config = ConfigDict(extra="forbid")

    delimiter: str | None = None
    """Column separator (default: the format's own; for csv, tab for .tsv files, else ',')."""
    encoding: str | None = None
    """Text encoding (default: the format's own, usually utf-8)."""
    session_col: str | None = None
    """csv: the column that names the session."""
    user_col: str | None = None
    """csv: the column that names the user, when sessions are cut by inactivity instead."""
    item_col: str | None = None
    """csv: the column that names the item."""
    time_col: str | None = None
    """csv: the column with the click time (unix seconds, or ISO 8601); `none` when the file
    has none (sessions keep the file's order)."""
    time_unit: float | None = None
    """csv: seconds per unit of a numeric time column (0.001 for milliseconds)."""
    titles: Path | None = None
    """csv: a file with item titles."""
    title_col: str | None = None
    """csv: the titles file's title column (default "title")."""

    def given(self) -> set[str]:
        """The names of the options the user set."""
        return {name for name, value in self.model_dump().items() if value is not None}
