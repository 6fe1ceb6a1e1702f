"""A panel that follows one `alkd ... --jsonl` job: a progress bar, the running tasks with
rates and their fields (loss, validation metric), a sparkline of the series, and a log.

A thread worker reads the job's log file every fifth of a second and posts what arrived as
one message, so a flood of events coalesces; the panel says when the job ended and how.
"""

from __future__ import annotations

import time
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, ProgressBar, RichLog, Static
from textual.worker import Worker, get_current_worker

from alkd_tui.tui.background_jobs import Job, JobProgress, Outcome, is_running, outcome, read_events
from alkd_tui.tui.widgets.charts import sparkline

POLL_S = 0.2


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _fields(fields: dict[str, Any]) -> str:
    return "  ".join(
        f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items()
    )


class JobPanel(Vertical):
    """Follows a job's log; posts `Finished` when the job has ended and all is read."""

    DEFAULT_CSS = """
    JobPanel {
        height: auto;
        border: round $primary-darken-1;
        border-title-color: $text;
        padding: 0 1;
    }
    JobPanel.-idle {
        display: none;
    }
    JobPanel #job-status {
        height: 1;
    }
    JobPanel #job-bar {
        width: 1fr;
    }
    JobPanel #job-overall {
        height: 1;
    }
    JobPanel #job-close {
        display: none;
        margin-left: 1;
    }
    JobPanel.-ended #job-close {
        display: block;
    }
    JobPanel #job-tasks {
        height: auto;
    }
    JobPanel #job-series {
        height: auto;
    }
    JobPanel RichLog {
        height: 8;
        background: $surface;
    }
    """

    class Updated(Message):
        """New events of the followed job (internal: posted by the follower thread)."""

        def __init__(self, job: Job, events: list[dict[str, Any]]) -> None:
            super().__init__()
            self.job = job
            self.events = events

    class Ended(Message):
        """The followed process has ended and its log is read (internal)."""

        def __init__(self, job: Job) -> None:
            super().__init__()
            self.job = job

    class Finished(Message):
        """The job ended: `outcome` says how, `progress` holds what it reported."""

        def __init__(
            self, panel: JobPanel, job: Job, outcome: Outcome, progress: JobProgress
        ) -> None:
            super().__init__()
            self.panel = panel
            self.job = job
            self.outcome = outcome
            self.progress = progress

        @property
        def control(self) -> JobPanel:
            return self.panel

    def __init__(
        self,
        *,
        log_lines: int = 400,
        close_after: float | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`close_after`: seconds after which a job that ended done hides its panel (None:
        it stays until closed); failed or paused jobs stay."""
        super().__init__(id=id, classes=classes)
        self.add_class("-idle")
        self.close_after = close_after
        self.job: Job | None = None
        self.progress = JobProgress("")
        self.state = "idle"
        self.log_lines = log_lines
        self._follower: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="job-status")
        with Horizontal(id="job-overall"):
            yield ProgressBar(id="job-bar", show_eta=False)
            yield Button("close", id="job-close", compact=True)
        yield Static("", id="job-tasks")
        yield Static("", id="job-series")
        yield RichLog(id="job-log", max_lines=self.log_lines, markup=False, wrap=True)  # long lines wrap at words, not cut

    def attach(self, job: Job) -> None:
        """Follow `job` from the start of its log."""
        self.job = job
        self.progress = JobProgress(job.kind)
        self.state = "running"
        self.remove_class("-idle", "-ended")
        self.border_title = job.title or job.kind
        self.query_one(RichLog).clear()
        bar = self.query_one(ProgressBar)
        bar.update(total=None, progress=0)
        self._render_status()
        self._follower = self.follow(job)

    def log_line(self, text: str | Text) -> None:
        """Add a line to the panel's log."""
        self.query_one(RichLog).write(text)

    @property
    def running(self) -> bool:
        return self.state == "running"

    @work(thread=True, exclusive=True, exit_on_error=False, group="job-follow")
    def follow(self, job: Job) -> None:
        worker = get_current_worker()
        offset = 0
        while not worker.is_cancelled:
            alive = is_running(job)
            events, offset = read_events(job.log_path, offset)
            if events:
                self.post_message(self.Updated(job, events))
            if not alive:
                events, offset = read_events(job.log_path, offset)
                if events:
                    self.post_message(self.Updated(job, events))
                self.post_message(self.Ended(job))
                return
            time.sleep(POLL_S)

    def on_job_panel_updated(self, message: Updated) -> None:
        message.stop()
        if message.job is not self.job:
            return
        log = self.query_one(RichLog)
        for event in message.events:
            self.progress.apply(event)
            if event.get("event") == "log":
                log.write(f"{event.get('task', '')}: {event.get('message', '')}")
        self._render_progress()

    def on_job_panel_ended(self, message: Ended) -> None:
        message.stop()
        if message.job is not self.job:
            return
        result = outcome(message.job, self.progress.result)
        self.state = result.state
        self.add_class("-ended")
        if result.state == "done" and self.close_after is not None:
            job = message.job
            self.set_timer(self.close_after, lambda: self.close() if self.job is job else None)
        self._render_progress()
        self._render_status(result)
        if result.state == "failed" and result.error:
            self.log_line(Text(f"failed: {result.error}", style="bold red"))
        elif result.state == "interrupted":
            self.log_line(
                Text("paused: the job stopped cleanly; resume starts it again", style="yellow")
            )
        elif result.state == "lost":
            self.log_line(Text(result.error, style="yellow"))
        self.post_message(self.Finished(self, message.job, result, self.progress))

    def close(self) -> None:
        """Hide the panel of an ended job (a new job shows it again)."""
        if self.state != "running":
            self.add_class("-idle")

    @on(Button.Pressed, "#job-close")
    def _close_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.close()

    def _render_status(self, result: Outcome | None = None) -> None:
        job = self.job
        if job is None:
            return
        started = time.strftime("%H:%M:%S", time.localtime(job.started_at))
        failed = (self.progress.result or {}).get("failed") or 0
        state = {
            "running": "[b $accent]running[/]",
            "done": f"[b $warning]done, {failed} failed[/]" if failed else "[b $success]done[/]",
            "failed": "[b $error]failed[/]",
            "interrupted": "[b $warning]paused[/]",
            "lost": "[b $warning]ended without a result[/]",
        }.get(self.state, self.state)
        extra = (
            f" (exit {result.exit_code})" if result and result.exit_code not in (None, 0) else ""
        )
        self.query_one("#job-status", Static).update(
            f"{state}{extra}  [dim]{job.kind} · pid {job.pid} · started {started} · log {job.log_path.name}[/]"
        )

    def _render_progress(self) -> None:
        progress = self.progress
        completed, total, what = progress.overall()
        bar = self.query_one(ProgressBar)
        if self.state == "done" and total:
            completed = total
        if self.state not in ("running", "idle") and not total:
            # An ended job's bar stands still: full when done, empty otherwise (no "--%").
            total, completed = 1.0, 1.0 if self.state == "done" else 0.0
        bar.update(total=total, progress=completed)
        table = Table.grid(padding=(0, 2))
        for task in progress.active()[-3:]:
            amount = f"{task.completed:g}" + (f"/{task.total:g}" if task.total else "")
            rate = f"{task.rate:.3g} {task.unit}/s" if task.rate else ""
            eta = f"eta {_duration(task.eta)}" if task.eta is not None else ""
            table.add_row(
                Text(task.name, style="bold"),
                f"{amount} {task.unit}",
                rate,
                eta,
                _fields(task.fields),
            )
        if what and not progress.active():
            table.add_row(Text(what, style="bold"), "", "", "", "")
        self.query_one("#job-tasks", Static).update(table)
        lines = []
        for name, values in list(progress.series.items())[-2:]:
            lines.append(f"{name:<28} {sparkline(values, 40)}  {values[-1]:.4g}")
        self.query_one("#job-series", Static).update("\n".join(lines))
        if self.state == "running":
            self._render_status()
