"""F1: what this area is for and its keys (from the live bindings, so remapped keys show)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown, Static

GENERAL = """\
**Everywhere**: `1`-`6` switch area, `ctrl+p` the command palette, `ctrl+r` read again,
`tab` moves between controls, `F1` this help, `q` quit. Long jobs run as `alkd` processes
that keep going when you quit; coming back attaches to them.
"""


def keys_table(screen: Screen[object]) -> str:
    """The app's active bindings on `screen` (those with an id) as a Markdown table: the
    key, what it does, the binding id (for a keymap)."""
    rows = ["| key | does | id |", "|---|---|---|"]
    seen = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.system or not binding.id or (binding.action, binding.description) in seen:
            continue  # only the app's own keys (a widget's arrows and the like go without saying)
        seen.add((binding.action, binding.description))
        shown = screen.app.get_key_display(binding)
        about = binding.tooltip or binding.description
        rows.append(f"| `{shown}` | {about} | {binding.id} |")
    return "\n".join(rows)


class HelpScreen(ModalScreen[None]):
    """Help for the area it was opened from."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > Vertical {
        width: 90%;
        max-width: 120;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen Markdown {
        height: 1fr;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss", "Close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self, title: str, text: str, keys: str) -> None:
        super().__init__()
        self.title_text, self.text, self.keys = title, text, keys

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Markdown(
                f"# {self.title_text}\n\n{self.text}\n\n## Keys\n\n{self.keys}\n\n{GENERAL}"
            )
            yield Static("[dim]Esc closes the help.[/dim]")
