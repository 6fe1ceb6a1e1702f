"""Label: ask a teacher about a selection's sessions as an `alkd label ... --jsonl` job that
outlives the TUI: a live progress bar with rates, a log of answers and failures, pause (a
clean SIGINT: the job stores what it has) and resume (the same job again: nothing answered
is asked twice). Opening the area reattaches to the latest job, running or finished."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import urlsplit

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, Input, Label, RichLog, Select, Static
from textual.worker import get_current_worker

from alkd_tui.errors import AlkdError
from alkd_tui.pipeline.results import SelectionSummary
from alkd_tui.pipeline.selection import list_selections
from alkd_tui.pipeline.settings import (
    LabelSettings,
    ServeSettings,
    TeacherChoice,
    field_specs,
    settings_argv,
    settings_from_form,
    teacher_needs,
    teacher_summary,
)
from alkd_tui.pipeline.teacher_server import openai_base_url, server_models
from alkd_tui.pipeline.views import recent_answers
from alkd_tui.tui.background_jobs import (
    Job,
    error_line,
    interrupt,
    is_running,
    list_jobs,
    start_job,
)
from alkd_tui.tui.screens.base import AreaScreen, PaletteCommand
from alkd_tui.tui.widgets.dialogs import ConfirmDialog
from alkd_tui.tui.widgets.form import Form, FormInput, FormSelect
from alkd_tui.tui.widgets.job_panel import JobPanel
from alkd_tui.tui.widgets.settings_form import SettingsFields

#: Who may answer (`TeacherChoice`'s choices), each with what it is.
TEACHER = next(s for s in field_specs(TeacherChoice) if s.name == "teacher")
BACKEND_CHOICES = [(f"{name}: {teacher_summary(name)}", name) for name in TEACHER.choices]
#: The labelling settings the form offers (the others keep their defaults).
LABEL_FIELDS = ("concurrency", "max_requests", "n", "kappa", "calibration", "think")


class LabelChoices(Message):
    """Selections, teacher recommenders and the server's models for the form; `latest` is
    the newest labelling job (on the first reading, to reattach to)."""

    def __init__(
        self,
        selections: list[SelectionSummary],
        teachers: list[str],
        served: list[str],
        latest: Job | None = None,
        server: Job | None = None,
    ) -> None:
        super().__init__()
        self.selections = selections
        self.teachers = teachers
        self.served = served
        self.latest = latest
        self.server = server  # a local compatibility server started from here, still running


class AnswersArrived(Message):
    """Requests of the labelled selection answered or failed since the last look."""

    def __init__(self, job: Job, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.job = job
        self.rows = rows


def answer_line(row: dict[str, Any]) -> Text:
    """One answer for the log."""
    if row["status"] == "failed":
        return Text(f"✗ session {row['session']}: failed: {row['error'] or '?'}", style="red")
    latency = f" · {row['latency_s']:.2f}s" if row["latency_s"] is not None else ""
    style = "green" if row["parse_status"] == "ok" else "yellow"
    return Text(
        f"✓ session {row['session']}: {row['parse_status']} · {row['ranked']} ranked{latency} · {row['model']}",
        style=style,
    )


def resumed_budget(args: list[str], spent: int) -> list[str] | None:
    """A paused job's arguments for its resume, `--max-requests` lowered by the `spent`
    requests (the budget holds across the pause); None when nothing of it is left."""
    if "--max-requests" not in args:
        return list(args)
    at = args.index("--max-requests") + 1
    left = int(args[at]) - spent
    if left <= 0:
        return None
    return [*args[:at], str(left), *args[at + 1 :]]


class LabelScreen(AreaScreen):
    """Start, follow, pause and resume labelling jobs."""

    AREA = "label"
    HELP = """\
