"""`CutTable`: a DataTable whose text cells end in an ellipsis when their column is narrower
than them (a plain DataTable cuts them silently: "teacher-rec-kd-se" reads as a whole name)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable


def ellipsized(value: Any) -> Any:
    """A text cell that ends in "…" where it is cut; other cells (numbers, renderables) as they are."""
    if isinstance(value, str):
        return Text(value, overflow="ellipsis", no_wrap=True)
    if isinstance(value, Text) and value.overflow is None:
        cut = value.copy()
        cut.overflow, cut.no_wrap = "ellipsis", True
        return cut
    return value


class CutTable(DataTable[Any]):
    """A DataTable that ellipsizes the text cells it is given (`add_row`, `update_cell*`)."""

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().add_row(*(ellipsized(c) for c in cells), **kwargs)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().update_cell(row_key, column_key, ellipsized(value), **kwargs)

    def update_cell_at(self, coordinate: Any, value: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().update_cell_at(coordinate, ellipsized(value), **kwargs)
