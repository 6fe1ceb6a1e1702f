"""The job panel's state line and bar once a job has ended."""

from __future__ import annotations

import time

from textual.app import App, ComposeResult
from textual.widgets import ProgressBar, Static

from alkd_tui.tui.background_jobs import Job
from alkd_tui.tui.widgets.job_panel import JobPanel


class PanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield JobPanel(id="panel")


def _ended(panel: JobPanel, state: str, result: dict[str, object] | None) -> str:
    panel.job = Job(id="j", kind="label", args=["label"], db="x.db", pid=1, started_at=time.time())
    panel.progress.result = result
    panel.state = state
    panel._render_progress()
    panel._render_status()
    return str(panel.query_one("#job-status", Static).render())


async def test_done_with_failures_is_not_shown_as_plain_done() -> None:
    app = PanelApp()
    async with app.run_test() as pilot:
        panel = app.query_one(JobPanel)
        assert _ended(panel, "done", {"answered": 8, "failed": 2}).startswith("done, 2 failed")
        assert _ended(panel, "done", {"answered": 8, "failed": 0}).startswith("done ")
        await pilot.pause()


async def test_an_ended_job_without_a_total_has_a_still_bar() -> None:
    app = PanelApp()
    async with app.run_test() as pilot:
        panel = app.query_one(JobPanel)
        bar = panel.query_one(ProgressBar)
        _ended(panel, "done", {})
        assert bar.total == 1 and bar.progress == 1  # not the animated "--%" of no total
        _ended(panel, "interrupted", None)
        assert bar.total == 1 and bar.progress == 0
        await pilot.pause()
