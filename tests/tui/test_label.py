"""Labelling from the TUI: a job per start, live answers, pause (a clean SIGINT) and resume
(nothing answered is asked again), a later app reattaching to the job from its log, and
recorded answers replayed (the paper's GPT-4 answers are such a file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input, RichLog, Static

from alkd_tui.pipeline.selection import create_selection
from alkd_tui.pipeline.views import label_detail, review_queue
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql
from alkd_tui.tui.background_jobs import Job, interrupt, is_running, list_jobs
from alkd_tui.tui.background_jobs import wait as jobs_wait
from alkd_tui.tui.screens.label import AnswersArrived, LabelChoices, LabelScreen
from alkd_tui.tui.widgets.form import FormSelect
from alkd_tui.tui.widgets.job_panel import JobPanel
from tests.conftest import needs_local_teacher


def _answered(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(
            run_sql(conn, "SELECT COUNT(*) FROM teacher_request WHERE status = 'answered'"
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
            # distinct requests: the message hook sees a message at every node it bubbles to
            lambda: (
                len(
                    {
                        r["request"]
                        for m in messages
                        if isinstance(m, AnswersArrived)
                        for r in m.rows
                    }
                )
                >= 2
            ),
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
        in_flight = fake_ollama.chats - answered  # abandoned at the pause: asked again, once
        assert 2 <= answered < 12 and in_flight in (0, 1)
        await waiter(
            pilot,
            lambda: "paused" in str(screen.query_one("#lab-status", Static).render()),
            timeout=5,
        )

        messages.clear()
        await pilot.press("ctrl+g")
        resumed = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, JobPanel.Finished)
                          and m.job.id != paused.job.id), None),
            what="resume",
        )
        assert resumed.outcome.state == "done", resumed.outcome
        assert _answered(labelling_store) == 12
        assert fake_ollama.chats == 12 + in_flight  # nothing answered was asked again
        assert resumed.progress.result["cached"] == answered
    jobs = list_jobs(labelling_store, "label")
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


async def test_a_request_budget_holds_across_pause_and_resume(
    labelling_store: Store, fake_ollama, make_app, settled, waiter
) -> None:  # type: ignore[no-untyped-def]
    """Budget 3: the progress counts to 3 (not the 12 sessions), and a paused job's resume
    sends only what is left of the 3; once spent, resume refuses."""
    fake_ollama.delay = 0.3
    messages: list[object] = []
    app = make_app(labelling_store, host=fake_ollama.url)
    async with app.run_test(size=(150, 45), message_hook=messages.append) as pilot:
        await pilot.press("3")
        await waiter(pilot, lambda: any(isinstance(m, LabelChoices) and m.served for m in messages))
        await settled(app, pilot)
        screen = app.screen
        for field, value in (("n", "5"), ("kappa", "10"), ("max_requests", "3")):
            screen.query_one(f"#lab-{field}", Input).value = value
        await pilot.press("ctrl+s")
        await waiter(pilot, lambda: _answered(labelling_store) >= 1, what="a first answer")
        await pilot.press("ctrl+t")
        paused = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, JobPanel.Finished)), None),
            what="pause",
        )
        assert paused.outcome.state == "interrupted", paused.outcome
        assert paused.progress.tasks["label"].total == 3
        spent = int(paused.progress.tasks["label"].fields["sent"])
        assert 1 <= spent <= 3
        messages.clear()
        await pilot.press("ctrl+g")
        if spent < 3:
            resumed = await waiter(
                pilot,
                lambda: next((m for m in messages if isinstance(m, JobPanel.Finished)
                              and m.job.id != paused.job.id), None),
                what="resume",
            )
            assert resumed.outcome.state == "done", resumed.outcome
            budget = resumed.job.args[resumed.job.args.index("--max-requests") + 1]
            assert budget == str(3 - spent)
        assert fake_ollama.chats <= 3 and _answered(labelling_store) <= 3
        messages.clear()
        await pilot.press("ctrl+g")  # spent: nothing more is sent
        await settled(app, pilot)
        started = {m.job.id for m in messages if isinstance(m, JobPanel.Finished)}
        assert started <= {paused.job.id, *([resumed.job.id] if spent < 3 else [])}
        assert fake_ollama.chats <= 3


def _sessions(store: Store, selection: str = "sel") -> list[str]:
    with store.engine.connect() as conn:
        return [str(k) for (k,) in run_sql(conn, 'SELECT s.external_id FROM selection_member m JOIN selection x ON x.id = m.selection_id '
            'JOIN session s ON s.id = m.session_id WHERE x.name = ? ORDER BY m."order"', (selection,))]  # fmt: skip


async def test_label_by_replaying_recorded_answers(
    labelling_store: Store, tmp_path: Path, make_app, settled, waiter
) -> None:  # type: ignore[no-untyped-def]
    """Answers recorded as the paper's are (session_id, model, ranking; no scores) for 8 of
    the selection's 12 sessions: those 8 are stored as they were recorded, the rest wait."""
    model = "gpt-4-turbo-2024-04-09"
    recorded = {
        key: [f"g{(int(key) * 7 + j * 3) % 30}" for j in range(5)]
        for key in _sessions(labelling_store)[:8]
    }
    path = tmp_path / "teacher_gpt-4-turbo.jsonl"
    path.write_text("".join(json.dumps({"session_id": int(key), "model": model, "ranking": ranking}) + "\n"
                            for key, ranking in recorded.items()))  # fmt: skip
    messages: list[object] = []
    app = make_app(labelling_store)
    async with app.run_test(size=(150, 45), message_hook=messages.append) as pilot:
        await pilot.press("3")
        await waiter(pilot, lambda: any(isinstance(m, LabelChoices) for m in messages))
        await settled(app, pilot)
        screen = app.screen
        assert isinstance(screen, LabelScreen)
        screen.query_one("#lab-backend", FormSelect).value = "replay"
        await pilot.pause()
        assert screen.query_one("#lab-file", Input).display
        assert not screen.query_one("#lab-model", FormSelect).display
        screen.query_one("#lab-file", Input).value = str(path)
        screen.query_one("#lab-n", Input).value = "5"
        await pilot.press("ctrl+s")
        finished = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, JobPanel.Finished)), None),
            what="label job",
        )
        assert finished.outcome.state == "done", finished.outcome
        args = finished.job.args
        assert args[:4] == ["label", "sel", "--teacher", "replay"]
        assert args[args.index("--file") + 1] == str(path)
        assert finished.progress.result["answered"] == 8
        await waiter(
            pilot,
            lambda: "4 without a recorded answer" in str(screen.query_one("#lab-status", Static).render()),
            timeout=5, what="the skipped sessions in the status",
        )  # fmt: skip
        await waiter(
            pilot, lambda: _log_text(screen).count("✓ session") == 8, what="8 answers in the log"
        )
        assert model in _log_text(screen)

    create_selection(labelling_store, "games", "random", 3, name="newer")  # listed last
    later = make_app(labelling_store)  # reattaches to the job: the form shows what it ran
    async with later.run_test(size=(150, 45)) as pilot:
        await pilot.press("3")
        await waiter(pilot, lambda: later.screen.job is not None, what="reattach")
        await settled(later, pilot)
        assert later.screen.query_one("#lab-selection", FormSelect).value == "sel"
        assert later.screen.query_one("#lab-backend", FormSelect).value == "replay"
        assert later.screen.query_one("#lab-file", Input).value == str(path)

    entries = review_queue(labelling_store, "sel")["entries"]
    assert sorted(e.session_key for e in entries) == sorted(recorded)
    for entry in entries:
        detail = label_detail(labelling_store, entry.request_id, entry.session_id)
        assert [i.item for i in detail.ranking] == recorded[entry.session_key]
        assert detail.provenance["backend"] == "replay"
        assert detail.provenance["model"] == model
        assert detail.parse_status == "ok" and entry.top_score is None  # no scores recorded
        assert json.loads(detail.raw_response)["ranking"] == recorded[entry.session_key]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@needs_local_teacher
