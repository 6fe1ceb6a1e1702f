"""Select: choose a dataset, a teacher recommender, a strategy, a budget, the ratios, mu and
a seed; see the policy before committing (k*, Gamma, p* over the difficulty-sorted pool, the
class counts it assumes and how the budget would fall on them); then create the selection."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select, Sparkline, Static

from alkd_tui.errors import AlkdError
from alkd_tui.pipeline.datasets import list_datasets
from alkd_tui.pipeline.results import ModelSummary, SelectionSummary
from alkd_tui.pipeline.selection import (
    create_selection,
    list_selections,
    preview_selection,
)
from alkd_tui.pipeline.settings import (
    STRATEGY_ENTRIES,
    SelectSettings,
    field_specs,
    settings_from_form,
)
from alkd_tui.progress import ProgressEvent
from alkd_tui.tui.screens.base import AreaScreen, PaletteCommand
from alkd_tui.tui.widgets.charts import BarChart
from alkd_tui.tui.widgets.form import Form, FormInput, FormSelect
from alkd_tui.tui.widgets.settings_form import SettingsFields
from alkd_tui.tui.widgets.tables import CutTable

NEEDS_TEACHER = {name for name, s in STRATEGY_ENTRIES.items() if s.needs_teacher}
NEEDS_STUDENT = {name for name, s in STRATEGY_ENTRIES.items() if s.needs_student}
#: The selection settings the form offers besides the strategy (the others keep their defaults).
SELECT_FIELDS = ("budget", "ratios", "mu", "seed", "pool")
SELECT_SPECS = {s.name: s for s in field_specs(SelectSettings)}


class ChoicesLoaded(Message):
    """Datasets, models and selections for the form."""

    def __init__(
        self,
        datasets: dict[str, int],
        models: list[ModelSummary],
        selections: list[SelectionSummary],
    ) -> None:
        super().__init__()
        self.datasets = datasets
        self.models = models
        self.selections = selections


class PreviewReady(Message):
    """The policy preview for the form's settings (or why there is none)."""

    def __init__(self, preview: dict[str, Any] | None, error: str = "") -> None:
        super().__init__()
        self.preview = preview
        self.error = error


class CreateProgress(Message):
    """A progress event of the selection being created (coalesced by the reporter)."""

    def __init__(self, event: ProgressEvent) -> None:
        super().__init__()
        self.event = event


class SelectionCreated(Message):
    """The new selection's summary."""

    def __init__(self, summary: SelectionSummary) -> None:
        super().__init__()
        self.summary = summary


def fmt_float(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}"


def describe_preview(p: dict[str, Any]) -> str:
    """The preview's figures as text."""
    lines = [
        f"[b]{p['strategy']}[/b] on {escape(p['dataset'])}: pool {p['pool_size']:,} training sessions"
        + (f", budget {p['budget']:,}" if p.get("budget") else ""),
    ]
    if p.get("k_star") is not None:
        lines += [
            f"k* [b]{p['k_star']:,}[/b] of {p['pool_size']:,} ({p['support_share']:.3f} of the pool has p* > 0)",
            f"Gamma(k*) {fmt_float(p['gamma'])}  (log10 {fmt_float(p.get('log10_gamma'))})",
            f"ratios effective:similar:incorrect {':'.join(f'{r:g}' for r in p['ratios'])}, mu {p['mu']:g}",
        ]
    if p.get("note"):
        lines.append(f"[dim]{p['note']}[/dim]")
    return "\n".join(lines)


