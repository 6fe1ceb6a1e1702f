"""Runs from the TUI: distil a student as a job with live progress (loss, validation metric),
see student and distilled student side by side, and compare two runs."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import DataTable, Input, Static

from alkd_tui.pipeline.review import accept_by_rule
from alkd_tui.store import Store
from alkd_tui.tui.screens.runs import RunsScreen
from alkd_tui.tui.widgets.form import FormSelect
from alkd_tui.tui.widgets.job_panel import JobPanel
from alkd_tui.tui.widgets.runs.dialogs import DiffScreen, DistillDialog
from alkd_tui.tui.widgets.runs.messages import RunShown, RunsLoaded
from alkd_tui.tui.widgets.windowed_table import WindowedTable


async def test_distil_and_compare(
    labelled_store: Store, make_app, settled, waiter, text_of
) -> None:  # type: ignore[no-untyped-def]
    accept_by_rule(labelled_store, 1, "parsed")
    messages: list[object] = []
    app = make_app(labelled_store)
    async with app.run_test(size=(160, 50), message_hook=messages.append) as pilot:
        await pilot.press("5")
        await waiter(pilot, lambda: any(isinstance(m, RunsLoaded) for m in messages))
        await settled(app, pilot)
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await pilot.press("d")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, DistillDialog)
        assert dialog.query_one("#dis-student", FormSelect).value == "student"
        dialog.query_one("#dis-selection", FormSelect).value = "sel"
        dialog.query_one("#dis-epochs", Input).value = "2"
        await pilot.press("ctrl+s")
        finished = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, JobPanel.Finished)), None),
            what="distill job",
        )
        assert finished.outcome.state == "done", finished.outcome
        assert finished.job.args[:5] == ["distill", "--student", "student", "--selection", "sel"]
        progress = finished.progress
        assert progress.tasks["distill"].total == 2 and progress.series["distill loss"]
        assert "distill valid recall@10" in progress.series
        name = progress.result["name"]
        await waiter(
            pilot, lambda: name in text_of(screen.query_one("#run-detail", Static)), timeout=5
        )
        detail = text_of(screen.query_one("#run-detail", Static))
        assert "student" in detail and "distilled" in detail and "R@10" in detail
        await waiter(
            pilot, lambda: screen.query_one("#models", DataTable).row_count == 3, timeout=10
        )
        await settled(app, pilot)

        runs = screen.query_one("#runs", WindowedTable)
        kinds = [r["kind"] for r in runs.source]
        assert kinds[0] == "distill" and "train" in kinds
        # Learning curves with axes: the distilled model's and the trained student's.
        from textual.containers import Container
        from textual_plotext import PlotextPlot

        for kind in ("train", "distill"):  # the cursor starts on the distill run: move off first
            messages.clear()
            runs.go_to(kinds.index(kind))
            shown = await waiter(pilot, lambda: next((m for m in messages if isinstance(m, RunShown)), None))
            await settled(app, pilot)
            assert shown.history, kind  # every epoch kept with the model
            box = screen.query_one("#run-curve", Container)
            assert box.display and box.query(PlotextPlot), kind
            assert "learning curve" in str(box.query_one(PlotextPlot).render_lines(
                __import__("textual.geometry", fromlist=["Region"]).Region(0, 0, 80, 2)))
        await pilot.press("m")
        runs.go_to(kinds.index("train"))
        await pilot.press("c")
        await waiter(pilot, lambda: isinstance(app.screen, DiffScreen), timeout=10)
        diff = app.screen.diff
        assert diff["kinds"][0] == "distill" and diff["config"]
        # Figures line up by split and metric across a distill and a train run.
        x, y = diff["metrics"]["test.recall@10"]
        assert x is not None and y is not None
        shown = text_of(app.screen.query_one(VerticalScroll).query_one(Static))
        assert f"{y - x:+.4f}" in shown
        await pilot.press("escape")


def test_a_curve_run_shows_its_curve_and_verdict() -> None:
    from rich.console import Console

    from alkd_tui.tui.widgets.runs.describe import describe_run

    metrics = [{"step": "curve", "split": "valid", "name": n, "value": v} for n, v in {
        "student": 0.10, "accepted": 40, "0.5 labels": 20, "1 labels": 40, "0.5 seed 0": 0.11,
        "0.5 seed 1": 0.12, "1 seed 0": 0.13, "1 seed 1": 0.14}.items()]  # fmt: skip
    run = {"run": 3, "kind": "curve", "name": "sel", "status": "done", "metrics": metrics,
           "config": {"selection": "sel", "student": "stu", "teacher": "t", "metric": "recall@10",
                      "fractions": [0.5, 1.0], "seeds": 2}}  # fmt: skip
    console = Console(width=110, record=True)
    console.print(describe_run(run, {}))
    text = console.export_text()
    assert "label curve (2 seeds, validation)" in text and "+0.0350 ± 0.0071" in text
    assert "more labels will probably help" in " ".join(text.split())
