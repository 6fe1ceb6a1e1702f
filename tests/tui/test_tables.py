"""Cut text ends in an ellipsis: table cells, long checkbox labels and field placeholders."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.widgets import Checkbox

from alkd_tui.tui.widgets.settings_form import short
from alkd_tui.tui.widgets.tables import CutTable, ellipsized


class TableApp(App[None]):
    CSS_PATH = "../../alkd_tui/tui/app.tcss"

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield CutTable(id="t")
            yield Checkbox("force: train again even if this exact model exists", id="c")

    def on_mount(self) -> None:
        self.query_one("#box").styles.width = 30
        table = self.query_one(CutTable)
        table.add_column("name", key="name", width=8)
        table.add_column("n", width=4)
        table.add_row("teacher-rec-kd-sel", 123456, key="a")
        table.add_row(Text("short"), "x", key="b")


async def test_a_cut_cell_and_a_cut_checkbox_label_end_in_an_ellipsis() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(CutTable)
        lines = [s.text for s in table.render_lines(Region(0, 0, 20, 3))]
        assert "teacher…" in lines[1] and "short" in lines[2]
        table.update_cell("b", "name", "a-much-longer-name")
        await pilot.pause()
        assert "a-much-…" in table.render_lines(Region(0, 0, 20, 3))[2].text
        box = app.query_one(Checkbox)
        assert box.size.width <= 30
        shown = app.export_screenshot()  # what the screen shows (the compositor's lines)
        assert "exact" not in shown and "again&#160;ev…" in shown


def test_ellipsized_leaves_numbers_and_chosen_overflow_alone() -> None:
    assert ellipsized(3) == 3
    folded = Text("x", overflow="fold")
    assert ellipsized(folded) is folded
    cut = ellipsized("abc")
    assert isinstance(cut, Text) and cut.overflow == "ellipsis" and cut.no_wrap


def test_short_cuts_at_a_word_with_an_ellipsis() -> None:
    assert short("every training session", 40) == "every training session"
    assert short("every training session; or replay:FILE, or ids:FILE of session ids", 40) == (
        "every training session; or replay:FILE…"
    )
    assert len(short("x" * 100, 40)) <= 40
