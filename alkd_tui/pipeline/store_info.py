"""What is in a store: path, schema revision, row counts."""

from __future__ import annotations

from typing import Any

from alkd_tui.store import Store, current_revision, head_revision
from alkd_tui.store.datasets import row_counts

TABLES = (
    "dataset",
    "item",
    "session",
    "model",
    "selection",
    "teacher_request",
    "review_event",
    "run",
)


def store_info(store: Store) -> dict[str, Any]:
    """The store's path, size, schema revision and the number of rows per main table."""
    rows = row_counts(store, TABLES)
    return {
        "path": store.where,
        "size_bytes": store.size_bytes(),
        "revision": current_revision(store.engine),
        "head": head_revision(),
        "rows": rows,
    }
