"""Review: the queue of a selection's teacher labels and a focus card for one of them.

The queue lists every answered label with its review status, the teacher's confidence (the
parse status, then the top score where the answer has scores; lowest first by default) and
why the session was chosen (its selection probability and difficulty). The card shows the
session's items in order with titles, the LLM's ranking with scores beside a student's top-k,
the true next item (marked: it is there for the audit, the LLM never saw it), provenance, and
on demand the raw prompt and answer.

Every decision is an append-only review event written by `pipeline.review.record_review`,
in the order the keys were pressed; undo is an event too.
"""

from __future__ import annotations

import queue
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.widgets import (
    ProgressBar,
    Select,
    Static,
)
from textual.worker import get_current_worker

from alkd_tui.errors import AlkdError
from alkd_tui.pipeline.results import ItemView, LabelDetail
from alkd_tui.pipeline.review import RULE_MEANING, accept_by_rule, record_review
from alkd_tui.pipeline.selection import list_selections
from alkd_tui.pipeline.settings import ReviewSettings, field_specs
from alkd_tui.pipeline.views import (
    QUEUE_FILTERS,
    QUEUE_SORTS,
    QueueEntry,
    label_detail,
    review_queue,
    review_states,
    sort_queue,
    student_top_k,
)
from alkd_tui.tui.screens.base import AreaScreen, PaletteCommand
from alkd_tui.tui.widgets.form import FormSelect
from alkd_tui.tui.widgets.review.card import _num, render_card, render_raw
from alkd_tui.tui.widgets.review.messages import (
    BulkAccepted,
    Decided,
    DetailLoaded,
    QueueLoaded,
    ReviewChoices,
    StudentTop,
    ViewReady,
)
from alkd_tui.tui.widgets.review.ranking_editor import RankingEditor
from alkd_tui.tui.widgets.review.rule_dialog import RuleDialog
from alkd_tui.tui.widgets.windowed_table import WindowedTable

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


def queue_row(e: QueueEntry) -> tuple[Any, ...]:
    """A queue entry as table cells."""
    status = Text(e.status + ("*" if e.edited else ""), style=STATUS_STYLE.get(e.status, ""))
    parse = Text(e.parse_status or "-", style="" if e.parse_status == "ok" else "yellow")
    return (
        status,
        Text(e.session_key),
        parse,
        _num(e.top_score),
        _num(e.probability),
        _num(e.difficulty),
        e.order,
        e.ranked,
    )


