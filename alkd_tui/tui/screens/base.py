"""What every area shares: header, area strip, footer, palette commands, worker failures."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.worker import Worker

from alkd_tui.tui.widgets.header import AppHeader, AreaTabs

if TYPE_CHECKING:
    from alkd_tui.pipeline.views import Store
    from alkd_tui.tui.app import AlkdApp

#: A palette command: its name, a line of help, what it does.
PaletteCommand = tuple[str, str, Callable[[], Any]]


class WorkerFailures:
    """Mixed into every node that starts workers: the one place a failed worker is handled
    (the app turns it into a notification or an error dialog)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        app = cast("AlkdApp", cast(Any, self).app)
        app.worker_failed(event.worker)


class AreaScreen(WorkerFailures, Screen[None]):
    """One area of the app (a mode): header, area strip, the area's body, footer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "leave_field", "Leave field", show=False, id="leave-field",
            tooltip="Leave the text field, so that keys (1-6, q...) act on the area again",
        ),
    ]  # fmt: skip
    AREA: ClassVar[str] = ""
    HELP: ClassVar[str] = ""
    """Markdown that F1 shows for this area (with the keys)."""

    def __init__(self) -> None:
        super().__init__()
        if self.app.screen_stack:
            # Textual parses all the CSS again and restyles every node of every screen the
            # first time a mode's screen is shown, as if the stylesheet had changed. After the
            # first screen it has not (a theme change is counted apart), and this screen's
            # widgets get their styles as they mount: marking it up to date skips that pass.
            # (A private counter of Textual 8's: without it, the full pass simply runs.)
            count = getattr(self.app, "_css_update_count", None)
            if isinstance(count, int) and hasattr(self, "_css_update_count"):
                self._css_update_count = count

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Screen's own handler (which runs after this one) would restyle every node of the
        # screen on each visit. An area's styles cannot have gone stale while it was away:
        # class changes restyle at once, and a theme change restyles every screen. So the
        # area keeps its styles, as Textual does when a screen above an opaque one closes.
        event.refresh_styles = False

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield AreaTabs(self.AREA)
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def alkd(self) -> AlkdApp:
        return cast("AlkdApp", self.app)

    @property
    def store(self) -> Store:
        return self.alkd.store

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """Commands this screen offers in the command palette, built from its state."""
        return ()

    def action_refresh(self) -> None:
        """Read this area's data again."""

    def action_leave_field(self) -> None:
        """Take the focus out of a text field (typed digits go to the field, not the areas)."""
        if isinstance(self.focused, Input):
            self.set_focus(None)
