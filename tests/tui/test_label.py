"""Labelling from the TUI: a job per start, live answers, pause (a clean SIGINT) and resume
(nothing answered is asked again), and a later app reattaching to the job from its log."""

from __future__ import annotations

from textual.widgets import Input, RichLog, Static

from alkd_tui.store import Store
from alkd_tui.tui.jobs import list_jobs
from alkd_tui.tui.screens.label import AnswersArrived, LabelChoices, LabelScreen
from alkd_tui.tui.widgets.form import FormSelect
from alkd_tui.tui.widgets.job_panel import JobPanel


def _answered(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT COUNT(*) FROM teacher_request WHERE status = 'answered'"
            ).scalar_one()
        )


def _log_text(screen: LabelScreen) -> str:
    return "\n".join(line.text for line in screen.query_one(RichLog).lines)


async def test_label_with_the_teacher_recommender(
    labelling_store: Store, make_app, settled, waiter
) -> None:  # type: ignore[no-untyped-def]
    messages: list[object] = []
    app = make_app(labelling_store)
    async with app.run_test(size=(150, 45), message_hook=messages.append) as pilot:
        await pilot.press("3")
        await waiter(pilot, lambda: any(isinstance(m, LabelChoices) for m in messages))
        await settled(app, pilot)
        screen = app.screen
        assert isinstance(screen, LabelScreen)
        screen.query_one("#lab-backend", FormSelect).value = "tr"
        screen.query_one("#lab-n", Input).value = "5"
        screen.query_one("#lab-kappa", Input).value = "10"
        await pilot.pause()
        await pilot.press("ctrl+s")
        finished = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, JobPanel.Finished)), None),
            what="label job",
        )
        assert finished.outcome.state == "done", finished.outcome
        assert finished.job.args[:4] == ["label", "sel", "--teacher", "tr"]
        assert finished.progress.result["answered"] == 12
        await waiter(
            pilot, lambda: _log_text(screen).count("✓ session") == 12, what="12 answers in the log"
        )
        await waiter(
            pilot,
            lambda: "done · 12 answered" in str(screen.query_one("#lab-status", Static).render()),
            timeout=5,
        )
        assert _answered(labelling_store) == 12


async def test_pause_resume_and_reattach(
    labelling_store: Store, fake_ollama, make_app, settled, waiter
) -> None:  # type: ignore[no-untyped-def]
    fake_ollama.delay = 0.3
    messages: list[object] = []
    app = make_app(labelling_store, host=fake_ollama.url)
    async with app.run_test(size=(150, 45), message_hook=messages.append) as pilot:
        await pilot.press("3")
        await waiter(pilot, lambda: any(isinstance(m, LabelChoices) and m.served for m in messages))
        await settled(app, pilot)
        screen = app.screen
        assert screen.query_one("#lab-model", FormSelect).value == "fake:1b"
        assert app.teacher_model == "fake:1b"
        screen.query_one("#lab-n", Input).value = "5"
        screen.query_one("#lab-kappa", Input).value = "10"
        await pilot.press("ctrl+s")
        await waiter(
            pilot,
            lambda: sum(len(m.rows) for m in messages if isinstance(m, AnswersArrived)) >= 2,
            what="first answers",
        )
        await pilot.press("ctrl+t")
        paused = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, JobPanel.Finished)), None),
            what="pause",
        )
        assert paused.outcome.state == "interrupted", paused.outcome
        answered = _answered(labelling_store)
        assert 2 <= answered < 12 and fake_ollama.chats == answered
        await waiter(
            pilot,
            lambda: "paused" in str(screen.query_one("#lab-status", Static).render()),
            timeout=5,
        )

        messages.clear()
        await pilot.press("ctrl+g")
        resumed = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, JobPanel.Finished)), None),
            what="resume",
        )
        assert resumed.outcome.state == "done", resumed.outcome
        assert _answered(labelling_store) == 12
        assert fake_ollama.chats == 12  # nothing answered was asked again
        assert resumed.progress.result["cached"] == answered
    jobs = list_jobs(labelling_store.path, "label")
    assert len(jobs) == 2 and jobs[0].args == jobs[1].args

    again: list[object] = []
    later = make_app(labelling_store, host=fake_ollama.url)
    async with later.run_test(size=(150, 45), message_hook=again.append) as pilot:
        await pilot.press("3")
        finished = await waiter(
            pilot,
            lambda: next((m for m in again if isinstance(m, JobPanel.Finished)), None),
            what="reattach",
        )
        assert finished.job.id == jobs[0].id and finished.outcome.state == "done"
        await settled(later, pilot)
        screen = later.screen
        assert screen.query_one("#lab-n", Input).value == "5"
        await waiter(
            pilot,
            lambda: "12 answered" in str(screen.query_one("#lab-status", Static).render()),
            timeout=5,
        )