Choose a selection and who answers: **ollama** (the LLM at the teacher host in the header:
Ollama, or the local compatibility server `alkd teacher serve`; its models are listed from
the server), **openai** (an OpenAI-compatible server at the teacher host: vLLM, llama-server,
LM Studio; its `/v1` is added; the key comes from `$OPENAI_API_KEY`), **tr** (the teacher
recommender's own ranking, no LLM) or **replay** (recorded answers). Concurrency is how many questions are in flight; the budget caps how many are sent
now (the rest stay pending for a later job).

No LLM at hand? `ctrl+l` starts alkd's **local compatibility server** (`alkd teacher serve`,
a small built-in model behind Ollama's API, not Ollama) at the teacher host; the header turns
● reachable and its model is listed after a few seconds. `ctrl+l` again stops it.

`ctrl+s` starts an `alkd label ... --jsonl` process. It keeps running if you leave the app;
opening this area again reattaches to it. `ctrl+t` pauses it cleanly (SIGINT: what was
answered is stored), `ctrl+g` resumes it (the same job again; nothing answered is asked twice).
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "start",
            "Start",
            id="label.start",
            tooltip="Start labelling with these settings",
        ),
        Binding(
            "ctrl+t", "pause", "Pause", id="label.pause", tooltip="Stop the job cleanly (resumable)"
        ),
        Binding(
            "ctrl+g",
            "resume",
            "Resume",
            id="label.resume",
            tooltip="Start the last job again where it stopped",
        ),
        Binding(
            "ctrl+l",
            "serve",
            "Local server",
            id="label.serve",
            tooltip="Start alkd's local compatibility server at the teacher host (or stop it)",
        ),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="label-body"):
            with Form(id="label-form", classes="form"):
                yield Label("Selection")
                yield FormSelect([], id="lab-selection", prompt="choose a selection")
                yield Label("Teacher")
                yield FormSelect(
                    BACKEND_CHOICES, value=TEACHER.default, allow_blank=False, id="lab-backend"
                )
                yield Label("Model [dim](listed by the server)[/dim]", id="lab-model-label")
                yield FormSelect([], id="lab-model", prompt="server lists no models")
                yield Label("Recorded answers [dim](replay)[/dim]", id="lab-file-label")
                yield FormInput(placeholder="answers.jsonl", id="lab-file")
                yield Label("Candidates from [dim](teacher recommender)[/dim]")
                yield FormSelect([], id="lab-candidates", prompt="the selection's")
                yield SettingsFields(
                    [s for s in field_specs(LabelSettings) if s.name in LABEL_FIELDS],
                    prefix="lab",
                    placeholders={"max_requests": "all (requests now)"},
                    id="lab-settings",
                )
                with Horizontal(classes="buttons"):
                    yield Button("Start", variant="primary", id="lab-start", compact=True)
                    yield Button("Pause", variant="warning", id="lab-pause", compact=True)
                    yield Button("Resume", id="lab-resume", compact=True)
            with Vertical(id="label-job"):
                yield Static(
                    "No labelling job yet: choose the settings and press [b]ctrl+s[/b].",
                    id="lab-status",
                )
                yield JobPanel(id="label-panel", log_lines=1000)

    def on_mount(self) -> None:
        self.job: Job | None = None
        self.spent = 0  # requests the last job sent (a resume keeps to its budget)
        self._options: dict[str, list[str]] = {"#lab-backend": list(TEACHER.choices)}
        self.selection_info: dict[str, SelectionSummary] = {}
        self.teacher_names: list[str] = []
        self._loaded = False
        self._restore_pending = False  # the job's settings wait for the form's choices
        self.server: Job | None = None  # the local compatibility server started here
        self.served: list[str] = []  # the models the teacher's server lists
        self._show_backend(TEACHER.default)
        self.watch(self.app, "models_changed", lambda _count: self.load_choices(), init=False)
        self.watch(self.app, "teacher_status", self._teacher_probed, init=False)
        self.load_choices(reattach=True)

    def on_screen_resume(self) -> None:
        if self._loaded:  # selections and teacher recommenders made elsewhere meanwhile
            self.load_choices()

    def action_refresh(self) -> None:
        self.load_choices()

    @work(thread=True, exclusive=True, exit_on_error=False, group="label-choices")
    def load_choices(self, reattach: bool = False) -> None:
        from alkd_tui.pipeline.models import list_models

        latest = server = None
        if reattach:
            jobs = list_jobs(self.store, "label")
            latest = jobs[0] if jobs else None
            server = next((j for j in list_jobs(self.store, "serve") if is_running(j)), None)
        selections = list_selections(self.store)
        teachers = [
            m.name
            for m in list_models(self.store)
            if m.role == "teacher" and m.status == "done"
        ]
        served = server_models(self.alkd.teacher_host)
        self.post_message(LabelChoices(selections, teachers, served, latest, server))

    def on_label_choices(self, message: LabelChoices) -> None:
        self.served = list(message.served)
        if message.server is not None and self.server is None:
            self.server = message.server
        if message.latest is not None and self.job is None:
            self.attach_job(message.latest, restore=True)
        self.selection_info = {s.name: s for s in message.selections}
        self.teacher_names = message.teachers
        self._fill("#lab-candidates", message.teachers, None)
        self._fill("#lab-selection", [s.name for s in message.selections], self.alkd.selection)
        self._default_candidates()
        served = list(message.served)
        model = self.query_one("#lab-model", Select)
        self._fill(
            "#lab-model",
            served,
            self.alkd.teacher_model if self.alkd.teacher_model in served else None,
        )
        if served and model.value is Select.NULL:
            model.value = served[0]
        if self.job is None:
            hint = "No labelling job yet: choose the settings and press [b]ctrl+s[/b]."
            if not served:
                hint += (
                    f"\n[$warning]The server at {self.alkd.teacher_host} lists no models[/]: press "
                    "[b]ctrl+l[/b] to start alkd's local compatibility server here (or start Ollama: "
                    "`ollama serve`, `ollama pull MODEL`, then ctrl+r), or label with [b]tr[/b] (no LLM) "
                    "or [b]replay[/b]."
                )
            if self.server is not None:
                hint += (
                    f"\nThe local compatibility server started here runs (pid {self.server.pid}): "
                    "[b]ctrl+l[/b] stops it."
                )
            self.query_one("#lab-status", Static).update(hint)
        if self.job is not None and self._restore_pending:
            self._restore_pending = False
            self._restore(self.job.params)
        self._loaded = True

    def _fill(self, selector: str, names: list[str], prefer: str | None) -> None:
        widget = self.query_one(selector, Select)
        current = widget.value
        self._options[selector] = list(names)
        widget.set_options([(n, n) for n in names])
        for wanted in (prefer, current):
            if wanted in names:
                widget.value = wanted
                return
        if names and selector == "#lab-selection":
            widget.value = names[-1]

    @on(Select.Changed, "#lab-selection")
    def _selection_changed(self) -> None:
        self._default_candidates()

    def _default_candidates(self) -> None:
        """A selection made without a teacher recommender (imported, random) takes its
        candidates from the newest one; otherwise the selection's own is used."""
        name = self.query_one("#lab-selection", Select).value
        info = getattr(self, "selection_info", {}).get(name)
        widget = self.query_one("#lab-candidates", Select)
        if info is not None and info.teacher_model is None and self.teacher_names:
            if widget.value is Select.NULL:
                widget.value = self.teacher_names[-1]
        elif info is not None and widget.value == info.teacher_model:
            widget.clear()

    @on(Select.Changed, "#lab-backend")
    def _backend_changed(self, event: Select.Changed) -> None:
        self._show_backend(str(event.value))

    @on(Select.Changed, "#lab-model")
    def _model_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self.alkd.teacher_model = str(event.value)

    def _show_backend(self, backend: str) -> None:
        needs = teacher_needs(backend)
        for selector in ("#lab-model", "#lab-model-label"):
            self.query_one(selector).display = needs == "model"
        for selector in ("#lab-file", "#lab-file-label"):
            self.query_one(selector).display = needs == "file"

    def settings(self) -> dict[str, Any]:
        """The form's settings (what a job records, to restore the form on reattach): who
        answers, and the labelling settings the form holds (`settings`)."""
        values: dict[str, Any] = {}
        for key, selector in (("selection", "#lab-selection"), ("backend", "#lab-backend"),
                              ("model", "#lab-model"), ("candidates", "#lab-candidates")):  # fmt: skip
            value = self.query_one(selector, Select).value
            values[key] = None if value is Select.NULL else str(value)
        values["file"] = self.query_one("#lab-file", Input).value.strip()
        values["settings"] = self.query_one(SettingsFields).values()
        return values

    def arguments(self, s: dict[str, Any]) -> list[str]:
        """The `alkd label` arguments for settings `s`, made from the settings objects they
        give (ValueError naming what is missing or wrong)."""
        if not s["selection"]:
            raise ValueError("choose a selection (create one in the Select area)")
        needs = teacher_needs(s["backend"])
        choice: dict[str, Any] = {"teacher": s["backend"]}
        if needs == "model":
            if not s["model"] and s["backend"] in ("ollama", "openai"):
                raise ValueError(
                    f"no model: the server at {self.alkd.teacher_host} lists none (is it running?)"
                )
            host = self.alkd.teacher_host
            choice.update(model=s["model"], hosts=[
                openai_base_url(host) if s["backend"] == "openai" else host])  # fmt: skip
        if needs == "file":
            if not s["file"]:
                raise ValueError("give the file of recorded answers")
            choice["file"] = s["file"]
        try:
            teacher = settings_from_form(TeacherChoice, choice)
            settings = settings_from_form(LabelSettings, s.get("settings") or {})
        except AlkdError as exc:
            raise ValueError(str(exc)) from None
        args = ["label", s["selection"], *settings_argv(teacher), *settings_argv(settings)]
        if s["candidates"] and needs != "file":
            args += ["--candidates-from", s["candidates"]]
        return args

    def _restore(self, params: dict[str, Any]) -> None:
        for key, selector in (("selection", "#lab-selection"), ("backend", "#lab-backend"),
                              ("model", "#lab-model"), ("candidates", "#lab-candidates")):  # fmt: skip
            widget = self.query_one(selector, Select)
            value = params.get(key)
            if value and value in self._options.get(selector, []):
                widget.value = value
        if params.get("file") is not None:
            self.query_one("#lab-file", Input).value = str(params["file"])
        self.query_one(SettingsFields).set_values(params.get("settings") or {})

    def action_start(self) -> None:
        if self.job is not None and is_running(self.job):
            self.notify("a labelling job is running: pause it first (ctrl+t)", severity="warning")
            return
        settings = self.settings()
        try:
            args = self.arguments(settings)
        except ValueError as exc:
            self.notify(str(exc), severity="warning")
            return
        who = settings["model"] or settings["backend"]
        job = start_job(
            self.store,
            "label",
            args,
            title=f"label {settings['selection']} with {who}",
            params=settings,
        )
        self.alkd.selection = settings["selection"]
        self.attach_job(job)
        self.query_one(JobPanel).query_one(RichLog).focus()  # out of the form: keys act again

    def action_pause(self) -> None:
        if self.job is None or not interrupt(self.job):
            self.notify("no labelling job is running", severity="warning")
            return
        self.query_one("#lab-status", Static).update(
            "pausing: the job finishes the questions in flight and stops…"
        )

    def action_resume(self) -> None:
        job = self.job
        if job is None:
            self.notify("no labelling job to resume: start one (ctrl+s)", severity="warning")
            return
        if is_running(job):
            self.notify("the job is running", severity="warning")
            return
        args = resumed_budget(job.args, self.spent)
        if args is None:
            self.notify(
                "its request budget is spent: raise max requests and start again (ctrl+s)",
                severity="warning",
            )
            return
        self.attach_job(
            start_job(self.store, "label", args, title=job.title, params=job.params)
        )

    @on(Button.Pressed, "#lab-start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#lab-pause")
    def _pause_pressed(self) -> None:
        self.action_pause()

    @on(Button.Pressed, "#lab-resume")
    def _resume_pressed(self) -> None:
        self.action_resume()

    def attach_job(self, job: Job, restore: bool = False) -> None:
        self.job = job
        if restore:
            self._restore(job.params)
            self._restore_pending = not self._loaded  # again once the choices are in
        self.query_one(JobPanel).attach(job)
        state = "running" if is_running(job) else "finished"
        self.query_one("#lab-status", Static).update(
            f"[b]{escape(job.title)}[/b] ({state}) · [dim]ctrl+t pause · ctrl+g resume[/dim]"
        )
        self.watch_answers(job)

    @work(thread=True, exclusive=True, exit_on_error=False, group="label-answers")
    def watch_answers(self, job: Job) -> None:
        """Read the answers that arrive while the job runs (and those it left)."""
        import time

        worker = get_current_worker()
        selection = str(job.args[1])
        since: str | float = job.started_at  # the answers this job gave (and later ones)
        while not worker.is_cancelled:
            alive = is_running(job)
            rows = recent_answers(self.store, selection, since=since, limit=500)
            if rows:
                since = rows[-1]["at"]
                self.post_message(AnswersArrived(job, rows))
            if not alive and len(rows) < 500:
                return
            time.sleep(0.5)

    def on_answers_arrived(self, message: AnswersArrived) -> None:
        if message.job is not self.job:
            return
        panel = self.query_one(JobPanel)
        for row in message.rows[-200:]:
            panel.log_line(answer_line(row))

    def on_job_panel_finished(self, message: JobPanel.Finished) -> None:
        if message.job is not self.job:
            return
        asked = message.progress.tasks.get("label")
        self.spent = int(asked.fields.get("sent", 0)) if asked is not None else 0
        result = message.outcome.result or {}
        status = self.query_one("#lab-status", Static)
        self.alkd.labels_changed += 1  # whatever it answered before it ended is stored
        if message.outcome.state == "done":
            cal = result.get("calibration") or {}
            accuracy = (
                f" · calibration: hit@10 {cal['hit@10']:.3f} on {cal['sessions']} validation sessions"
                if cal.get("hit@10") is not None
                else ""
            )
            skipped = result.get("unanswerable") or 0
            unanswerable = f", {skipped} without a recorded answer (not asked)" if skipped else ""
            failed = result.get("failed", 0)
            state = "[$warning]done with failures[/]" if failed else "[$success]done[/]"
            status.update(
                f"[b]{escape(message.job.title)}[/b]: {state} · {result.get('answered', 0)} answered "
                f"({result.get('answered_now', 0)} now, {result.get('cached', 0)} before), "
                f"{failed} failed, {result.get('pending', 0)} pending{unanswerable}{accuracy} · "
                "press [b]4[/b] to review"
            )
        elif message.outcome.state == "interrupted":
            status.update(f"[b]{escape(message.job.title)}[/b]: paused · [b]ctrl+g[/b] resumes")
        else:
            status.update(
                f"[b]{escape(message.job.title)}[/b]: {message.outcome.state}: "
                f"{escape(message.outcome.error or '')}"
            )

    def _teacher_probed(self, status: Any) -> None:
        """The teacher's server came up (the local one started here, say): list its models;
        or the local one ended: say why."""
        if self.server is not None and not is_running(self.server):
            error = error_line(self.server) or "it ended"
            self.notify(f"the local compatibility server stopped: {error}", severity="error")
            self.server = None
        if status is not None and status.reachable and not self.served:
            self.load_choices()

    def action_serve(self) -> None:
        """Start the local compatibility server at the teacher host, or stop the one started."""
        if self.server is not None and is_running(self.server):
            if self.job is not None and is_running(self.job):
                self.app.push_screen(
                    ConfirmDialog(
                        f"A labelling job ({self.job.title}) is running and may be asking this "
                        "server: stop the local compatibility server anyway? (its requests in "
                        "flight fail and stay to be asked again)",
                        yes="Stop it", no="Keep it",
                    ),
                    lambda yes: self._stop_server() if yes else None,
                )  # fmt: skip
                return
            self._stop_server()
            return
        status = self.alkd.teacher_status
        host = self.alkd.teacher_host
        if status is not None and status.reachable:
            if status.local:
                pid = f" (pid {status.pid})" if status.pid else ""
                kill = f" or `kill -INT {status.pid}`" if status.pid else ""
                self.notify(
                    f"alkd's local compatibility server already runs at {host}{pid}, started by "
                    f"another alkd: label with it as it is (its model is listed), or stop it with "
                    f"ctrl+l in the app that started it{kill}",
                    severity="warning", timeout=15,
                )  # fmt: skip
            else:
                self.notify(f"{status.kind} already answers at {host}", severity="warning")
            return
        where = urlsplit(host)
        if where.hostname not in ("127.0.0.1", "localhost", "::1"):
            self.notify(
                f"the teacher host is {host}: the local compatibility server listens on this machine "
                "only (start alkd-tui with OLLAMA_HOST=127.0.0.1:11434)",
                severity="warning",
                timeout=10,
            )
            return
        # The teacher host is normalised (it has a port); the server listens where it points.
        serve = settings_from_form(ServeSettings, {"host": where.hostname, "port": where.port})
        args = ["teacher", "serve", *settings_argv(serve, only_changed=False), "--json"]
        self.server = start_job(
            self.store, "serve", args, title="local compatibility server", jsonl=False
        )
        self.query_one("#lab-status", Static).update(
            f"starting the [b]local compatibility server[/b] at {host} (pid {self.server.pid}, a "
            "small built-in model, not Ollama): its model is listed once the header shows "
            "● reachable · [b]ctrl+l[/b] stops it"
        )

    def _stop_server(self) -> None:
        if self.server is not None and is_running(self.server):
            interrupt(self.server)
            self.notify("stopping the local compatibility server", title="teacher")
        self.server = None

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield ("Start labelling", "With the settings in the form", self.action_start)
        yield ("Start or stop the local compatibility server", "alkd teacher serve at the teacher host",
               self.action_serve)  # fmt: skip
        if self.job is not None:
            yield ("Pause the labelling job", self.job.title, self.action_pause)
            yield ("Resume the labelling job", self.job.title, self.action_resume)
        for job in list_jobs(self.store, "label")[:10]:
            yield (f"Show job {job.id}", job.title, lambda j=job: self.attach_job(j, restore=True))