class ReviewScreen(AreaScreen):
    """The review queue and the focus card."""

    AREA = "review"
    HELP = """\
Review the teacher's labels of a selection. The queue shows each answered label: its review
status (`*` = edited), the **parse** status and the **top** score (where the answer had
scores) — together the teacher's *confidence*, lowest first by default —, and why the
session was chosen: its selection probability **p** and **difficulty** (larger = harder),
and its **order** of drawing.

The card shows the session oldest first with titles, the LLM's ranking beside the top-k of
the student chosen above (◆ marks the true next item, which the LLM never saw; • an item in
both lists), and where the answer came from. `r` shows the raw prompt and answer and the
review history.

Decisions are append-only review events, stored in the order you press the keys; `u` undoes
the last decision you made here (or the highlighted label's latest one). `A` accepts every
pending label that meets a rule, after a confirmation. Sort and filter with the selectors at
the top (`s` and `v` cycle them), or click a column header.

Several reviewers: your decisions carry your name (`$ALKD_REVIEWER`, else your user name)
and the card says who decided what. "not decided by me" is your queue; "reviewers disagree"
lists the labels whose verdicts differ. A selection that needs N decisions per label (`alkd
review require SELECTION N`) keeps a label pending until N reviewers decided; the majority's
verdict stands, and a tie is flagged.
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "decide('accept')", "Accept", id="review.accept", tooltip="Accept the label"),
        Binding("x", "decide('reject')", "Reject", id="review.reject", tooltip="Reject the label"),
        Binding(
            "space", "decide('skip')", "Skip", id="review.skip", tooltip="Skip it (no decision)"
        ),
        Binding(
            "e", "edit", "Edit", id="review.edit", tooltip="Edit the ranking (reorder, remove, add)"
        ),
        Binding(
            "f", "decide('flag')", "Flag", id="review.flag", tooltip="Flag it for a second look"
        ),
        Binding("u,backspace", "undo", "Undo", id="review.undo", tooltip="Undo the last decision"),
        Binding("n", "step(1)", "Next", id="review.next", tooltip="Next label"),
        Binding("p", "step(-1)", "Prev", id="review.previous", tooltip="Previous label"),
        Binding(
            "r", "raw", "Raw", id="review.raw", tooltip="Show or hide the raw prompt and answer"
        ),
        Binding(
            "A",
            "bulk",
            "Accept by rule",
            id="review.bulk",
            tooltip="Accept every pending label that meets a rule",
        ),
        Binding("s", "cycle_sort", "Sort", show=False, id="review.sort", tooltip="Next sort order"),
        Binding("v", "cycle_filter", "Show", show=False, id="review.filter", tooltip="Next filter"),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="review-controls"):
            yield FormSelect([], id="rev-selection", prompt="selection")
            yield FormSelect(
                [("all teacher models", ALL)], id="rev-model", value=ALL, allow_blank=False
            )
            yield FormSelect([], id="rev-student", prompt="student for top-k")
            yield FormSelect(
                [(text, key) for key, (text, _) in FILTERS.items()],
                value="all",
                allow_blank=False,
                id="rev-filter",
            )
            yield FormSelect(
                [(text, key) for key, (text, _) in SORTS.items()],
                value="confidence",
                allow_blank=False,
                id="rev-sort",
            )
        with Horizontal(id="review-progress"):
            yield Static("", id="rev-counts")
            yield ProgressBar(id="rev-bar", show_eta=False, show_percentage=True)
        with Horizontal(id="review-body"):
            yield WindowedTable(queue_row, key_of=lambda e: e.key, window=120, id="queue")
            with VerticalScroll(id="card"):
                yield Static("No label chosen.", id="card-main")
                yield Static("", id="card-raw")

    def on_mount(self) -> None:
        table = self.query_one("#queue", WindowedTable)
        for label, key, width in (
            ("status", "status", 9),
            ("session", "order", 10),
            ("parse", "confidence", 8),
            ("top", "confidence", 5),
            ("p", "probability", 8),
            ("difficulty", "difficulty", 10),
            ("order", "order", 5),
            ("ranked", None, 6),
        ):
            table.add_column(label, key=f"{label}:{key}", width=width)
        self.data: dict[str, Any] | None = None
        self.entries: list[QueueEntry] = []
        self.counts: Counter[str] = Counter()  # entries by status (kept up to date on decisions)
        self.entry_index: dict[int, list[int]] = {}  # request -> its entries (shared requests)
        self._loading: tuple[str, str | None] | None = None
        self.view: list[QueueEntry] = []
        self.position: dict[str, int] = {}  # entry key -> row in the view
        self.detail: LabelDetail | None = None
        self.detail_key: str | None = None  # the queue entry the detail was loaded for
        self.student_rows: tuple[str, str, list[ItemView]] | None = None
        self.undo_stack: list[int] = []
        self.decisions: queue.Queue[tuple[str, int, dict[str, Any] | None]] = queue.Queue()
        self.query_one("#card-raw", Static).display = False
        self.students_by_dataset: dict[str, list[str]] = {}
        self.selection_datasets: dict[str, str] = {}
        self.write_decisions()
        self.load_choices()
        self.watch(self.app, "labels_changed", self._labels_changed, init=False)
        table.focus()

    def on_screen_resume(self) -> None:
        """Entering the area reads it again: a job elsewhere may have answered or decided."""
        if getattr(self, "data", None) is not None:
            self.load_choices()
            self._load_queue(self._focused_key(), force=True)

    def _labels_changed(self, _count: int) -> None:
        """A label job ended (in the Label area): its answers join the queue."""
        if getattr(self, "data", None) is not None:
            self._load_queue(self._focused_key(), force=True)

    def _focused_key(self) -> str | None:
        current = self.query_one("#queue", WindowedTable).current
        return None if current is None else str(current.key)

    def action_refresh(self) -> None:
        self.load_choices()
        self._load_queue(force=True)

    # loading

    @work(thread=True, exclusive=True, exit_on_error=False, group="review-choices")
    def load_choices(self) -> None:
        from alkd_tui.pipeline.datasets import list_datasets
        from alkd_tui.pipeline.models import list_models

        datasets = {d.id: d.name for d in list_datasets(self.store)}
        students: dict[str, list[str]] = {}
        for m in list_models(self.store):
            if m.role in ("student", "distilled") and m.status == "done":
                students.setdefault(datasets.get(m.dataset_id, ""), []).append(m.name)
        self.post_message(ReviewChoices(list_selections(self.store), students))

    def on_review_choices(self, message: ReviewChoices) -> None:
        self.selection_names = [s.name for s in message.selections]
        self.selection_datasets = {s.name: s.dataset for s in message.selections}
        self.students_by_dataset = message.students
        widget = self.query_one("#rev-selection", Select)
        current = widget.value
        widget.set_options([(s.name, s.name) for s in message.selections])
        wanted = self.alkd.selection if self.alkd.selection in self.selection_names else current
        if wanted not in self.selection_names and self.selection_names:
            wanted = self.selection_names[-1]
        if wanted in self.selection_names:
            widget.value = wanted  # a change loads the queue (`_selection_changed`)
        self._offer_students()

    def _offer_students(self) -> None:
        """The student picker offers the students of the chosen selection's dataset only."""
        selection = self._value("#rev-selection")
        dataset = self.selection_datasets.get(selection or "")
        students = self.students_by_dataset.get(dataset or "", [])
        student = self.query_one("#rev-student", Select)
        chosen = student.value
        with student.prevent(Select.Changed):
            student.set_options([(n, n) for n in students])
            if chosen in students:
                student.value = chosen
            elif students:
                student.value = students[0]
        if student.value != chosen:
            self.student_rows = None
            if self.detail is not None:
                self._render_card()
                self._load_student(self.detail)

    def _value(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else str(value)

    def _load_queue(self, focus: str | None = None, *, force: bool = False) -> None:
        selection = self._value("#rev-selection")
        if selection is None:
            return
        model = self._value("#rev-model")
        wanted = (selection, None if model in (None, ALL) else model)
        if wanted == self._loading and not force:
            return  # already on its way
        self._loading = wanted
        self.query_one("#rev-counts", Static).update(f"reading the labels of {selection}…")
        self.load_queue(*wanted, focus)

    @work(thread=True, exclusive=True, exit_on_error=False, group="review-queue")
    def load_queue(self, selection: str, model: str | None, focus: str | None) -> None:
        with self.alkd.heap.paused():
            data = review_queue(self.store, selection, model)
            index: dict[int, list[int]] = {}
            for n, entry in enumerate(data["entries"]):
                index.setdefault(entry.request_id, []).append(n)
        data["entry_index"] = index
        data["counts"] = Counter(e.status for e in data["entries"])
        data["model_filter"] = model
        data["focus"] = focus
        self.post_message(QueueLoaded(data))

    def on_queue_loaded(self, message: QueueLoaded) -> None:
        self._loading = None
        self.data = message.data
        self.alkd.heap.settle()  # a long queue is many long-lived objects: freeze them now
        self.alkd.selection = message.data["name"]
        self.entries = message.data["entries"]
        self.counts = message.data["counts"]
        self.entry_index = message.data["entry_index"]
        model = self.query_one("#rev-model", Select)
        models = message.data["models"]
        with model.prevent(Select.Changed):
            model.set_options([("all teacher models", ALL), *((m, m) for m in models)])
            model.value = message.data["model_filter"] or ALL
        self._apply_view(message.data.get("focus"))

    def _apply_view(self, focus: str | None = None) -> None:
        current = self.query_one("#queue", WindowedTable).current
        if focus is None and current is not None:
            focus = current.key
        self.make_view(
            list(self.entries),
            self._value("#rev-sort") or "confidence",
            self._value("#rev-filter") or "all",
            focus,
        )

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="review-view",
        description="sort and filter the queue",  # not the repr of 100,000 entries
    )  # fmt: skip
    def make_view(self, entries: list[QueueEntry], sort: str, show: str, focus: str | None) -> None:
        with self.alkd.heap.paused():
            rows = sort_queue(entries, sort, show)
            position = {e.key: n for n, e in enumerate(rows)}
        self.post_message(ViewReady(rows, position, focus))

    def on_view_ready(self, message: ViewReady) -> None:
        self.view = message.rows
        self.position = message.position
        table = self.query_one("#queue", WindowedTable)
        index = self.position.get(message.focus, 0) if message.focus is not None else 0
        table.set_rows(self.view, index)
        if not self.view:
            self._show_empty()
        self._update_counts()

    def _show_empty(self) -> None:
        self.detail, self.detail_key = None, None
        if self.data is not None and not self.entries:
            text = f"[b]{escape(self.data['name'])}[/b] has no answered labels yet: label it in the Label area (key [b]3[/b])."
        else:
            text = "No label matches this filter."
        self.query_one("#card-main", Static).update(text)
        self.query_one("#card-raw", Static).update("")

    def _update_counts(self) -> None:
        if self.data is None:
            return
        counts = self.counts
        decided = counts["accepted"] + counts["rejected"]
        total = len(self.entries)
        table = self.query_one("#queue", WindowedTable)
        where = f"row {table.index + 1:,}/{len(self.view):,}" if self.view else "none shown"
        self.query_one("#rev-counts", Static).update(
            f"{decided:,}/{total:,} decided: [green]{counts['accepted']:,} accepted[/] · "
            f"[red]{counts['rejected']:,} rejected[/] · [yellow]{counts['flagged']:,} flagged[/] · "
            f"{counts['skipped']:,} skipped · {counts['pending']:,} pending · "
            f"{total:,} labels for {self.data['size']:,} sessions · {where}"
        )
        bar = self.query_one("#rev-bar", ProgressBar)
        bar.update(total=max(total, 1), progress=decided)

    @on(Select.Changed, "#rev-selection")
    def _selection_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL and (
            self.data is None or self.data["name"] != event.value
        ):
            model = self.query_one("#rev-model", Select)
            with model.prevent(Select.Changed):
                model.set_options([("all teacher models", ALL)])
                model.value = ALL
            self.undo_stack.clear()
            self._offer_students()
            self._load_queue()

    @on(Select.Changed, "#rev-model")
    def _model_changed(self, event: Select.Changed) -> None:
        if self.data is not None and event.value != (self.data.get("model_filter") or ALL):
            self._load_queue()

    @on(Select.Changed, "#rev-sort")
    @on(Select.Changed, "#rev-filter")
    def _view_changed(self) -> None:
        if self.data is not None:
            self._apply_view()

    @on(Select.Changed, "#rev-student")
    def _student_changed(self) -> None:
        if self.detail is not None:
            self._load_student(self.detail)

    def on_data_table_header_selected(self, event: Any) -> None:
        key = str(event.column_key.value).split(":", 1)[1]
        if key in SORTS:
            self.query_one("#rev-sort", Select).value = key

    # the card

    def on_windowed_table_moved(self, message: WindowedTable.Moved) -> None:
        entry: QueueEntry = message.row
        self._update_counts()
        self.load_detail(entry)

    @work(thread=True, exclusive=True, exit_on_error=False, group="review-detail")
    def load_detail(self, entry: QueueEntry) -> None:
        selection = self.data["selection"] if self.data else None
        detail = label_detail(self.store, entry.request_id, entry.session_id, selection)
        self.post_message(DetailLoaded(entry.key, detail))

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        current = self.query_one("#queue", WindowedTable).current
        if current is None or current.key != message.key:
            return
        self.detail, self.detail_key = message.detail, message.key
        self._render_card()
        self._load_student(message.detail)

    def _load_student(self, detail: LabelDetail) -> None:
        student = self._value("#rev-student")
        if student is not None and self.detail_key is not None:
            k = min(max(10, len(detail.ranking)), 25)
            self.student_top(student, self.detail_key, detail.session_index, k)

    @work(thread=True, exclusive=True, exit_on_error=False, group="review-student")
    def student_top(self, model: str, key: str, session_index: int, k: int) -> None:
        self.post_message(
            StudentTop(key, model, student_top_k(self.store, model, session_index, k))
        )

    def on_student_top(self, message: StudentTop) -> None:
        self.student_rows = (message.key, message.model, message.rows)
        if self.detail is not None and self.detail_key == message.key:
            self._render_card()

    def _render_card(self) -> None:
        detail = self.detail
        if detail is None:
            return
        rows, name = None, self._value("#rev-student")
        if (
            self.student_rows is not None
            and self.student_rows[0] == self.detail_key
            and self.student_rows[1] == name
        ):
            rows = self.student_rows[2]
        self.query_one("#card-main", Static).update(render_card(detail, rows, name))
        raw = self.query_one("#card-raw", Static)
        if raw.display:
            raw.update(render_raw(detail))

    def action_raw(self) -> None:
        raw = self.query_one("#card-raw", Static)
        raw.display = not raw.display
        self._render_card()

    # decisions

    def action_step(self, step: int) -> None:
        table = self.query_one("#queue", WindowedTable)
        table.go_to(table.index + step)

    def _current(self) -> QueueEntry | None:
        return self.query_one("#queue", WindowedTable).current

    def action_decide(self, action: str) -> None:
        entry = self._current()
        if entry is None:
            return
        self.decisions.put((action, entry.request_id, None))
        self.undo_stack.append(entry.key)
        self.action_step(1)

    def action_undo(self) -> None:
        if self.undo_stack:
            key = self.undo_stack.pop()
            request_id = int(key.split(":")[0])
            if key in self.position:
                self.query_one("#queue", WindowedTable).go_to(self.position[key])
        else:
            entry = self._current()
            if entry is None or entry.status == "pending":
                self.notify("nothing to undo", severity="warning")
                return
            request_id = entry.request_id
        self.decisions.put(("undo", request_id, None))

    def action_edit(self) -> None:
        detail = self.detail
        entry = self._current()
        if detail is None or entry is None or self.detail_key != entry.key:
            return
        request_id, key = entry.request_id, entry.key

        def done(ranking: list[int] | None) -> None:
            if ranking is not None:
                self.decisions.put(("edit", request_id, {"ranking": ranking}))
                self.undo_stack.append(key)

        self.app.push_screen(RankingEditor(detail), done)

    @work(thread=True, exit_on_error=False, group="review-decisions")
    def write_decisions(self) -> None:
        """Store the decisions one by one, in the order they were made."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            try:
                action, request_id, after = self.decisions.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                event_id = record_review(self.store, request_id, action, after=after)
                state = review_states(self.store, [request_id])[request_id]
            except AlkdError as exc:
                self.app.call_from_thread(self.notify, str(exc), title="error", severity="error")
                continue
            self.post_message(Decided(request_id, action, event_id, state))

    def on_decided(self, message: Decided) -> None:
        state = message.state
        changes = {k: state[k] for k in ("status", "edited", "ranked", "reviewers", "disagreement")}
        table = self.query_one("#queue", WindowedTable)
        for n in self.entry_index.get(message.request_id, []):  # every session the request answers
            self.counts[self.entries[n].status] -= 1
            self.counts[state["status"]] += 1
            entry = self.entries[n] = replace(self.entries[n], **changes)
            index = self.position.get(entry.key)
            if index is not None:
                self.view[index] = replace(self.view[index], **changes)
                table.refresh_entry(index)
        self._update_counts()
        current = self._current()
        if current is not None and current.request_id == message.request_id:
            self.load_detail(current)

    def action_bulk(self) -> None:
        if self.data is None:
            return
        model = self.data.get("model_filter")
        scope = f"selection {self.data['name']}" + (
            f", answers of {model}" if model else ", every teacher model"
        )
        self.app.push_screen(RuleDialog(scope), self._bulk)

    def _bulk(self, rule: str | None) -> None:
        if rule is not None and self.data is not None:
            self.bulk_accept(self.data["selection"], rule, self.data.get("model_filter"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="review-bulk")
    def bulk_accept(self, selection_id: int, rule: str, model: str | None) -> None:
        self.post_message(
            BulkAccepted(rule, accept_by_rule(self.store, selection_id, rule, model_name=model))
        )

    def on_bulk_accepted(self, message: BulkAccepted) -> None:
        r = message.result
        self.notify(
            f"accepted {r['accepted']:,} labels by rule {message.rule} ({r['not_matching']:,} did not match)",
            title="review",
        )
        self._load_queue(force=True)

    def action_cycle_sort(self) -> None:
        keys = list(SORTS)
        widget = self.query_one("#rev-sort", Select)
        widget.value = keys[(keys.index(str(widget.value)) + 1) % len(keys)]

    def action_cycle_filter(self) -> None:
        keys = list(FILTERS)
        widget = self.query_one("#rev-filter", Select)
        widget.value = keys[(keys.index(str(widget.value)) + 1) % len(keys)]

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield ("Accept by rule…", "Accept every pending label that meets a rule", self.action_bulk)
        for key, (text, _) in SORTS.items():
            yield (
                f"Sort: {text}",
                f"Order the queue by {key}",
                lambda k=key: setattr(self.query_one("#rev-sort", Select), "value", k),
            )
        for key, (text, _) in FILTERS.items():
            yield (
                f"Show: {text}",
                "Filter the queue",
                lambda k=key: setattr(self.query_one("#rev-filter", Select), "value", k),
            )
        for name in getattr(self, "selection_names", []):
            yield (
                f"Review selection {name}",
                "Load its labels",
                lambda n=name: setattr(self.query_one("#rev-selection", Select), "value", n),
            )