async def test_label_with_the_local_compatibility_server_started_from_the_app(
    labelling_store: Store, make_app, settled, waiter
) -> None:  # type: ignore[no-untyped-def]
    """ctrl+l starts `alkd teacher serve` at the teacher host (the built-in model behind
    Ollama's API); its model is listed once it answers; two sessions are labelled by it; ctrl+l
    stops it."""
    messages: list[object] = []
    app = make_app(
        labelling_store, host=f"127.0.0.1:{_free_port()}", poll_teacher=True, poll_seconds=0.5
    )
    server: Job | None = None
    try:
        async with app.run_test(size=(150, 45), message_hook=messages.append) as pilot:
            await pilot.press("3")
            await waiter(pilot, lambda: any(isinstance(m, LabelChoices) for m in messages))
            await settled(app, pilot)
            screen = app.screen
            assert isinstance(screen, LabelScreen)
            assert "ctrl+l" in str(screen.query_one("#lab-status", Static).render())
            await pilot.press("ctrl+l")
            server = screen.server
            assert server is not None and server.kind == "serve"
            assert (
                server.args[:3] == ["teacher", "serve", "--host"] and "--jsonl" not in server.args
            )
            await waiter(
                pilot,
                lambda: app.teacher_status is not None and app.teacher_status.local,
                timeout=120,
                what="the local compatibility server",
            )
            await waiter(
                pilot,
                lambda: screen.query_one("#lab-model", FormSelect).value == "smollm2:135m",
                what="its model listed",
            )
            await settled(app, pilot)
            for field, value in (("n", "3"), ("kappa", "5"), ("max_requests", "2")):
                screen.query_one(f"#lab-{field}", Input).value = value
            await pilot.press("ctrl+s")
            finished = await waiter(
                pilot,
                lambda: next((m for m in messages if isinstance(m, JobPanel.Finished)), None),
                timeout=240,
                what="label job",
            )
            assert finished.outcome.state == "done", finished.outcome
            assert finished.progress.result["answered"] == 2
            await pilot.press("ctrl+l")
            assert screen.server is None
            assert jobs_wait(server, 30), "the server did not stop"
    finally:
        if server is not None and is_running(server):
            interrupt(server)
            jobs_wait(server, 30)
    entries = review_queue(labelling_store, "sel")["entries"]
    assert len(entries) == 2
    for entry in entries:
        detail = label_detail(labelling_store, entry.request_id, entry.session_id)
        provenance = detail.provenance
        assert provenance["model"] == "smollm2:135m" and provenance["backend"] == "ollama"
        assert str(provenance["server_version"]).endswith("-alkd-local")
        assert detail.raw_response  # the model's own answer, whatever it parsed to


