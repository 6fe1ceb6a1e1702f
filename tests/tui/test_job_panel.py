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


async def test_an_ended_panel_closes_by_its_button_and_by_itself(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import Button

    app = PanelApp()
    async with app.run_test() as pilot:
        panel = app.query_one(JobPanel)
        panel.remove_class("-idle")
        panel.add_class("-ended")
        _ended(panel, "done", {})
        await pilot.pause()
        close = panel.query_one("#job-close", Button)
        assert close.display and panel.display
        await pilot.click("#job-close")
        await pilot.pause()
        assert panel.has_class("-idle") and not panel.display
    auto = PanelApp()
    async with auto.run_test() as pilot:
        panel = auto.query_one(JobPanel)
        panel.close_after = 0.2
        job = Job(id="j", kind="import", args=["data"], db="x.db", pid=1, started_at=time.time(),
                  exit_code=0, folder=str(tmp_path))  # fmt: skip
        panel.job, panel.state = job, "running"
        panel.progress.result = {"name": "shop"}
        panel.remove_class("-idle")
        panel.post_message(JobPanel.Ended(job))
        await pilot.pause(0.6)
        assert panel.has_class("-idle")
