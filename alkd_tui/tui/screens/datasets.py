"""Datasets: the list with split sizes and counts, a dataset's detail (splits, session
lengths as a chart, the most clicked items with titles), and importing one as a job."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static

from alkd_tui.pipeline.datasets import list_datasets, show_dataset
from alkd_tui.pipeline.hints import list_hints
from alkd_tui.pipeline.results import DatasetSummary
from alkd_tui.pipeline.views import dataset_formats
from alkd_tui.tui.background_jobs import Job, is_running, list_jobs, start_job
from alkd_tui.tui.screens.base import AreaScreen, PaletteCommand, WorkerFailures
from alkd_tui.tui.widgets.charts import BarChart
from alkd_tui.tui.widgets.dialogs import FormDialog
from alkd_tui.tui.widgets.form import Form, FormInput, FormSelect
from alkd_tui.tui.widgets.job_panel import JobPanel
from alkd_tui.tui.widgets.runs.curves import draw, learning_series
from alkd_tui.tui.widgets.tables import CutTable


class DatasetsLoaded(Message):
    """The worker read the dataset list (and found `running`, an import job still running)."""

    def __init__(self, rows: list[DatasetSummary], running: Job | None = None) -> None:
        super().__init__()
        self.rows = rows
        self.running = running


class DatasetShown(Message):
    """The worker read one dataset's details."""

    def __init__(
        self,
        detail: DatasetSummary,
        hints: list[dict[str, Any]],
        curve: tuple[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        super().__init__()
        self.detail = detail
        self.hints = hints
        self.curve = curve
        """The newest model trained on the dataset with its epochs kept: (name, history)."""


def describe(detail: DatasetSummary) -> str:
    """A dataset's details as text for the side panel."""
    s = detail.sessions
    length = detail.session_length or {}
    lines = [
        f"[b]{escape(detail.name)}[/b] ({detail.format})",
        escape(detail.description or ""),
        "",
        f"sessions  {s.get('total', 0):,}",
        f"  train   {s.get('train', 0):,}",
        f"  valid   {s.get('valid', 0):,}",
        f"  test    {s.get('test', 0):,}",
        f"items     {detail.items:,} ({detail.items_with_titles:,} with titles)",
        f"clicks    {detail.clicks:,}",
    ]
    if length:
        lines.append(
            f"length    median {length['median']:g}, mean {length['mean']:g}, max {length['max']}"
        )
    return "\n".join(lines)


def top_items(detail: DatasetSummary) -> str:
    top = detail.top_items or []
    if not top:
        return ""
    lines = ["[b u]most clicked in training[/]"]
    lines += [
        f"{t['train_clicks']:>6,}  {escape(t['title'] or t['item'])} [dim]{escape(t['item'])}[/dim]"
        for t in top
    ]
    return "\n".join(lines)


def hints_text(stored: list[dict[str, Any]]) -> str:
    """The hints an LLM wrote about the dataset (the set `alkd label --hints` uses, per model)."""
    hints = [h for h in stored if h["in_use"]]
    if not hints:
        return ""
    lines = ["[b u]hints for ranking prompts[/]"]
    for model in dict.fromkeys(h["model"] for h in hints):
        lines.append(f"[dim]by {escape(model)}[/dim]")
        lines += [f"• {escape(h['text'])}" for h in hints if h["model"] == model]
    return "\n".join(lines)


# Preprocessing and reader options of the import dialog: (field, flag, kind, placeholder).
PREPROCESS = (
    ("min_session_length", "--min-session-length", int, "2"),
    ("min_item_support", "--min-item-support", int, "5"),
    ("test_fraction", "--test-fraction", float, "0.2 where no days apply"),
    ("test_days", "--test-days", float, "the format's default"),
    ("valid_fraction", "--valid-fraction", float, "0.1"),
    ("max_length", "--max-length", int, "keep all"),
    ("session_gap", "--session-gap", float, "seconds (user-based formats)"),
)
READER = (
    ("session_col", "--session-col", str, "csv: session column"),
    ("item_col", "--item-col", str, "csv: item column"),
    ("time_col", "--time-col", str, "csv: time column"),
    ("titles", "--titles", str, "csv: file of item titles"),
    ("title_col", "--title-col", str, "csv: its title column"),
    ("delimiter", "--delimiter", str, "one character, or 'tab'"),
)


class ImportDialog(WorkerFailures, FormDialog[list[str] | None]):
    """Format, path, name and preprocessing options; dismisses with `alkd data import` args."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Import", id="import.submit", tooltip="Start the import job"),
        Binding(
            "escape", "cancel", "Cancel", id="import.cancel", tooltip="Close without importing"
        ),
    ]

    def compose(self) -> ComposeResult:
        formats = dataset_formats()
        with Vertical(id="import-dialog", classes="dialog"):
            yield Label("[b]Import a dataset[/b]  [dim]ctrl+s imports, esc cancels[/dim]")
            with Form():
                yield Label("Format")
                yield FormSelect(
                    [(f"{f['name']}: {f['summary']}", f["name"]) for f in formats],
                    value="csv", allow_blank=False, id="import-format",
                )  # fmt: skip
                yield Label("File or folder")
                yield FormInput(placeholder="path/to/clicks.csv", id="import-path")
                yield Label("Name")
                yield FormInput(placeholder="letters, digits, . _ -", id="import-name")
                yield Label("Description")
                yield FormInput(placeholder="optional", id="import-description")
                yield Label("[b]Preprocessing[/b] [dim](blank: the format's default)[/dim]")
                for field, flag, kind, hint in PREPROCESS:
                    with Horizontal(classes="field"):
                        yield Label(flag.removeprefix("--"))
                        yield FormInput(
                            placeholder=hint, id=f"pre-{field}",
                            type="integer" if kind is int else "number",
                        )  # fmt: skip
                yield Checkbox(
                    "augment prefixes (one instance per prefix, SR-GNN)", id="pre-augment"
                )
                yield Label("[b]Reading files[/b]")
                for field, flag, _, hint in READER:
                    with Horizontal(classes="field csv-only" if hint.startswith("csv:") else "field"):
                        yield Label(flag.removeprefix("--"))
                        yield FormInput(placeholder=hint, id=f"read-{field}")
            with Horizontal(classes="buttons"):
                yield Button("Import (ctrl+s)", variant="primary", id="import-go", classes="submit")
                yield Button("Cancel (esc)", id="import-cancel", classes="cancel")

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.values = dict(values or {})
        """The fields as they were (a failed import's, given back to correct)."""

    def on_mount(self) -> None:
        for widget in self.query("#import-dialog Input, #import-dialog Select, #import-dialog Checkbox"):
            if widget.id in self.values:
                widget.value = self.values[widget.id]  # type: ignore[attr-defined]
        self.query_one("#import-path", Input).focus()

    @on(Select.Changed, "#import-format")
    def _format_changed(self) -> None:
        """The CSV reader's own fields show for the csv format only."""
        csv = self.query_one("#import-format", Select).value == "csv"
        for field in self.query(".csv-only"):
            field.display = csv

    def form_values(self) -> dict[str, Any]:
        """Every field's value by its id."""
        return {
            w.id: w.value  # type: ignore[attr-defined]
            for w in self.query("#import-dialog Input, #import-dialog Select, #import-dialog Checkbox")
            if w.id
        }

    def arguments(self) -> list[str]:
        """The `alkd data import` arguments the form describes (ValueError on a missing field
        or a path that is not there). A relative path is the working directory's."""
        self.values = self.form_values()
        fmt = self.query_one("#import-format", Select).value
        given = self.query_one("#import-path", Input).value.strip()
        name = self.query_one("#import-name", Input).value.strip()
        if not given or not name:
            raise ValueError("give the file (or folder) and a name")
        path = Path(given).expanduser()
        path = path if path.is_absolute() else Path.cwd() / path
        if not path.exists():
            raise ValueError(f"no file or folder {path} (a relative path is the working directory's)")
        args = ["data", "import", str(fmt), str(path), "--name", name]
        description = self.query_one("#import-description", Input).value.strip()
        if description:
            args += ["--description", description]
        for field, flag, _, _ in PREPROCESS:
            value = self.query_one(f"#pre-{field}", Input).value.strip()
            if value:
                args += [flag, value]
        if self.query_one("#pre-augment", Checkbox).value:
            args.append("--augment-prefixes")
        for field, flag, _, hint in READER:
            value = self.query_one(f"#read-{field}", Input).value.strip()
            if value and (fmt == "csv" or not hint.startswith("csv:")):
                args += [flag, value]
        return args


class DatasetsScreen(AreaScreen):
    """The datasets of the store."""

    AREA = "datasets"
    HELP = """\
The datasets in this database, with their split sizes. The panel on the right shows the
highlighted dataset: sessions per split, items and clicks, the distribution of session
lengths, the items clicked most in training (with titles), and the hints an LLM wrote about
the dataset for its ranking prompts (`alkd teacher hints`), where there are any.

`i` opens the import dialog: choose a format, the file or folder, a name, and only the
preprocessing options you want to change. The import runs as `alkd data import ... --jsonl`
with its progress below the list; the list refreshes when it is done.

`t` trains a recommender on the highlighted dataset (the Runs area's Train dialog): first a
teacher recommender, which Select needs, then a student to distil.
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "i",
            "import",
            "Import",
            id="datasets.import",
            tooltip="Import a dataset (format, path, name, options)",
        ),
        Binding(
            "t",
            "train",
            "Train",
            id="datasets.train",
            tooltip="Train a recommender on the highlighted dataset (in the Runs area)",
        ),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="datasets-body"):
            yield CutTable(id="datasets", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="dataset-detail"):
                yield Static("Select a dataset.", id="detail")
                yield BarChart("session length (input items)", id="lengths", width=28)
                yield Static("", id="top-items")
                yield Static("", id="dataset-hints")
                yield Container(id="dataset-curve")
        yield JobPanel(id="import-job", close_after=30)
        yield Static("", id="status", classes="status")

    def on_mount(self) -> None:
        table = self.query_one("#datasets", DataTable)
        table.add_columns("name", "format", "train", "valid", "test", "items", "titles", "clicks")
        self.query_one("#status", Static).update("reading datasets…")
        self.load_datasets(look_for_job=True)

    def action_refresh(self) -> None:
        self.query_one("#status", Static).update("reading datasets…")
        self.load_datasets()

    @work(thread=True, exclusive=True, exit_on_error=False, group="datasets")
    def load_datasets(self, look_for_job: bool = False) -> None:
        running = None
        if look_for_job:  # an import an earlier app started that still runs
            running = next((j for j in list_jobs(self.store, "import") if is_running(j)), None)
        self.post_message(DatasetsLoaded(list_datasets(self.store), running))

    @work(thread=True, exclusive=True, exit_on_error=False, group="dataset-detail")
    def load_detail(self, name: str) -> None:
        self.post_message(
            DatasetShown(
                show_dataset(self.store, name), list_hints(self.store, name)["hints"],
                self._newest_curve(name),
            )
        )  # fmt: skip

    def _newest_curve(self, dataset: str) -> tuple[str, list[dict[str, Any]]] | None:
        """The learning curve of the newest finished model trained on `dataset`."""
        from alkd_tui.pipeline.models import list_models, show_model

        done = [m for m in list_models(self.store, dataset) if m.status == "done"]
        for model in sorted(done, key=lambda m: (m.created_at, m.model), reverse=True):
            history = show_model(self.store, model.name).history
            if history:
                return model.name, history
        return None

    def on_datasets_loaded(self, message: DatasetsLoaded) -> None:
        panel = self.query_one(JobPanel)
        if message.running is not None and panel.job is None:
            panel.attach(message.running)
        table = self.query_one("#datasets", DataTable)
        table.clear()
        self.names = [row.name for row in message.rows]
        for row in message.rows:
            s = row.sessions
            table.add_row(
                Text(row.name), row.format, f"{s.get('train', 0):,}", f"{s.get('valid', 0):,}",
                f"{s.get('test', 0):,}", f"{row.items:,}", f"{row.items_with_titles:,}",
                f"{row.clicks:,}", key=row.name,
            )  # fmt: skip
        status = f"{len(message.rows)} datasets · [b]i[/b] imports one"
        if not message.rows:
            status = "no datasets yet: press [b]i[/b] to import one (or `alkd data import`)"
        self.query_one("#status", Static).update(status)
        if message.rows:
            self.load_detail(message.rows[0].name)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.load_detail(str(event.row_key.value))

    def on_dataset_shown(self, message: DatasetShown) -> None:
        detail = message.detail
        name, history = message.curve or ("", [])
        draw(self.query_one("#dataset-curve", Container), learning_series(name, history))
        self.query_one("#detail", Static).update(describe(detail))
        histogram = (detail.session_length or {}).get("histogram", {})
        keys = list(histogram)
        while keys and not histogram[keys[-1]]:  # trailing empty lengths
            keys.pop()
        while keys and not histogram[keys[0]]:
            keys.pop(0)
        self.query_one("#lengths", BarChart).plot([(k, histogram[k]) for k in keys])
        self.query_one("#top-items", Static).update(top_items(detail))
        hints, text = self.query_one("#dataset-hints", Static), hints_text(message.hints)
        hints.update(text)
        hints.display = bool(text)

    def action_import(self) -> None:
        """The import dialog; after a failed import, with that import's fields."""
        dialog = ImportDialog(getattr(self, "failed_import", None))

        def start(args: list[str] | None) -> None:
            self.last_import = dialog.values
            self._start_import(args)

        self.app.push_screen(dialog, start)

    def _start_import(self, args: list[str] | None) -> None:
        if not args:
            return
        job = start_job(self.store, "import", args, title=f"import {args[5]}")
        self.query_one(JobPanel).attach(job)
        self.notify(f"importing {args[5]} as a job; its progress is below the list")

    def on_job_panel_finished(self, message: JobPanel.Finished) -> None:
        if message.outcome.state == "done":
            self.failed_import = None
            self.notify(f"imported {message.job.args[5]}", title="import")
            self.action_refresh()
        elif message.outcome.state == "failed":
            self.failed_import = getattr(self, "last_import", None)  # `i` opens it again
            self.notify(f"{message.outcome.error} (i opens the dialog with these fields again)",
                        title="import failed", severity="error", timeout=10)  # fmt: skip

    def action_train(self) -> None:
        table = self.query_one("#datasets", DataTable)
        dataset = ""
        if table.row_count:
            dataset = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        self.alkd.action_train("", dataset)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield ("Import a dataset", "Open the import dialog", self.action_import)
        yield ("Train a recommender…", "On the highlighted dataset (Runs area)", self.action_train)
        for name in getattr(self, "names", []):
            yield (f"Show dataset {name}", "Highlight it in the list", partial(self._show, name))

    def _show(self, name: str) -> None:
        table = self.query_one("#datasets", DataTable)
        table.move_cursor(row=table.get_row_index(name))
