"""Jobs as detached `alkd ... --jsonl` processes: the log is read line by line (a half-written
line waits), progress folds from events, a job ended under an earlier TUI is judged from its
log and error line, and a real job runs to its result."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

from alkd_tui.tui import background_jobs as jobs
from alkd_tui.tui.background_jobs import (
    Job,
    JobProgress,
    interrupt,
    list_jobs,
    outcome,
    read_events,
    start_job,
)


def test_reads_complete_lines_only(tmp_path: Path) -> None:
    log = tmp_path / "x.jsonl"
    log.write_text('{"event": "start", "task": "a"}\nnot json\n{"event": "adv')
    events, offset = read_events(log)
    assert [e["event"] for e in events] == ["start", "log"] and events[1]["message"] == "not json"
    with log.open("a") as fh:
        fh.write('ance", "task": "a", "completed": 1}\n')
    more, end = read_events(log, offset)
    assert [e["event"] for e in more] == ["advance"] and end == log.stat().st_size
    assert read_events(tmp_path / "missing.jsonl") == ([], 0)


def test_progress_folds_tasks_rates_series_and_the_result() -> None:
    progress = JobProgress("distill")
    for event in [
        {"event": "start", "task": "distill", "completed": 0, "total": 4, "unit": "epochs", "time": 10.0},
        {"event": "advance", "task": "distill", "completed": 1, "total": 4, "unit": "epochs", "time": 12.0,
         "fields": {"loss": 0.7, "valid recall@10": 0.05}},
        {"event": "advance", "task": "distill", "completed": 2, "total": 4, "unit": "epochs", "time": 14.0,
         "fields": {"loss": 0.6, "valid recall@10": 0.07}},
        {"event": "log", "task": "distill", "message": "hello"},
        {"event": "result", "data": {"name": "m"}},
    ]:  # fmt: skip
        progress.apply(event)
    task = progress.tasks["distill"]
    assert task.rate == 0.5 and task.eta == 4.0
    assert progress.series["distill valid recall@10"] == [0.05, 0.07]
    assert progress.overall() == (2.0, 4.0, "distill")
    assert progress.logs == ["distill: hello"] and progress.result == {"name": "m"}
    run = JobProgress("run")
    for name in ("dataset", "teacher_recommender"):
        run.apply(
            {"event": "start", "task": f"step {name}", "completed": 0, "total": 1, "time": 1.0}
        )
        run.apply({"event": "end", "task": f"step {name}", "completed": 1, "total": 1, "time": 2.0})
    assert run.overall()[:2] == (2.0, 8.0)
    # A run that asks for hints has one step more, counted once it starts.
    run.apply({"event": "start", "task": "step hints", "completed": 0, "total": 1, "time": 3.0})
    assert run.overall() == (2.0, 9.0, "step hints")


def _job(tmp_path: Path, *, log: str = "", err: str = "", pid: int = 2**22 + 12345) -> Job:
    job = Job("20260101-000000-label-1", "label", ["label", "sel"], str(tmp_path / "db"), pid, 1.0)
    job.folder = str(tmp_path)
    job.log_path.write_text(log)
    job.err_path.write_text(err)
    job.save()
    return job


def test_a_job_of_an_earlier_tui_is_judged_from_what_it_left(tmp_path: Path) -> None:
    assert outcome(_job(tmp_path), result={"x": 1}).state == "done"
    paused = outcome(_job(tmp_path, err="alkd: error: interrupted\n"))
    assert paused.state == "interrupted" and paused.exit_code == 130
    failed = outcome(_job(tmp_path, err="alkd: error: no selection 'x'\n"))
    assert failed.state == "failed" and failed.error == "no selection 'x'"
    assert outcome(_job(tmp_path)).state == "lost"
    assert not interrupt(_job(tmp_path))


def test_jobs_are_listed_newest_first(tmp_path: Path) -> None:
    db = SimpleNamespace(target=str(tmp_path / "a.db"), files_dir=tmp_path / "a.db.files")
    folder = jobs.jobs_dir(db)
    folder.mkdir(parents=True)
    for n, kind in enumerate(("label", "distill", "label")):
        job = Job(f"j{n}", kind, [], db.target, 1, float(n))
        job.folder = str(folder)
        job.save()
    (folder / "broken.json").write_text("{")
    assert [j.id for j in list_jobs(db)] == ["j2", "j1", "j0"]
    assert [j.id for j in list_jobs(db, "label")] == ["j2", "j0"]


def test_a_real_job_runs_detached_and_ends_with_its_result(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clicks = tmp_path / "clicks.csv"
    clicks.write_text(
        "session_id,item_id,timestamp\n"
        + "".join(f"{s},{i},{s * 10 + j}\n" for s in range(6) for j, i in enumerate("xyz"))
    )
    job = start_job(
        store,
        "import",
        ["data", "import", "csv", str(clicks), "--name", "toys", "--min-item-support", "1"],
    )
    assert job.log_path.parent == store.files_dir / "jobs"
    assert os.getpgid(job.pid) == job.pid  # its own session and process group
    assert jobs.wait(job, 60)
    events, _ = read_events(job.log_path)
    result = next(e["data"] for e in events if e["event"] == "result")
    assert result["name"] == "toys" and outcome(job, result).state == "done"
    assert json.loads(job.meta_path.read_text())["exit_code"] == 0
    again = list_jobs(store)[0]
    assert again.id == job.id and not jobs.is_running(again)
