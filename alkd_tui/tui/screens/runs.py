"""Runs: train a recommender, start a distillation or a whole `alkd run` as a job with live
progress (loss and the validation metric from the events), the runs and models with their
metrics, the teacher recommender, the student and the distilled student side by side, and the
diff of two runs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Label, Static

from alkd_tui.errors import AlkdError
from alkd_tui.pipeline.datasets import list_datasets
from alkd_tui.pipeline.history import diff_runs, list_runs, show_run
from alkd_tui.pipeline.results import DistilledModel, ModelSummary, RunSummary
from alkd_tui.pipeline.selection import list_selections
from alkd_tui.tui.background_jobs import Job, interrupt, is_running, list_jobs, start_job
from alkd_tui.tui.screens.base import AreaScreen, PaletteCommand
from alkd_tui.tui.screens.train import TrainDialog
from alkd_tui.tui.widgets.job_panel import JobPanel
from alkd_tui.tui.widgets.runs.curves import draw, label_curve_series, learning_series
from alkd_tui.tui.widgets.runs.describe import (
    comparison,
    describe_model,
    describe_run,
    model_row,
    run_row,
)
from alkd_tui.tui.widgets.runs.dialogs import DiffScreen, DistillDialog, RunDialog
from alkd_tui.tui.widgets.runs.messages import ModelCurve, RunsDiffed, RunShown, RunsLoaded
from alkd_tui.tui.widgets.tables import CutTable
from alkd_tui.tui.widgets.windowed_table import WindowedTable

METRICS = ("recall@5", "recall@10", "ndcg@5", "ndcg@10", "mrr@10")
JOB_KINDS = ("train", "distill", "run")  # the jobs this area starts and follows


class RunsScreen(AreaScreen):
    """Runs, models and the jobs that make them."""

    AREA = "runs"
    HELP = """\
The runs recorded in this database (newest first) and the trained models with their test
metrics. Highlight a pipeline run to see its steps and the teacher recommender, the student
and the distilled student side by side; highlight a model to compare it with its relatives.

`t` trains a recommender (`alkd train ... --jsonl`): a **teacher recommender** (the paper:
dimension 100), which ranks the sessions' difficulty for Select and proposes the candidates
the LLM ranks, or a **student** (dimension 10), the one that gets distilled. The Select,
Label and Review areas list it once it is trained.

