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

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Input,
    Label,
    OptionList,
    ProgressBar,
    RadioButton,
    RadioSet,
    Select,
    Static,
)
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from alkd_tui.errors import AlkdError
from alkd_tui.pipeline.review import accept_by_rule, record_review
from alkd_tui.pipeline.selection import list_selections
from alkd_tui.pipeline.views import (
    QUEUE_FILTERS,
    QUEUE_SORTS,
    QueueEntry,
    find_items,
    label_detail,
    review_queue,
    review_states,
    sort_queue,
    student_top_k,
)
from alkd_tui.tui.screens.base import AreaScreen, PaletteCommand, WorkerFailures
from alkd_tui.tui.widgets.dialogs import FormDialog
from alkd_tui.tui.widgets.form import FormInput, FormSelect
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
RULES = (
    ("parsed", "every pending label with a non-empty ranking"),
    ("full", "pending labels parsed cleanly or repaired to the asked length"),
    ("ok", "pending labels parsed cleanly (exactly N known ids)"),
)


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


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


class ReviewChoices(Message):
    def __init__(self, selections: list[dict[str, Any]], students: list[str]) -> None:
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
    def __init__(self, detail: dict[str, Any]) -> None:
        super().__init__()
        self.detail = detail


class StudentTop(Message):
    def __init__(self, key: str, model: str, rows: list[dict[str, Any]]) -> None:
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


def _title(item: dict[str, Any]) -> str:
    return item.get("title") or item["item"]


def render_card(
    detail: dict[str, Any], student: list[dict[str, Any]] | None, student_name: str | None
) -> Group:
    """The focus card: the session, the target, the two rankings side by side, provenance."""
    member = detail.get("member") or {}
    status = detail["status"] + (" (edited)" if detail["edited"] else "")
    head = Text.assemble(
        ("session ", "dim"), (detail["session_key"], "bold"),
        ("  status ", "dim"), (status, f"bold {STATUS_STYLE.get(detail['status'], '')}"),
        ("  parse ", "dim"), (str(detail["parse_status"]), ""),
    )  # fmt: skip
    why = Text.assemble(
        ("why chosen: ", "dim"),
        f"order {member.get('order', '-')} · p {_num(member.get('probability'))} · "
        f"difficulty {_num(member.get('difficulty'))} · gain {_num(member.get('gain'))}",
    )
    session = Table.grid(padding=(0, 1))
    session.add_column(justify="right", style="dim")
    session.add_column()
    for n, item in enumerate(detail["session"], start=1):
        session.add_row(str(n), Text.assemble(_title(item), (f"  {item['item']}", "dim")))
    target = detail["target"]
    target_line = Text.assemble(
        ("◆ true next item ", "bold magenta"), _title(target), (f"  {target['item']}", "dim"),
        ("  (for the audit: the LLM never saw it)", "dim italic"),
    )  # fmt: skip
    teacher = "teacher recommender" if detail["provenance"]["backend"] == "tr" else "LLM"
    rankings = Table(
        "#", f"{teacher} ranking" + (" (edited)" if detail["edited"] else ""), "score",
        "student top-k", "score",
        expand=True, show_edge=False, pad_edge=False, box=None, header_style="bold",
        caption=f"student: {student_name or 'choose one above'}", caption_justify="left", caption_style="dim",
    )  # fmt: skip
    llm = detail["ranking"]
    other = student or []
    other_ids = {s["idx"] for s in other}
    llm_ids = {i["idx"] for i in llm}
    for n in range(max(len(llm), len(other))):
        cells: list[Any] = [str(n + 1)]
        for items, elsewhere in ((llm, other_ids), (other, llm_ids)):
            if n < len(items):
                item = items[n]
                mark = "◆ " if item["is_target"] else ("• " if item["idx"] in elsewhere else "  ")
                style = "bold magenta" if item["is_target"] else ""
                cells += [
                    Text(mark + _title(item), style=style, overflow="ellipsis", no_wrap=True),
                    _num(item.get("score")),
                ]
            else:
                cells += ["", ""]
        rankings.add_row(*cells)
    if not llm and not other:
        rankings.add_row("", Text("empty ranking", style="yellow"), "", "", "")
    p = detail["provenance"]
    options = ", ".join(f"{k}={v}" for k, v in sorted((p.get("options") or {}).items()))
    provenance = Text.assemble(
        ("provenance  ", "bold"),
        f"{p['model']} ({p['backend']})",
        (f" · digest {str(p['digest'])[:19]}" if p.get("digest") else ""),
        (f" · server {p['server_version']}" if p.get("server_version") else ""),
        f" · template {p['template_version'] or '-'} · latency {_num(p.get('latency_s'))}s",
        f" · tokens {p.get('prompt_tokens') or 0}/{p.get('output_tokens') or 0} · attempts {p.get('attempts')}",
        f" · request {detail['request']} · run {p.get('run') or '-'}",
        (f"\noptions  {options}", "dim"),
    )  # fmt: skip
    legend = Text("◆ the true next item   • in both lists", style="dim")
    return Group(
        head, why, Text(""), Text("session, oldest first", style="bold underline"), session, target_line,
        Text(""), rankings, legend, Text(""), provenance,
    )  # fmt: skip


