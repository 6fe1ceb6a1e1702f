"""Charts drawn with text: horizontal bars and a one-line sparkline of a series."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

BLOCKS = " ▏▎▍▌▋▊▉█"
SPARKS = "▁▂▃▄▅▆▇█"


def bar(value: float, top: float, width: int) -> str:
    """A bar of `width` cells at most, `value / top` of it filled (eighths of a cell)."""
    if top <= 0 or value <= 0 or not math.isfinite(value):
        return ""
    eighths = round(min(value / top, 1.0) * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + (BLOCKS[rest] if rest else "")


def sparkline(values: Sequence[float | None], width: int | None = None) -> str:
    """A series as one line of block characters (resampled to `width` cells by the max)."""
    data = [v for v in values if v is not None and math.isfinite(v)]
    if not data:
        return ""
    series = [v if v is not None and math.isfinite(v) else min(data) for v in values]
    if width is not None and len(series) > width > 0:
        step = len(series) / width
        series = [
            max(series[int(i * step) : max(int((i + 1) * step), int(i * step) + 1)])
            for i in range(width)
        ]
    low, high = min(series), max(series)
    span = high - low
    return "".join(
        SPARKS[0 if span == 0 else min(len(SPARKS) - 1, int((v - low) / span * len(SPARKS)))]
        for v in series
    )


def accent(widget: Static) -> str:
    """The theme's accent colour as a rich style (cyan before the widget is mounted)."""
    try:
        return widget.app.get_css_variables().get("accent", "cyan")
    except Exception:  # no app yet
        return "cyan"


class BarChart(Static):
    """Labelled horizontal bars, one per row, with the value printed after the bar."""

    DEFAULT_CSS = """
    BarChart {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(
        self,
        title: str = "",
        *,
        width: int = 30,
        fmt: str = "{:,.0f}",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__("", id=id, classes=classes)
        self.title = title
        self.bar_width = width
        self.fmt = fmt
        self.data: list[tuple[str, float]] = []

    def plot(
        self,
        data: Sequence[tuple[str, float | None]],
        title: str | None = None,
        top: float | None = None,
    ) -> None:
        """Draw `data` (label, value) pairs; `top` is the value of a full bar (default: the max)."""
        if title is not None:
            self.title = title
        self.data = [(label, float(v or 0.0)) for label, v in data]
        high = top if top is not None else max((v for _, v in self.data), default=0.0)
        color = accent(self)
        table = Table.grid(padding=(0, 1))
        table.add_column(justify="right", style="bold")
        table.add_column(width=self.bar_width, no_wrap=True)
        table.add_column(justify="right")
        for label, value in self.data:
            table.add_row(
                Text(str(label)),
                Text(bar(value, high, self.bar_width), style=color),
                self.fmt.format(value),
            )
        if not self.data:
            table.add_row("", Text("no data", style="dim"), "")
        if self.title:
            grid = Table.grid()
            grid.add_row(Text(self.title, style="bold underline"))
            grid.add_row(table)
            self.update(grid)
        else:
            self.update(table)
