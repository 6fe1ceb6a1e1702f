"""`alkd run` as a process: interrupted by SIGINT or killed (-9) during a step, then resumed,
it ends with the same results as an uninterrupted run and no duplicate teacher requests."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from alkd_tui.store import open_store
from tests.conftest import query

pytestmark = pytest.mark.slow

ALKD = str(Path(sys.executable).parent / "alkd")
FAST = ["--set", "teacher_recommender.epochs=2", "--set", "student.epochs=2", "--set", "select.budget=20",
        "--set", "distill.epochs=10", "--set", "distill.patience=10", "--set", "label.teacher=tr"]  # fmt: skip
ENV = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}


def alkd(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ALKD, "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    db = tmp_path_factory.mktemp("straight") / "alkd.db"
    done = alkd(db, "run", *FAST, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def interrupt_at(db: Path, step: str, sig: int) -> int:
    """Start a run, send `sig` at the first progress inside `step`, return the exit code."""
    proc = subprocess.Popen([ALKD, "--db", str(db), "run", *FAST, "--jsonl"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV)  # fmt: skip
    assert proc.stdout is not None
    started = False
    for line in proc.stdout:
        event = json.loads(line)
        started = started or (event.get("event") == "start" and event.get("task") == f"step {step}")
        if started and event.get("event") == "advance":  # the step is under way
            proc.send_signal(sig)
            break
    else:
        pytest.fail(
            f"the run ended before step {step}: {proc.stderr.read() if proc.stderr else ''}"
        )
    proc.communicate(timeout=120)
    return proc.returncode


@pytest.mark.parametrize("step", ["teacher_recommender", "label", "distill"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "kill-9"])
def test_interrupt_then_resume(straight: dict, tmp_path: Path, step: str, sig: int) -> None:  # type: ignore[type-arg]
    db = tmp_path / "alkd.db"
    code = interrupt_at(db, step, sig)
    status = (
        sqlite3.connect(db).execute("SELECT status FROM run WHERE kind = 'pipeline'").fetchone()[0]
    )
    if sig == signal.SIGINT:
        assert code == 130 and status == "interrupted"
    else:
        assert (
            code == -signal.SIGKILL and status == "running"
        )  # killed: nothing could be saved, nothing is lost
    resumed = alkd(db, "run", "--resume", "1", "--json")
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["status"] == "done"
    assert summary["results"] == straight["results"]
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM teacher_request").fetchone()[0] == 20
    assert con.execute("SELECT COUNT(DISTINCT session_id) FROM teacher_request").fetchone()[0] == 20
    assert (
        con.execute("SELECT COUNT(*) FROM teacher_request WHERE status != 'answered'").fetchone()[0]
        == 0
    )


def test_bad_configs_are_one_line_with_the_right_code(tmp_path: Path) -> None:
    db = tmp_path / "alkd.db"
    config = tmp_path / "run.toml"
    config.write_text("[label]\nmodle = 'x'\n")
    cases = [
        ((str(config),), 2, "unknown key 'label.modle'"),
        (("--set", "select.budget=many"), 2, "select.budget: Input should be a valid integer"),
        (("--set", "dataset.name=nowhere"), 2, "dataset 'nowhere' is not in"),
        (("--set", "label.hints=true", "--set", "label.teacher=replay", "--set", "label.file=x.jsonl"), 2,
         "label.hints = true needs an LLM to write the hints, and label.teacher = 'replay' cannot"),
        (("--set", "hints.sesions=5"), 2, "unknown key 'hints.sesions'"),
        (("--set", "label.teacher=ollama", "--set", "label.hosts=[\"127.0.0.1:9\"]", "--set", "teacher_recommender.epochs=1",
          "--set", "student.epochs=1"), 3, "no Ollama server answers at http://127.0.0.1:9"),
    ]  # fmt: skip
    for args, code, message in cases:
        result = alkd(db, "run", *args)
        assert result.returncode == code, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert message in lines[-1] and lines[-1].startswith("alkd: error: "), (args, result.stderr)


def test_a_refused_configuration_stores_nothing(tmp_path: Path) -> None:
    """What a step would refuse later is refused before the run is recorded: no run, no
    dataset, no model lands for a configuration that cannot run."""
    db = tmp_path / "alkd.db"
    cases = [
        (("--set", "student.architecture=bert4rec"), "student.architecture 'bert4rec': use 'fpmc', 'stamp'"),
        (("--set", "teacher_recommender.metric=recall@99"), "teacher_recommender.metric 'recall@99': use"),
        (("--set", "select.strategy=oracle"), "select.strategy 'oracle': use 'alkd', 'random'"),
        (("--set", "select.ratios=a:b:c"), "--ratios 'a:b:c'"),
        (("--set", "select.ratios=from:nosuch"), "no selection 'nosuch'"),
        (("--set", "select.pool=replay:/nonexistent.jsonl"), "/nonexistent.jsonl: no such file (from select.pool)"),
        (("--set", "select.from_file=/nonexistent.txt"), "/nonexistent.txt: no such file"),
        (("--set", "label.teacher=replay"), "label.teacher = 'replay' needs label.file"),
        (("--set", "dataset.format=csv", "--set", "dataset.path=/nonexistent.csv", "--set", "dataset.name=x"),
         "/nonexistent.csv: no such file (from dataset.path)"),
        (("--set", "distill.metric=hits@10"), "distill.metric 'hits@10': use 'recall@5'"),
    ]  # fmt: skip
    for args, message in cases:
        result = alkd(db, "run", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr.strip().splitlines()[-1], (args, result.stderr)
    con = sqlite3.connect(db)
    assert [
        con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("run", "dataset", "model")
    ] == [0, 0, 0]
    con.close()


QUICK = ["--set", "teacher_recommender.epochs=1", "--set", "student.epochs=1", "--set", "select.budget=5"]  # fmt: skip


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_auto_teacher_with_neither_server_says_how_to_get_one(
    alkd, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    port = closed_port()
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")  # no Ollama answers there
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # `import llama_cpp` fails: not installed
    result = alkd("run", *QUICK)  # label.teacher is `auto` by default
    assert result.code == 3, result.err
    errors = [line for line in result.err.splitlines() if line.startswith("alkd: error: ")]
    assert len(errors) == 1 and errors[0] == result.err.strip().splitlines()[-1]
    line = errors[0]
    assert f"no Ollama answers at http://127.0.0.1:{port} with smollm2:135m" in line
    assert "the local compatibility server is not installed" in line
    assert "pip install" in line and "ollama serve" in line and "OLLAMA_HOST" in line
    [(status, steps)] = query(db_path, "SELECT status, steps FROM run WHERE kind = 'pipeline'")
    assert status == "failed" and json.loads(steps)["label"]["status"] == "failed"
    assert query(db_path, "SELECT COUNT(*) FROM teacher_request") == [(0,)]


def test_a_failed_step_fails_the_run_with_exit_1(alkd, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    args = [*QUICK, "--set", "label.teacher=tr", "--set", "review.policy=manual"]
    first = alkd("run", *args, "--json")
    assert first.code == 0 and json.loads(first.out)["status"] == "awaiting-review", first.err
    [(checkpoint,)] = query(db_path, "SELECT checkpoint_path FROM model WHERE role = 'teacher'")
    with open_store(db_path) as opened:
        files_base = opened.files_dir.parent
    with (files_base / checkpoint).open("ab") as fh:
        fh.write(b"changed since training")  # the label step needs it for the candidates
    failed = alkd("run", *args)
    assert failed.code == 1, failed.err
    assert "does not match its recorded sha256" in failed.err.strip().splitlines()[-1]
    run_id, status, error, steps = query(
        db_path, "SELECT id, status, error, steps FROM run WHERE kind = 'pipeline' ORDER BY id DESC"
    )[0]
    steps = json.loads(steps)
    assert status == "failed" and "does not match its recorded sha256" in error
    assert steps["label"]["status"] == "failed" and steps["select"]["status"] == "done"
    assert "review" not in steps
    shown = alkd("runs", "show", str(run_id))
    assert shown.code == 0 and f"run {run_id} (pipeline, default): failed: " in shown.err


def test_the_run_says_whether_distillation_cleared_the_noise() -> None:
    from alkd_tui.cli.run import next_steps
    from alkd_tui.pipeline.results import RunSummary, distillation_note

    def summary(difference: float, se: float) -> RunSummary:
        return RunSummary(
            run=4, name="r", kind="pipeline", status="done", error=None, seed=0, started_at="",
            finished_at=None, config={}, env={}, steps={}, teacher=None, selection="sel",
            labels=None, hints=None, review=None,
            results={"student": {"model": "stu"}, "distilled": {"model": "stu-kd"}},
            distillation={"difference": difference, "standard_error": se, "sessions": 400},
        )  # fmt: skip

    clear = distillation_note(summary(0.01, 0.004).distillation)
    assert clear is not None and "+0.0100" in clear and "beyond the noise" in clear
    unclear = distillation_note(summary(0.003, 0.004).distillation)
    assert unclear is not None and "can be chance" in unclear and "--set seed=N" in unclear
    steps = "\n".join(next_steps(summary(0.01, 0.004), Path("x.db")))
    assert "review list sel" in steps and "audit --selection sel --student stu" in steps
    assert "run --set seed=1" in steps and "runs diff 4 NEW" in steps