def render_raw(detail: dict[str, Any]) -> Group:
    """The raw prompt and answer, parse notes and the review history."""
    history = Table(
        "event", "action", "reviewer", "note", box=None, show_edge=False, header_style="bold"
    )
    for h in detail["history"]:
        history.add_row(str(h["id"]), h["action"], Text(h["reviewer"]), Text(h["note"]))
    notes = "; ".join(detail.get("parse_notes") or []) or "none"
    return Group(
        Text("prompt", style="bold underline"), Text(detail["prompt"] or "(none stored)"), Text(""),
        Text("raw answer", style="bold underline"), Text(detail["raw_response"] or "(none)"), Text(""),
        Text(f"parse notes: {notes}", style="dim"), Text(""),
        Text("review history (append-only)", style="bold underline"), history,
    )  # fmt: skip


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
        def __init__(self, items: list[dict[str, Any]]) -> None:
            super().__init__()
            self.items = items

    def __init__(self, detail: dict[str, Any]) -> None:
        super().__init__()
        self.detail = detail
        self.items = [dict(i) for i in detail["ranking"]]
        self.known = {
            i["item"]: i
            for i in [*detail["candidates"], *detail["session"], *detail["answered_ranking"]]
        }

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="ranking-editor"):
            yield Label(f"[b]Edit the ranking of session {escape(self.detail['session_key'])}[/b]")
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
                        if self.detail["candidates"]
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
                Option(f"{n:>2}. {escape(_title(i))}  [dim]{escape(i['item'])}[/dim]", id=str(n))
                for n, i in enumerate(self.items, 1)
            ]
        )
        if self.items and highlight is not None:
            options.highlighted = max(0, min(highlight, len(self.items) - 1))
        self._redraw_candidates()

    def unused_candidates(self) -> list[dict[str, Any]]:
        """The teacher recommender's candidates that the ranking does not hold, in their order."""
        present = {i["idx"] for i in self.items}
        return [c for c in self.detail["candidates"] if c["idx"] not in present]

    def _redraw_candidates(self) -> None:
        picker = self.query_one("#edit-candidates", OptionList)
        at = picker.highlighted
        picker.clear_options()
        picker.add_options(
            [
                Option(f"{escape(_title(c))}  [dim]{escape(c['item'])}[/dim]", id=str(c["idx"]))
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
        self._insert([c for c in self.detail["candidates"] if c["idx"] == idx])

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
        self.post_message(self.Found(find_items(app.store, self.detail["dataset_id"], ids)))

    def on_ranking_editor_found(self, message: Found) -> None:
        self._insert(message.items)

    def _insert(self, items: list[dict[str, Any]]) -> None:
        present = {i["idx"] for i in self.items}
        at = self._cursor() + 1 if self.items else 0
        new = [i for i in items if i["idx"] not in present]
        self.items[at:at] = new
        self._redraw(at)

    def action_save(self) -> None:
        if not self.items:
            self.notify(
                "an edited ranking needs at least one item (reject the label instead)",
                severity="warning",
            )
            return
        self.dismiss([int(i["idx"]) for i in self.items])

    def action_cancel(self) -> None:
        self.dismiss(None)


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
        self.detail: dict[str, Any] | None = None
        self.student_rows: tuple[str, str, list[dict[str, Any]]] | None = None
        self.undo_stack: list[int] = []
        self.decisions: queue.Queue[tuple[str, int, dict[str, Any] | None]] = queue.Queue()
        self.query_one("#card-raw", Static).display = False
        self.write_decisions()
        self.load_choices()
        table.focus()

    def on_screen_resume(self) -> None:
        if getattr(self, "data", None) is not None:
            self.load_choices()

    def action_refresh(self) -> None:
        self.load_choices()
        self._load_queue(force=True)

    # loading

    @work(thread=True, exclusive=True, exit_on_error=False, group="review-choices")
    def load_choices(self) -> None:
        from alkd_tui.pipeline.models import list_models

        students = [
            m["name"]
            for m in list_models(self.store)
            if m["role"] in ("student", "distilled") and m["status"] == "done"
        ]
        self.post_message(ReviewChoices(list_selections(self.store), students))

    def on_review_choices(self, message: ReviewChoices) -> None:
        self.selection_names = [s["name"] for s in message.selections]
        widget = self.query_one("#rev-selection", Select)
        current = widget.value
        widget.set_options([(s["name"], s["name"]) for s in message.selections])
        wanted = self.alkd.selection if self.alkd.selection in self.selection_names else current
        if wanted not in self.selection_names and self.selection_names:
            wanted = self.selection_names[-1]
        if wanted in self.selection_names:
            widget.value = wanted  # a change loads the queue (`_selection_changed`)
        student = self.query_one("#rev-student", Select)
        chosen = student.value
        student.set_options([(n, n) for n in message.students])
        if chosen in message.students:
            student.value = chosen
        elif message.students:
            student.value = message.students[0]

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
        self.detail = None
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
        detail["key"] = entry.key
        self.post_message(DetailLoaded(detail))

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        current = self.query_one("#queue", WindowedTable).current
        if current is None or current.key != message.detail["key"]:
            return
        self.detail = message.detail
        self._render_card()
        self._load_student(message.detail)

    def _load_student(self, detail: dict[str, Any]) -> None:
        student = self._value("#rev-student")
        if student is not None:
            k = min(max(10, len(detail["ranking"])), 25)
            self.student_top(student, detail["key"], detail["session_index"], k)

    @work(thread=True, exclusive=True, exit_on_error=False, group="review-student")
    def student_top(self, model: str, key: str, session_index: int, k: int) -> None:
        self.post_message(
            StudentTop(key, model, student_top_k(self.store, model, session_index, k))
        )

    def on_student_top(self, message: StudentTop) -> None:
        self.student_rows = (message.key, message.model, message.rows)
        if self.detail is not None and self.detail["key"] == message.key:
            self._render_card()

    def _render_card(self) -> None:
        detail = self.detail
        if detail is None:
            return
        rows, name = None, self._value("#rev-student")
        if (
            self.student_rows is not None
            and self.student_rows[0] == detail["key"]
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
        if detail is None or entry is None or detail["key"] != entry.key:
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
        changes = {"status": state["status"], "edited": state["edited"], "ranked": state["ranked"]}
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
