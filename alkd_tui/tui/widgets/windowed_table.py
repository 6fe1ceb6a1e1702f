"""A DataTable over a long list that holds only a window of rows at a time.

The list (100,000 queue entries, say) stays in memory as plain objects; the table shows about
`window` of them and refills around the cursor when it reaches an edge, so moving, paging and
jumping cost the same on any length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable

from alkd_tui.tui.widgets.tables import CutTable


class WindowedTable(CutTable):
    """A row-cursor DataTable showing a window of `rows`; `index` is the absolute position
    (text cells cut with an ellipsis)."""

    DEFAULT_CSS = """
    WindowedTable {
        height: 1fr;
    }
    """

    class Moved(Message):
        """The cursor is on row `index` of the whole list (`row` is that entry)."""

        def __init__(self, table: WindowedTable, index: int, row: Any) -> None:
            super().__init__()
            self.table = table
            self.index = index
            self.row = row

        @property
        def control(self) -> WindowedTable:
            return self.table

    def __init__(
        self,
        render_row: Callable[[Any], Sequence[Any]],
        *,
        key_of: Callable[[Any], str] = str,
        window: int = 200,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id, classes=classes)
        self.render_row = render_row
        self.key_of = key_of
        self.window = max(window, 20)
        self.source: Sequence[Any] = []
        self.start = 0
        self._last: tuple[int, int, str] | None = None

    @property
    def index(self) -> int:
        """The cursor's position in the whole list (0 when empty)."""
        return self.start + self.cursor_row if self.row_count else 0

    @property
    def current(self) -> Any | None:
        """The entry under the cursor."""
        return self.source[self.index] if self.source and self.row_count else None

    def set_rows(self, rows: Sequence[Any], index: int = 0) -> None:
        """Show `rows` with the cursor on `index`."""
        self.source = rows
        self._fill(max(0, min(index, len(rows) - 1)))

    def _fill(self, index: int) -> None:
        half = self.window // 2
        start = max(0, min(index - half, len(self.source) - self.window))
        self.clear()
        self.start = start
        chunk = self.source[start : start + self.window]
        for entry in chunk:
            self.add_row(*self.render_row(entry), key=self.key_of(entry))
        self._last = None
        if chunk:
            self.move_cursor(row=index - start, animate=False, scroll=True)
            self._moved()

    def go_to(self, index: int) -> None:
        """Put the cursor on entry `index` (refilling the window if it is outside)."""
        if not self.source:
            return
        index = max(0, min(index, len(self.source) - 1))
        if self.start <= index < self.start + self.row_count:
            self.move_cursor(row=index - self.start, animate=False, scroll=True)
        else:
            self._fill(index)

    def refresh_entry(self, index: int) -> None:
        """Redraw entry `index` (after it changed) if it is in the window."""
        row = index - self.start
        if 0 <= row < self.row_count:
            for column, value in enumerate(self.render_row(self.source[index])):
                self.update_cell_at(Coordinate(row, column), value)

    def _moved(self) -> None:
        if not (self.source and self.row_count):
            return
        row = self.source[min(self.index, len(self.source) - 1)]
        mark = (id(self.source), self.index, self.key_of(row))
        if mark != self._last:
            self._last = mark
            self.post_message(self.Moved(self, self.index, row))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self:
            event.stop()
            self._moved()

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.go_to(self.index + 1)
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row == 0 and self.start > 0:
            self.go_to(self.index - 1)
        else:
            super().action_cursor_up()

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_page_down(self) -> None:
        self.go_to(self.index + self._page())

    def action_page_up(self) -> None:
        self.go_to(self.index - self._page())

    def action_scroll_top(self) -> None:
        self.go_to(0)

    def action_scroll_bottom(self) -> None:
        self.go_to(len(self.source) - 1)

    def action_scroll_home(self) -> None:
        self.go_to(0)

    def action_scroll_end(self) -> None:
        self.go_to(len(self.source) - 1)
