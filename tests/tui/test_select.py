"""Selecting from the TUI: the preview (k*, Gamma, the curve, the class counts) follows the
settings without running a model; ctrl+s creates the selection with the teacher's difficulty."""

from __future__ import annotations

import json

from textual.widgets import DataTable, Input, Sparkline, Static

from alkd_tui.pipeline.selection import list_selections, show_selection
from alkd_tui.store import Store
from alkd_tui.tui.screens.select import PreviewReady, SelectionCreated
from alkd_tui.tui.widgets.charts import BarChart


async def test_preview_then_create_a_selection(
    labelling_store: Store, make_app, settled, waiter
) -> None:  # type: ignore[no-untyped-def]
    messages: list[object] = []
    app = make_app(labelling_store)
    async with app.run_test(size=(150, 45), message_hook=messages.append) as pilot:
        await pilot.press("2")
        await waiter(
            pilot,
            lambda: any(isinstance(m, PreviewReady) and m.preview for m in messages),
            what="preview",
        )
        await settled(app, pilot)
        screen = app.screen
        preview = next(m.preview for m in messages if isinstance(m, PreviewReady) and m.preview)
        assert preview["strategy"] == "alkd" and preview["k_star"] is not None
        text = str(screen.query_one("#preview-text", Static).render())
        assert f"k* {preview['k_star']:,}" in text and "Gamma" in text
        assert len(screen.query_one("#preview-curve", Sparkline).data) == len(preview["curve"])
        assert [label for label, _ in screen.query_one("#preview-classes", BarChart).data] == [
            "effective",
            "similar",
            "incorrect",
        ]

        messages.clear()
        screen.query_one("#sel-budget", Input).value = "20"
        screen.query_one("#sel-mu", Input).value = "5"
        await waiter(
            pilot, lambda: any(isinstance(m, PreviewReady) and m.preview for m in messages)
        )
        latest = [m for m in messages if isinstance(m, PreviewReady)][-1].preview
        assert latest["budget"] == 20 and latest["mu"] == 5.0

        screen.query_one("#sel-ratios", Input).value = "1:5"
        await waiter(pilot, lambda: any(isinstance(m, PreviewReady) and m.error for m in messages))
        assert "--ratios" in str(screen.query_one("#preview-text", Static).render())
        screen.query_one("#sel-ratios", Input).value = "1:5:4"
        screen.query_one("#sel-name", Input).value = "picked"
        await settled(app, pilot)

        await pilot.press("ctrl+s")
        created = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, SelectionCreated)), None),
            what="created",
        )
        await settled(app, pilot)
        assert created.summary.name == "picked" and created.summary.size == 20
        assert app.selection == "picked"
        assert "picked" in [s.name for s in list_selections(labelling_store)]
        members = show_selection(labelling_store, "picked").members
        assert len(members) == 20 and all(m["difficulty"] is not None for m in members)
        table = screen.query_one("#selections", DataTable)
        assert "picked" in [str(table.get_row_at(r)[0]) for r in range(table.row_count)]


async def test_a_pool_of_recorded_answers_limits_the_selection(
    labelling_store: Store, make_app, settled, waiter, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Select's pool field takes replay:FILE: only sessions with a recorded answer."""
    from textual.widgets import Select

    from tests.tui.conftest import answers_file

    answers = answers_file(labelling_store, tmp_path / "answers.jsonl", limit=7)
    messages: list[object] = []
    app = make_app(labelling_store)
    async with app.run_test(size=(150, 45), message_hook=messages.append) as pilot:
        await pilot.press("2")
        await waiter(pilot, lambda: any(isinstance(m, PreviewReady) and m.preview for m in messages))
        await settled(app, pilot)
        screen = app.screen
        screen.query_one("#sel-strategy", Select).value = "random"
        screen.query_one("#sel-budget", Input).value = "5"
        screen.query_one("#sel-pool", Input).value = f"replay:{answers}"
        screen.query_one("#sel-name", Input).value = "answered-only"
        await settled(app, pilot)
        await pilot.press("ctrl+s")
        created = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, SelectionCreated)), None),
            what="created",
        )
        assert created.summary.pool_size == 7 and created.summary.size == 5
    keys = {json.loads(line)["session_id"] for line in answers.read_text().splitlines()}
    assert {m["session"] for m in show_selection(labelling_store, "answered-only").members} <= keys