class SelectScreen(AreaScreen):
    """Preview and create a selection."""

    AREA = "select"
    HELP = """\
Choose which training sessions the LLM will be asked about. The preview on the right
updates as you change the settings and runs no model: the policy depends only on the pool
size, the ratios and mu (difficulty decides which session gets which rank).

- **k\\*** is how many of the difficulty-sorted sessions have a chance; **Gamma** is the
  max-min objective there.
- The curve is p\\* by rank (hardest first), on a log scale; the second is its cumulative sum.
- The class counts are what the ratios assume of the pool; *budget by class* is how the
  budget would fall on the ranks the worst case gives each class.

`ctrl+s` creates the selection (the teacher recommender scores every session's difficulty,
so this takes a moment on a large dataset); it becomes the selection the Label, Review and
Audit areas start from.

The alkd strategy (and the other difficulty-based ones) needs a trained **teacher
recommender** on the dataset; the uncertainty strategy a **student**, and disagreement both.
`t` opens the Runs
area's Train dialog for the one that is missing; once trained, it is listed here.
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "create",
            "Create selection",
            id="select.create",
            tooltip="Create the selection with these settings",
        ),
        Binding(
            "t",
            "train",
            "Train",
            id="select.train",
            tooltip="Train the recommender this strategy needs (in the Runs area)",
        ),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="select-body"):
            with Form(id="select-form", classes="form"):
                yield Label("Dataset")
                yield FormSelect([], id="sel-dataset", prompt="choose a dataset")
                yield Label("Teacher recommender [dim](difficulty)[/dim]")
                yield FormSelect([], id="sel-teacher", prompt="none")
                yield Static("", id="sel-needs", classes="hint")
                yield Label("Strategy")
                yield FormSelect(
                    [(f"{name}: {s.summary}", name) for name, s in STRATEGY_ENTRIES.items()],
                    value=SELECT_SPECS["strategy"].default, allow_blank=False, id="sel-strategy",
                )  # fmt: skip
                yield Label("Student [dim](uncertainty, disagreement)[/dim]")
                yield FormSelect([], id="sel-student", prompt="none")
                yield SettingsFields(
                    [SELECT_SPECS[name] for name in SELECT_FIELDS],
                    prefix="sel",
                    placeholders={
                        "ratios": "effective:similar:incorrect",
                        "pool": "all; replay:FILE; ids:FILE",
                    },
                    id="sel-settings",
                )
                with Horizontal(classes="field"):
                    yield Label("name")
                    yield FormInput(placeholder="DATASET-STRATEGY-bBUDGET-sSEED", id="sel-name")
                yield Button("Create selection (ctrl+s)", variant="primary", id="sel-create")
                yield ProgressBar(id="sel-progress", show_eta=False)
                yield Static("", id="sel-progress-text")
            with Vertical(id="select-preview"):
                yield Static("Choose a dataset to preview the policy.", id="preview-text")
                yield Label("p* by difficulty rank (log10, hardest first)", classes="chart-title")
                yield Sparkline([], id="preview-curve", summary_function=max)
                yield Static("", id="preview-curve-axis", classes="axis")
                yield Label("cumulative p*", classes="chart-title")
                yield Sparkline([], id="preview-cumulative", summary_function=max)
                with Horizontal(classes="charts"):
                    yield BarChart("assumed class counts", id="preview-classes", width=20)
                    yield BarChart(
                        "budget by worst-case class", id="preview-budget", width=20, fmt="{:,.1f}"
                    )
                yield Label("[b]selections[/b]", classes="chart-title")
                yield CutTable(id="selections", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#selections", DataTable)
        table.add_columns("name", "dataset", "strategy", "size", "pool", "k*", "teacher")
        self.models: list[ModelSummary] = []
        self.trained: dict[str, list[str]] = {}  # the dataset's trained models by role
        self._last_report = 0.0
        self._loaded = False
        self.query_one("#sel-progress", ProgressBar).display = False
        self.watch(self.app, "models_changed", self._models_changed, init=False)
        self.action_refresh()

    def on_screen_resume(self) -> None:
        if self._loaded:  # datasets and models made elsewhere meanwhile
            self.load_choices()

    def _models_changed(self, _count: int) -> None:
        self.load_choices()

    def action_refresh(self) -> None:
        self.load_choices()

    @work(thread=True, exclusive=True, exit_on_error=False, group="select-choices")
    def load_choices(self) -> None:
        from alkd_tui.pipeline.models import list_models

        datasets = {d.name: d.id for d in list_datasets(self.store)}
        self.post_message(
            ChoicesLoaded(datasets, list_models(self.store), list_selections(self.store))
        )

    def on_choices_loaded(self, message: ChoicesLoaded) -> None:
        self._loaded = True
        self.models = message.models
        self.dataset_ids = message.datasets
        dataset = self.query_one("#sel-dataset", Select)
        current = dataset.value
        dataset.set_options([(n, n) for n in message.datasets])
        if current in message.datasets:
            dataset.value = current
        elif message.datasets:
            dataset.value = next(iter(message.datasets))
        self._fill_models()
        table = self.query_one("#selections", DataTable)
        table.clear()
        for s in message.selections:
            table.add_row(
                Text(s.name), Text(s.dataset), s.strategy, f"{s.size:,}", f"{s.pool_size:,}",
                "-" if s.k_star is None else f"{s.k_star:,}", Text(s.teacher_model or ""),
                key=s.name,
            )  # fmt: skip

    def _fill_models(self) -> None:
        dataset = self.query_one("#sel-dataset", Select).value
        ds_id = getattr(self, "dataset_ids", {}).get(dataset)
        done = [m for m in self.models if m.dataset_id == ds_id and m.status == "done"]
        teachers = [m for m in done if m.role == "teacher"]
        students = [m for m in done if m.role in ("student", "distilled")]
        self.trained = {
            "teacher": [m.name for m in teachers],
            "student": [m.name for m in students],
        }
        for select_id, rows in (("#sel-teacher", teachers), ("#sel-student", students)):
            widget = self.query_one(select_id, Select)
            current = widget.value
            names = [m.name for m in rows]
            widget.set_options([(n, n) for n in names])
            if current in names:
                widget.value = current
            elif names and select_id == "#sel-teacher":
                widget.value = names[-1]
        self._show_needs()
        self.schedule_preview()

    def _missing(self) -> str | None:
        """The recommender the chosen strategy needs and the dataset lacks, if any."""
        strategy = self.query_one("#sel-strategy", Select).value
        if self.query_one("#sel-dataset", Select).value is Select.NULL:
            return None
        for role, needs, selector in (("teacher", NEEDS_TEACHER, "#sel-teacher"),
                                      ("student", NEEDS_STUDENT, "#sel-student")):  # fmt: skip
            widget = self.query_one(selector, Select)
            if strategy in needs and widget.value is Select.NULL:
                return role
        return None

    def _show_needs(self) -> None:
        """Say in place what the strategy needs that is missing, and how to get it."""
        missing = self._missing()
        hint = self.query_one("#sel-needs", Static)
        hint.display = missing is not None
        if missing is None:
            return
        what = "a teacher recommender" if missing == "teacher" else "a student"
        strategy = self.query_one("#sel-strategy", Select).value
        if getattr(self, "trained", {}).get(missing):
            how = "choose one above, or press [b]t[/b] to train another"
        else:
            how = "this dataset has none yet: press [b]t[/b] to train one (in the Runs area)"
        hint.update(f"[$warning]{strategy} needs {what}[/]: {how}")

    def action_train(self) -> None:
        dataset = self.query_one("#sel-dataset", Select).value
        self.alkd.action_train(
            self._missing() or "teacher", "" if dataset is Select.NULL else str(dataset)
        )

    @on(Select.Changed)
    @on(Input.Changed)
    def _settings_changed(self, event: Select.Changed | Input.Changed) -> None:
        if event.control.id == "sel-dataset":
            self._fill_models()
        elif event.control.id != "sel-name":
            if event.control.id in ("sel-strategy", "sel-teacher", "sel-student"):
                self._show_needs()
            self.schedule_preview()

    def schedule_preview(self) -> None:
        """Preview a moment after the last change (typing does not start a preview per key)."""
        timer = getattr(self, "_preview_timer", None)
        if timer is not None:
            timer.stop()
        self._preview_timer = self.set_timer(0.25, self._preview_now)

    def _settings(self) -> dict[str, Any] | None:
        """The form as keyword arguments, or None while a number is incomplete."""
        dataset = self.query_one("#sel-dataset", Select).value
        if dataset is Select.NULL:
            return None
        values = {"strategy": str(self.query_one("#sel-strategy", Select).value),
                  **self.query_one(SettingsFields).values()}  # fmt: skip
        try:
            chosen = settings_from_form(SelectSettings, values)
        except AlkdError:
            return None
        teacher = self.query_one("#sel-teacher", Select).value
        student = self.query_one("#sel-student", Select).value
        return {
            "dataset": str(dataset),
            "settings": chosen,
            "strategy": chosen.strategy,
            "teacher_model": None if teacher is Select.NULL else str(teacher),
            "student_model": None if student is Select.NULL else str(student),
            "name": self.query_one("#sel-name", Input).value.strip() or None,
        }

    def _preview_now(self) -> None:
        settings = self._settings()
        if settings is not None:
            self.preview(settings)
        elif self.query_one("#sel-dataset", Select).value is not Select.NULL:
            self.query_one("#preview-text", Static).update(
                "[$warning]give whole numbers for the budget (at least 1) and the seed, and a "
                "number for mu[/]"
            )

    @work(thread=True, exclusive=True, exit_on_error=False, group="select-preview")
    def preview(self, settings: dict[str, Any]) -> None:
        try:
            result = preview_selection(self.store, settings["dataset"], settings["settings"])
        except AlkdError as exc:  # a setting the user is still typing: say it in place
            self.post_message(PreviewReady(None, str(exc)))
            return
        self.post_message(PreviewReady(result))

    def on_preview_ready(self, message: PreviewReady) -> None:
        text = self.query_one("#preview-text", Static)
        curve = self.query_one("#preview-curve", Sparkline)
        cumulative = self.query_one("#preview-cumulative", Sparkline)
        classes = self.query_one("#preview-classes", BarChart)
        budget = self.query_one("#preview-budget", BarChart)
        p = message.preview
        if p is None:
            text.update(f"[$warning]{message.error}[/]")
            return
        text.update(describe_preview(p))
        points = p.get("curve") or []
        logs = [pt.get("log10_probability") for pt in points]
        finite = [v for v in logs if v is not None and math.isfinite(v)]
        floor = (min(finite) - 1.0) if finite else 0.0
        if finite:
            curve.data = [floor if v is None else v - floor for v in logs]
        else:
            curve.data = [pt["probability"] for pt in points]
        cumulative.data = [pt["cumulative"] for pt in points]
        if points:
            k = p.get("k_star")
            axis = f"rank 1 … {points[-1]['rank']:,}" + (
                f"   (p* = 0 after k* = {k:,})" if k else ""
            )
            self.query_one("#preview-curve-axis", Static).update(axis)
        counts = p.get("class_counts") or {}
        classes.plot(
            [(c, counts.get(c)) for c in ("effective", "similar", "incorrect") if c in counts]
        )
        by_class = p.get("budget_by_worst_case_class") or {}
        budget.plot([(c, v) for c, v in by_class.items()])

    def action_create(self) -> None:
        settings = self._settings()
        if settings is None:
            self.notify(
                "choose a dataset and give whole numbers for budget and seed", severity="warning"
            )
            return
        missing = self._missing()
        if missing is not None:
            what = "a teacher recommender" if missing == "teacher" else "a student"
            self.notify(
                f"{settings['strategy']} needs {what}: choose one, or press t to train one",
                severity="warning",
            )
            return
        self.query_one("#sel-create", Button).disabled = True
        self.query_one("#sel-progress", ProgressBar).display = True
        self.query_one("#sel-progress-text", Static).update("creating…")
        self.create(settings)

    @on(Button.Pressed, "#sel-create")
    def _create_pressed(self) -> None:
        self.action_create()

    def _report(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        if event.kind == "advance" and now - self._last_report < 0.1:
            return
        self._last_report = now
        self.post_message(CreateProgress(event))

    @work(thread=True, exclusive=True, exit_on_error=False, group="select-create")
    def create(self, settings: dict[str, Any]) -> None:
        try:
            summary = create_selection(
                self.store, settings["dataset"], settings["settings"],
                teacher_model=settings["teacher_model"] if settings["strategy"] in NEEDS_TEACHER else None,
                student_model=settings["student_model"] if settings["strategy"] in NEEDS_STUDENT else None,
                name=settings["name"], report=self._report,
            )  # fmt: skip
        finally:
            self.app.call_from_thread(self._create_done)
        self.post_message(SelectionCreated(summary))

    def _create_done(self) -> None:
        self.query_one("#sel-create", Button).disabled = False
        self.query_one("#sel-progress", ProgressBar).display = False

    def on_create_progress(self, message: CreateProgress) -> None:
        event = message.event
        bar = self.query_one("#sel-progress", ProgressBar)
        if event.kind in ("start", "advance", "end"):
            bar.update(total=event.total, progress=event.completed or 0)
        self.query_one("#sel-progress-text", Static).update(f"{event.task} {event.message}".strip())

    def on_selection_created(self, message: SelectionCreated) -> None:
        s = message.summary
        self.alkd.selection = s.name
        self.query_one("#sel-progress-text", Static).update(
            f"created [b]{s.name}[/b]: {s.size:,} sessions · press [b]3[/b] to label it"
        )
        self.notify(f"created selection {s.name} ({s.size:,} sessions)", title="select")
        self.query_one("#selections", DataTable).focus()  # out of the form: 3 goes to Label
        self.load_choices()

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield ("Create the selection", "With the settings in the form", self.action_create)
        for name in STRATEGY_ENTRIES:
            yield (
                f"Strategy: {name}",
                STRATEGY_ENTRIES[name].summary,
                lambda n=name: self._set_strategy(n),
            )

    def _set_strategy(self, name: str) -> None:
        self.query_one("#sel-strategy", Select).value = name
