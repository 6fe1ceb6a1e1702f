"""Accept by rule: choose the rule (`ReviewSettings`' choices) and confirm."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.widgets import (
    Button,
    Label,
    RadioButton,
    RadioSet,
    Static,
)

from alkd_tui.pipeline.review import RULE_MEANING
from alkd_tui.pipeline.settings import ReviewSettings, field_specs
from alkd_tui.pipeline.views import (
    QUEUE_FILTERS,
    QUEUE_SORTS,
)
from alkd_tui.tui.widgets.dialogs import FormDialog

ALL = "*"
STATUS_STYLE = {
    "pending": "",
    "accepted": "green",
    "rejected": "red",
    "skipped": "dim",
    "flagged": "yellow",
}
SORTS = QUEUE_SORTS
FILTERS = QUEUE_FILTERS
#: The rules `ReviewSettings` offers, its default first, each with what it accepts.
RULE = next(s for s in field_specs(ReviewSettings) if s.name == "rule")
RULES = [(r, RULE_MEANING[r]) for r in sorted(RULE.choices, key=lambda r: r != RULE.default)]


class RuleDialog(FormDialog[str | None]):
    """Choose the rule of a bulk accept, and confirm it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "submit",
            "Accept all",
            id="bulk.accept",
            tooltip="Accept every pending label that meets the rule",
        ),
        Binding("escape", "cancel", "Cancel", id="bulk.cancel", tooltip="Do nothing"),
    ]

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="rule-dialog"):
            yield Label(f"[b]Accept by rule[/b]: {escape(self.scope)}")
            with RadioSet(id="rule"):
                for n, (rule, text) in enumerate(RULES):
                    yield RadioButton(f"{rule}: {text}", value=n == 0, name=rule)
            yield Static(
                "[dim]Each acceptance is a review event (reviewer 'policy'); undo works label by label.[/dim]"
            )
            with Horizontal(classes="buttons"):
                yield Button(
                    "Accept all (ctrl+s)", variant="warning", id="rule-go", classes="submit"
                )
                yield Button("Cancel (esc)", id="rule-cancel", classes="cancel")

    def arguments(self) -> str:
        """The chosen rule."""
        pressed = self.query_one(RadioSet).pressed_button
        return pressed.name if pressed is not None and pressed.name else "parsed"
