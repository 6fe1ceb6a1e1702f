"""The ranking editor: reorder, remove and add the candidates of a label (an `edit` decision)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import (
    Input,
    Label,
    OptionList,
    Static,
)
from textual.widgets.option_list import Option

from alkd_tui.pipeline.results import ItemView, LabelDetail
from alkd_tui.pipeline.review import RULE_MEANING
from alkd_tui.pipeline.settings import ReviewSettings, field_specs
from alkd_tui.pipeline.views import (
    QUEUE_FILTERS,
    QUEUE_SORTS,
    find_items,
)
from alkd_tui.tui.screens.base import WorkerFailures
from alkd_tui.tui.widgets.form import FormInput

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


class RankingEditor(WorkerFailures, ModalScreen[list[int] | None]):
    """Reorder, remove or add items of a ranking; dismisses with item indices or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+up,K", "move(-1)", "Up", id="edit.up", tooltip="Move the item up"),
        Binding("ctrl+down,J", "move(1)", "Down", id="edit.down", tooltip="Move the item down"),
        Binding(
            "delete,d",
            "remove",
            "Remove",
            id="edit.remove",
            tooltip="Remove the item from the ranking",
        ),
        Binding("ctrl+s", "save", "Save", id="edit.save", tooltip="Store the edited ranking"),
        Binding(
            "escape", "cancel", "Cancel", id="edit.cancel", tooltip="Leave the ranking as it is"
        ),
    ]

    class Found(Message):
        def __init__(self, items: list[ItemView]) -> None:
            super().__init__()
            self.items = items

    def __init__(self, detail: LabelDetail) -> None:
        super().__init__()
        self.detail = detail
        self.items = list(detail.ranking)
        self.known = {
            i.item: i for i in [*detail.candidates, *detail.session, *detail.answered_ranking]
        }

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="ranking-editor"):
            yield Label(f"[b]Edit the ranking of session {escape(self.detail.session_key)}[/b]")
            yield Static(
                "[dim]ctrl+↑/↓ (or K/J) move · d/delete remove · tab to the candidates, enter adds one · "
                "or type item ids below, enter adds them · ctrl+s save · esc cancel[/dim]"
            )
            with Horizontal(id="edit-panes"):
                with Vertical():
                    yield Label("ranking")
                    yield OptionList(id="edit-list")
                with Vertical():
                    yield Label(
                        "other candidates (enter adds one below the cursor)"
                        if self.detail.candidates
                        else "no candidate list came with this answer (recorded answers have "
                        "none): type item ids below"
                    )
                    yield OptionList(id="edit-candidates")
            yield FormInput(
                placeholder="add item ids, comma-separated (e.g. the candidates' ids)",
                id="edit-add",
            )

    def on_mount(self) -> None:
        self._redraw(0)
        self.query_one("#edit-list", OptionList).focus()

    def _redraw(self, highlight: int | None) -> None:
        options = self.query_one("#edit-list", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(f"{n:>2}. {escape(i.label)}  [dim]{escape(i.item)}[/dim]", id=str(n))
                for n, i in enumerate(self.items, 1)
            ]
        )
        if self.items and highlight is not None:
            options.highlighted = max(0, min(highlight, len(self.items) - 1))
        self._redraw_candidates()

    def unused_candidates(self) -> list[ItemView]:
        """The teacher recommender's candidates that the ranking does not hold, in their order."""
        present = {i.idx for i in self.items}
        return [c for c in self.detail.candidates if c.idx not in present]

    def _redraw_candidates(self) -> None:
        picker = self.query_one("#edit-candidates", OptionList)
        at = picker.highlighted
        picker.clear_options()
        picker.add_options(
            [
                Option(f"{escape(c.label)}  [dim]{escape(c.item)}[/dim]", id=str(c.idx))
                for c in self.unused_candidates()
            ]
        )
        if picker.option_count:
            picker.highlighted = min(at or 0, picker.option_count - 1)

    def _cursor(self) -> int:
        return self.query_one("#edit-list", OptionList).highlighted or 0

    @on(OptionList.OptionSelected, "#edit-candidates")
    def _pick(self, event: OptionList.OptionSelected) -> None:
        idx = int(event.option.id or -1)
        self._insert([c for c in self.detail.candidates if c.idx == idx])

    def action_move(self, step: int) -> None:
        at = self._cursor()
        to = at + step
        if 0 <= at < len(self.items) and 0 <= to < len(self.items):
            self.items[at], self.items[to] = self.items[to], self.items[at]
            self._redraw(to)

    def action_remove(self) -> None:
        if self.items:
            at = self._cursor()
            del self.items[at]
            self._redraw(at)

    @on(Input.Submitted, "#edit-add")
    def _add(self, event: Input.Submitted) -> None:
        ids = [x.strip() for x in event.value.split(",") if x.strip()]
        if not ids:
            return
        event.input.value = ""
        if all(i in self.known for i in ids):
            self._insert([self.known[i] for i in ids])
        else:
            self.lookup(ids)

    @work(thread=True, exclusive=True, exit_on_error=False, group="edit-lookup")
    def lookup(self, ids: list[str]) -> None:
        app: Any = self.app
        self.post_message(self.Found(find_items(app.store, self.detail.dataset_id, ids)))

    def on_ranking_editor_found(self, message: Found) -> None:
        self._insert(message.items)

    def _insert(self, items: list[ItemView]) -> None:
        present = {i.idx for i in self.items}
        at = self._cursor() + 1 if self.items else 0
        new = [i for i in items if i.idx not in present]
        self.items[at:at] = new
        self._redraw(at)

    def action_save(self) -> None:
        if not self.items:
            self.notify(
                "an edited ranking needs at least one item (reject the label instead)",
                severity="warning",
            )
            return
        self.dismiss([i.idx for i in self.items])

    def action_cancel(self) -> None:
        self.dismiss(None)
