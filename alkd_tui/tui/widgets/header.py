"""The app's header (database, teacher and whether it answers) and the strip of areas."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

if TYPE_CHECKING:
    from alkd_tui.pipeline.teacher_server import ServerStatus

AREAS = (
    ("datasets", "Datasets"),
    ("select", "Select"),
    ("label", "Label"),
    ("review", "Review"),
    ("runs", "Runs"),
    ("audit", "Audit"),
)


def teacher_text(status: ServerStatus | None, host: str, model: str) -> str:
    """The teacher part of the header: where, which model, and a live reachable state."""
    if status is None:
        return f"teacher [$warning]● checking[/] {host} · {model}"
    if not status.reachable:
        return f"teacher [$error]● unreachable[/] {host} · {model}"
    kind = "local compatibility server" if status.local else "Ollama"
    return f"teacher [$success]● reachable[/] {kind} {host} · {model}"


class AppHeader(Horizontal):
    """One line: alkd, the database, the teacher (updated as the app polls it)."""

    DEFAULT_CSS = """
    AppHeader {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    AppHeader #brand {
        width: auto;
        padding: 0 1;
        background: $primary;
        color: $text;
        text-style: bold;
    }
    AppHeader #db {
        width: 1fr;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    AppHeader #teacher {
        width: auto;
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        app: Any = self.app
        yield Static("alkd", id="brand")
        yield Static(f"db [b]{escape(app.db_label)}[/b]", id="db", markup=True)
        yield Static("", id="teacher")

    def on_mount(self) -> None:
        self.watch(self.app, "teacher_status", self._teacher_changed)
        self.watch(self.app, "teacher_model", self._teacher_changed)

    def _teacher_changed(self, _value: object = None) -> None:
        app: Any = self.app
        self.query_one("#teacher", Static).update(
            teacher_text(app.teacher_status, app.teacher_host, app.teacher_model)
        )


class AreaTabs(Static):
    """The areas, their keys, the current one highlighted; a click switches area."""

    DEFAULT_CSS = """
    AreaTabs {
        height: 1;
        background: $boost;
        padding: 0 1;
    }
    """

    def __init__(self, current: str) -> None:
        super().__init__("", markup=True)
        self.current = current

    def on_mount(self) -> None:
        parts = []
        for number, (area, title) in enumerate(AREAS, start=1):
            if area == self.current:
                parts.append(f"[b reverse $accent] {number} {title} [/]")
            else:
                parts.append(f"[@click=app.area('{area}')] [dim]{number}[/dim] {title} [/]")
        self.update(" ".join(parts) + "   [dim]F1 help · ctrl+p commands[/dim]")