`d` distils a student on a selection's accepted labels (`alkd distill ... --jsonl`); `g`
runs the whole pipeline (`alkd run ... --jsonl`); `R` continues the highlighted pipeline
run (one awaiting review, say). The job's progress shows below with the
loss and the validation metric per epoch; `ctrl+t` stops it cleanly. To compare two runs,
mark one with `m`, highlight the other and press `c`.
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "t",
            "train",
            "Train",
            id="runs.train",
            tooltip="Train a recommender: a teacher recommender or a student",
        ),
        Binding(
            "d", "distill", "Distil", id="runs.distill", tooltip="Distil a student on a selection"
        ),
        Binding(
            "g", "run", "Run pipeline", id="runs.run", tooltip="Run the whole pipeline (alkd run)"
        ),
        Binding(
            "R",
            "resume",
            "Resume run",
            id="runs.resume",
            tooltip="Continue the highlighted pipeline run (e.g. after the review it awaited)",
        ),
        Binding("m", "mark", "Mark", id="runs.mark", tooltip="Mark the highlighted run for a diff"),
        Binding(
            "c",
            "diff",
            "Diff",
            id="runs.diff",
            tooltip="Compare the marked run with the highlighted one",
        ),
        Binding(
            "ctrl+t", "stop", "Stop job", id="runs.stop", tooltip="Stop the running job cleanly"
        ),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="runs-body"):
            with Vertical(id="runs-left"):
                yield Label("[b]runs[/b]", classes="section")
                yield WindowedTable(run_row, key_of=lambda r: str(r["run"]), id="runs")
                yield Label("[b]models[/b]", classes="section")
                yield CutTable(id="models", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="runs-detail"):
                yield Static("Highlight a run or a model.", id="run-detail")
                yield Container(id="run-curve")
        yield JobPanel(id="runs-job", close_after=30)
        yield Static("", id="runs-status", classes="status")

    def on_mount(self) -> None:
        runs = self.query_one("#runs", WindowedTable)
        for column, width in (
            ("id", 4),
            ("kind", 8),
            ("name", 24),
            ("status", 15),
            ("s", 6),
            ("part of", 7),
        ):
            runs.add_column(column, key=column, width=width)
        models = self.query_one("#models", DataTable)
        for column, width in (
            ("name", 30),
            ("role", 9),
            ("arch", 8),
            ("dim", 4),
            ("R@10", 6),
            ("N@10", 6),
        ):
            models.add_column(column, key=column, width=width)
        self.runs: list[dict[str, Any]] = []
        self.models: list[ModelSummary] = []
        self.selection_names: list[str] = []
        self.selection_datasets: dict[str, str] = {}
        self.dataset_ids: dict[str, int] = {}
        self.marked: int | None = None
        self.focus_run: int | None = None  # the run to highlight after the next reading
        self.job: Job | None = None
        self._loaded = False
        self.action_refresh()

    def on_screen_resume(self) -> None:
        if self._loaded:  # runs and models made elsewhere since (a Train dialog asked for)
            self.action_refresh()

    def action_refresh(self) -> None:
        self.load_runs(look_for_job=self.job is None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs")
    def load_runs(self, look_for_job: bool = False) -> None:
        from alkd_tui.pipeline.models import list_models

        running = None
        if look_for_job:  # a job of this area that an earlier app started and that still runs
            jobs = [j for kind in JOB_KINDS for j in list_jobs(self.store, kind)]
            running = next((j for j in jobs if is_running(j)), None)
        selections = {s.name: s.dataset for s in list_selections(self.store)}
        datasets = {d.name: d.id for d in list_datasets(self.store)}
        self.post_message(RunsLoaded(list_runs(self.store), list_models(self.store), selections,
                                     datasets, running))  # fmt: skip

    def on_runs_loaded(self, message: RunsLoaded) -> None:
        self._loaded = True
        self.runs, self.models = message.runs, message.models
        self.selection_datasets = message.selections
        self.selection_names = list(message.selections)
        self.dataset_ids = message.datasets
        if message.running is not None and self.job is None:
            self.attach_job(message.running)
        table = self.query_one("#runs", WindowedTable)
        ids = [int(r["run"]) for r in self.runs]
        focus, self.focus_run = self.focus_run, None  # 0: the newest
        if focus is None and table.current is not None:
            focus = int(table.current["run"])  # keep the highlighted run
        table.set_rows(self.runs, ids.index(focus) if focus in ids else 0)
        models = self.query_one("#models", DataTable)
        with models.prevent(DataTable.RowHighlighted):  # a refill is not a user's highlight
            models.clear()
            for m in self.models:
                models.add_row(*model_row(m), key=str(m.model))
        self.query_one("#runs-status", Static).update(
            f"{len(self.runs):,} runs · {len(self.models):,} models"
            + (f" · run {self.marked} marked for a diff" if self.marked else "")
            + ("" if self.models else " · [b]t[/b] trains one (a teacher recommender first)")
        )
        self.open_train_request()

    def open_train_request(self) -> None:
        """Open the Train dialog another area asked for (`AlkdApp.action_train`)."""
        request, self.alkd.train_request = self.alkd.train_request, None
        if request is not None:
            self.action_train(request.get("role"), request.get("dataset"))

    def action_train(self, role: str | None = None, dataset: str | None = None) -> None:
        """The Train dialog: by default for the first dataset without a teacher recommender,
        and a teacher recommender where the dataset has none, else a student."""
        if not self._loaded:  # the datasets and models are on their way: open it then
            self.alkd.train_request = {"role": role, "dataset": dataset}
            return
        names = list(self.dataset_ids)

        def roles(name: str | None) -> set[str]:
            ds_id = self.dataset_ids.get(name or "")
            return {m.role for m in self.models if m.dataset_id == ds_id and m.status == "done"}

        if dataset is None:
            # The first model still missing: a teacher recommender, then a student, dataset by
            # dataset; with nothing missing, a student on the dataset of the current selection.
            missing = [(d, r) for r in ("teacher", "student") for d in names
                       if r not in roles(d) and role in (None, r)]  # fmt: skip
            if missing:
                dataset, role = missing[0][0], role or missing[0][1]
            else:
                dataset = self.selection_datasets.get(self.alkd.selection or "") or (
                    names[0] if names else None
                )
        if role is None:
            have = roles(dataset)
            role = "teacher" if "teacher" not in have else "student"
        dialog = TrainDialog(names, dataset=dataset, role=role)
        self.app.push_screen(dialog, self._start)

    def on_windowed_table_moved(self, message: WindowedTable.Moved) -> None:
        self.load_run(int(message.row["run"]))

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-detail")
    def load_run(self, run_id: int) -> None:
        run = show_run(self.store, str(run_id))
        history = None
        if run.get("kind") in ("train", "distill") and run.get("status") == "done":
            history = self._history(str(run.get("name", "")))
        self.post_message(RunShown(run, history))

    def _history(self, name: str) -> list[dict[str, Any]] | None:
        from alkd_tui.pipeline.models import show_model

        try:
            return show_model(self.store, name).history
        except AlkdError:  # a run whose model is gone
            return None

    def on_run_shown(self, message: RunShown) -> None:
        run = message.run
        self.query_one("#run-detail", Static).update(
            describe_run(run, {m.name: m for m in self.models})
        )
        if run.get("kind") == "curve":
            series = label_curve_series(run)
        else:
            series = learning_series(str(run.get("name", "")), message.history or [])
        draw(self.query_one("#run-curve", Container), series)

    @on(DataTable.RowHighlighted, "#models")
    def _model_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        model = next((m for m in self.models if str(m.model) == key), None)
        if model is not None:
            self.query_one("#run-detail", Static).update(describe_model(model, self.models))
            self.load_model_curve(model.name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-detail")
    def load_model_curve(self, name: str) -> None:
        self.post_message(ModelCurve(name, self._history(name)))

    def on_model_curve(self, message: ModelCurve) -> None:
        draw(self.query_one("#run-curve", Container), learning_series(message.name, message.history or []))

    def action_resume(self) -> None:
        current = self.query_one("#runs", WindowedTable).current
        if current is None or current["kind"] != "pipeline" or current["status"] == "done":
            self.notify(
                "highlight a pipeline run that is not done (awaiting review, interrupted, failed)",
                severity="warning",
            )
            return
        run = str(current["run"])
        self._start({"args": ["run", "--resume", run], "title": f"alkd run --resume {run}"})

    def action_mark(self) -> None:
        current = self.query_one("#runs", WindowedTable).current
        if current is not None:
            self.marked = int(current["run"])
            self.notify(f"run {self.marked} marked: highlight another run and press c to compare")
            self.query_one("#runs-status", Static).update(f"run {self.marked} marked for a diff")

    def action_diff(self) -> None:
        current = self.query_one("#runs", WindowedTable).current
        if self.marked is None or current is None:
            self.notify("mark a run with m first, then highlight another", severity="warning")
            return
        self.diff(self.marked, int(current["run"]))

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-diff")
    def diff(self, first: int, second: int) -> None:
        self.post_message(RunsDiffed(diff_runs(self.store, str(first), str(second))))

    def on_runs_diffed(self, message: RunsDiffed) -> None:
        self.app.push_screen(DiffScreen(message.diff))

    def action_distill(self) -> None:
        students = [
            m.name
            for m in self.models
            if m.role in ("student", "distilled") and m.status == "done"
        ]
        self.app.push_screen(
            DistillDialog(students, self.selection_names, self.alkd.selection), self._start
        )

    def action_run(self) -> None:
        self.app.push_screen(RunDialog(), self._start)

    def _start(self, request: dict[str, Any] | None) -> None:
        if request is None:
            return
        if self.job is not None and is_running(self.job):
            self.notify("a job is running: stop it first (ctrl+t)", severity="warning")
            return
        kind = request["args"][0]
        self.attach_job(start_job(self.store, kind, request["args"], title=request["title"]))

    def attach_job(self, job: Job) -> None:
        self.job = job
        self.query_one(JobPanel).attach(job)

    def action_stop(self) -> None:
        if self.job is None or not interrupt(self.job):
            self.notify("no job is running", severity="warning")

    def on_job_panel_finished(self, message: JobPanel.Finished) -> None:
        outcome = message.outcome
        result = outcome.result or {}
        self.focus_run = 0  # the newest run (the job's) once the runs are read again
        if outcome.state == "done" and message.job.kind == "train":
            made = ModelSummary.model_validate(result)  # the job's last line, read back
            verb = "reused" if made.reused else "trained"
            if made.reused:
                self.notify(
                    f"an identical model exists: {made.name} (tick force to train it again)",
                    title="nothing trained", severity="warning",
                )  # fmt: skip
            self.query_one("#run-detail", Static).update(
                Group(
                    Text(f"{verb} {made.name}", style="bold"),
                    describe_model(made, [*self.models, made]),
                )
            )
            self.alkd.models_changed += 1
            where = {"teacher": "Select (2) offers it as the teacher recommender",
                     "student": "Select, Review and Audit offer it as the student"}.get(made.role, "")  # fmt: skip
            self.notify(f"{verb} {made.name}" + (f": {where}" if where else ""), title="train")
        elif outcome.state == "done" and message.job.kind == "distill":
            distilled = DistilledModel.model_validate(result)
            rows = [("student", distilled.student, distilled.student_metrics),
                    ("distilled", distilled.name, distilled.metrics)]  # fmt: skip
            verb = "reused" if distilled.reused else "distilled"
            self.query_one("#run-detail", Static).update(
                Group(
                    Text(
                        f"{verb} {distilled.name} from {distilled.labels} labels of {distilled.teacher}",
                        style="bold",
                    ),
                    comparison(rows, "test split: student before and after"),
                )
            )
            self.alkd.models_changed += 1
            self.notify(f"{verb} {distilled.name}", title="distil")
            caution = distilled.caution()
            if caution is not None:
                self.notify(caution, title="distil", severity="warning", timeout=10)
        elif outcome.state == "done" and message.job.kind == "run":
            summary = RunSummary.model_validate(result)
            self.focus_run = summary.run
            self.query_one("#run-detail", Static).update(describe_run(summary.as_json(), {}))
            self.notify(f"run {summary.run}: {summary.status}", title="run")
        elif outcome.state == "failed":
            self.notify(
                outcome.error, title=f"{message.job.kind} failed", severity="error", timeout=10
            )
        self.action_refresh()

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield ("Train a teacher recommender…", "Start an alkd train job (dimension 100)",
               lambda: self.action_train("teacher"))  # fmt: skip
        yield ("Train a student…", "Start an alkd train job (dimension 10)",
               lambda: self.action_train("student"))  # fmt: skip
        yield ("Distil a student…", "Start an alkd distill job", self.action_distill)
        yield ("Run the whole pipeline…", "Start an alkd run job", self.action_run)
        for run in self.runs[:20]:
            yield (f"Show run {run['run']} ({run['kind']} {run['name']})", run["status"],
                   lambda r=run: self.query_one("#runs", WindowedTable).go_to(self.runs.index(r)))  # fmt: skip
        if self.marked is not None:
            for run in self.runs[:20]:
                if run["run"] != self.marked:
                    yield (f"Diff run {self.marked} with run {run['run']}", "Settings and figures side by side",
                           lambda r=run: self.diff(self.marked, int(r["run"])))  # fmt: skip
