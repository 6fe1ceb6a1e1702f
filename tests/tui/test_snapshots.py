"""SVG snapshots of the main screens at three sizes (a small terminal, 100x30, below the
narrow layout's 120 columns; 160x45; 200x60), over fixed data (a labelled store with
its timestamps pinned, a fixed database label, a teacher host that never answers), the
cursor blink off. Update with `pytest tests/tui/test_snapshots.py --snapshot-update` and
look at the SVGs (tests/tui/__snapshots__/) before committing them."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input

from alkd_tui.pipeline.review import record_review
from alkd_tui.pipeline.views import review_queue
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql

SIZES = {"100x30": (100, 30), "160x45": (160, 45), "200x60": (200, 60)}


@pytest.fixture
def pinned(labelled_store: Store) -> Store:
    """The labelled store with two decisions and the timestamps it shows pinned (review
    events are append-only: their times stay, and no screen shows them)."""
    entries = review_queue(labelled_store, "sel")["entries"]
    record_review(labelled_store, entries[0].request_id, "accept", reviewer="ann")
    record_review(labelled_store, entries[1].request_id, "reject", reviewer="ann")
    with labelled_store.engine.begin() as conn:
        run_sql(conn, "UPDATE run SET started_at = '2026-01-01 00:00:00.000000', finished_at = '2026-01-01 00:00:02.500000'"
        )
        run_sql(conn, "UPDATE model SET created_at = '2026-01-01 00:00:00.000000'")
    return labelled_store


def _shoot(snap_compare: Any, app: Any, key: str, settled: Any, size: tuple[int, int]) -> bool:
    async def run_before(pilot: Any) -> None:
        await pilot.press(key)
        await settled(app, pilot)
        await pilot.pause(0.3)
        await settled(app, pilot)
        for widget in app.screen.query(Input):
            widget.cursor_blink = False
        await pilot.pause()

    return snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize(
    "key",
    ["1", "2", "3", "4", "5", "6"],
    ids=["datasets", "select", "label", "review", "runs", "audit"],
)
def test_screen(key: str, size: str, pinned: Store, make_app, settled, snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = make_app(pinned, poll_teacher=True, poll_seconds=3600)
    assert _shoot(snap_compare, app, key, settled, SIZES[size])