def test_a_resume_lowers_the_request_budget_by_what_was_spent() -> None:
    from alkd_tui.tui.screens.label import resumed_budget

    args = ["label", "sel", "--max-requests", "5", "--n", "3"]
    assert resumed_budget(args, 2) == ["label", "sel", "--max-requests", "3", "--n", "3"]
    assert resumed_budget(args, 5) is None and resumed_budget(args, 7) is None
    assert resumed_budget(["label", "sel"], 9) == ["label", "sel"]  # no budget: as it was


async def test_ctrl_l_names_a_local_server_another_app_started(
    labelling_store: Store, make_app, settled, waiter, version_server
) -> None:  # type: ignore[no-untyped-def]
    """A local compatibility server that another alkd-tui started (on another database) is
    not this app's to stop: ctrl+l says which process it is and how to stop it, and nothing
    is started."""
    from textual.notifications import Notify

    version_server.update(version="0.1.0-alkd-local", pid=4242)
    messages: list[object] = []
    app = make_app(labelling_store, host=version_server["url"], poll_teacher=True, poll_seconds=0.5)
    async with app.run_test(size=(150, 45), message_hook=messages.append) as pilot:
        await pilot.press("3")
        await waiter(pilot, lambda: app.teacher_status is not None and app.teacher_status.local)
        await settled(app, pilot)
        await pilot.press("ctrl+l")
        note = await waiter(pilot, lambda: next((m.notification.message for m in messages
                                                 if isinstance(m, Notify)), None))  # fmt: skip
        assert "pid 4242" in note and "kill -INT 4242" in note, note
        assert app.screen.server is None  # nothing started here


async def test_stopping_the_server_while_a_job_runs_asks_first(
    labelling_store: Store, make_app, settled, waiter, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """ctrl+l with a labelling job running asks before it stops the local server; No keeps it."""
    import subprocess
    import time

    from alkd_tui.tui.background_jobs import _children
    from alkd_tui.tui.widgets.dialogs import ConfirmDialog

    def sleeper(kind: str) -> Job:
        proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
        _children[proc.pid] = proc
        job = Job(f"{kind}-1", kind, [kind], str(labelling_store.target), proc.pid, time.time())
        job.folder = str(tmp_path)
        return job

    server, running = sleeper("serve"), sleeper("label")
    app = make_app(labelling_store)
    try:
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("3")
            await settled(app, pilot)
            screen = app.screen
            screen.server, screen.job = server, running
            await pilot.press("ctrl+l")
            await waiter(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("escape")  # no
            await settled(app, pilot)
            assert screen.server is server and is_running(server)
            await pilot.press("ctrl+l")
            await waiter(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            app.screen.dismiss(True)  # yes
            await settled(app, pilot)
            assert screen.server is None and jobs_wait(server, 10)
    finally:
        for job in (server, running):
            if is_running(job):
                interrupt(job)
                jobs_wait(job, 10)
