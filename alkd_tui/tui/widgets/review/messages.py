"""The Review area's messages: what its workers found and what a decision did."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from alkd_tui.pipeline.results import ItemView, LabelDetail, SelectionSummary
from alkd_tui.pipeline.review import RULE_MEANING
from alkd_tui.pipeline.settings import ReviewSettings, field_specs
from alkd_tui.pipeline.views import (
    QUEUE_FILTERS,
    QUEUE_SORTS,
    QueueEntry,
)

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


class ReviewChoices(Message):
    """The selections, and the students by the name of their dataset."""

    def __init__(
        self, selections: list[SelectionSummary], students: dict[str, list[str]]
    ) -> None:
        super().__init__()
        self.selections = selections
        self.students = students


class QueueLoaded(Message):
    """A selection's review queue (`pipeline.views.review_queue`)."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self.data = data


class ViewReady(Message):
    """The queue sorted and filtered for the table; `focus` is the entry (key) to put the cursor on."""

    def __init__(self, rows: list[QueueEntry], position: dict[str, int], focus: str | None) -> None:
        super().__init__()
        self.rows = rows
        self.position = position
        self.focus = focus


class DetailLoaded(Message):
    """One label in full, loaded for the queue entry `key`."""

    def __init__(self, key: str, detail: LabelDetail) -> None:
        super().__init__()
        self.key = key
        self.detail = detail


class StudentTop(Message):
    def __init__(self, key: str, model: str, rows: list[ItemView]) -> None:
        super().__init__()
        self.key = key
        self.model = model
        self.rows = rows


class Decided(Message):
    """A decision was stored; `state` is the label's status after it."""

    def __init__(self, request_id: int, action: str, event_id: int, state: dict[str, Any]) -> None:
        super().__init__()
        self.request_id = request_id
        self.action = action
        self.event_id = event_id
        self.state = state


class BulkAccepted(Message):
    def __init__(self, rule: str, result: dict[str, int]) -> None:
        super().__init__()
        self.rule = rule
        self.result = result
