"""Long jobs as `alkd ... --jsonl` subprocesses that outlive the TUI.

A job starts detached (its own session), writes its JSON lines to `<files>/jobs/ID.jsonl` (the
store's files folder: `<db>.files` beside a SQLite file)
and its one error line to `ID.err`; `ID.json` keeps what started it (kind, arguments, pid).
Any later `alkd-tui` finds the job there, reads the log from the start and follows it while
the process lives. Pausing sends SIGINT to the job's process group: alkd stores what it has
and exits with 130; starting the same arguments again resumes (nothing answered is asked
again). No Textual here: the screens wrap this in workers and messages.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from alkd_tui.errors import ExitCode
from alkd_tui.paths import is_url

KINDS = ("label", "distill", "run", "import", "train", "serve")
#: Steps of `alkd run` (the order of its "step NAME" tasks); `hints` runs only where the
#: label step asks for hints, so it counts once it starts.
RUN_STEPS = (
    "dataset",
    "teacher_recommender",
    "student",
    "select",
    "hints",
    "label",
    "review",
    "distill",
    "evaluate",
)
OPTIONAL_RUN_STEPS = ("hints",)
_children: dict[int, subprocess.Popen[bytes]] = {}


class Database(Protocol):
    """The store as jobs see it: what opened it (a path or a URL) and its files folder."""

    target: str
    files_dir: Path


def jobs_dir(db: Database) -> Path:
    """Where a database's job logs live: `jobs/` in its files folder."""
    return db.files_dir / "jobs"


def alkd_command(db: Database, args: list[str]) -> tuple[list[str], dict[str, str]]:
    """The command line that runs `alkd ARGS` on `db` with this interpreter, and its
    environment. A server's URL goes in the environment (`ALKD_DB`, with `ALKD_FILES`), where
    other users' `ps` does not show its password; a path goes in `--db`."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "alkd_tui.cli.main"]
    if is_url(db.target):
        env.update(ALKD_DB=db.target, ALKD_FILES=str(db.files_dir))
        return [*command, *args], env
    return [*command, "--db", db.target, *args], env


@dataclass
class Job:
    """A started `alkd` job: what it runs and where its output goes."""

    id: str
    kind: str
    args: list[str]
    db: str
    pid: int
    started_at: float
    title: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    exit_code: int | None = None
    folder: str = ""

    @property
    def log_path(self) -> Path:
        return Path(self.folder) / f"{self.id}.jsonl"

    @property
    def err_path(self) -> Path:
        return Path(self.folder) / f"{self.id}.err"

    @property
    def meta_path(self) -> Path:
        return Path(self.folder) / f"{self.id}.json"

    def save(self) -> None:
        """Write the job's record (atomically)."""
        tmp = self.meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        tmp.replace(self.meta_path)


def start_job(
    db: Database,
    kind: str,
    args: list[str],
    *,
    title: str = "",
    params: dict[str, Any] | None = None,
    jsonl: bool = True,
) -> Job:
    """Start `alkd --db DB ARGS --jsonl` detached, its output in the jobs folder (without
    `--jsonl` for a command that has none: `alkd teacher serve`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    folder = jobs_dir(db)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    job_id = f"{stamp}-{kind}-{os.getpid() % 10000:04d}{int(time.time() * 1000) % 1000:03d}"
    argv, env = alkd_command(db, [*args, "--jsonl"] if jsonl and "--jsonl" not in args else args)
    where = getattr(db, "where", db.target)  # never a URL's password in a job record
    job = Job(job_id, kind, list(args), where, 0, time.time(), title, dict(params or {}))
    job.folder = str(folder)
    with job.log_path.open("wb") as out, job.err_path.open("wb") as err:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            close_fds=True,
            env=env,
        )
    _children[process.pid] = process
    job.pid = process.pid
    job.save()
    return job


def load_job(meta: Path) -> Job | None:
    """The job recorded in `meta`, or None when the record is unreadable."""
    try:
        data = json.loads(meta.read_text())
        job = Job(**data)
    except (OSError, ValueError, TypeError):
        return None
    job.folder = str(meta.parent)
    return job


def list_jobs(db: Database, kind: str | None = None) -> list[Job]:
    """The jobs started on this database (of `kind`, if given), newest first."""
    folder = jobs_dir(db)
    if not folder.is_dir():
        return []
    jobs = [j for m in folder.glob("*.json") if (j := load_job(m)) is not None]
    jobs = [j for j in jobs if kind is None or j.kind == kind]
    return sorted(jobs, key=lambda j: (j.started_at, j.id), reverse=True)


def _alive_elsewhere(job: Job) -> bool:
    """Whether a process we did not start (an earlier TUI's job) is still this job."""
    try:
        os.kill(job.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{job.pid}")
    if proc.is_dir():
        try:
            if proc.joinpath("stat").read_text().split(") ", 1)[1].startswith("Z"):
                return False
            cmdline = proc.joinpath("cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError):
            return False
        return b"alkd_tui.cli.main" in cmdline and job.db.encode() in cmdline
    return True


def is_running(job: Job) -> bool:
    """Whether the job's process still runs (its exit code is recorded once it ends)."""
    if job.exit_code is not None:
        return False
    child = _children.get(job.pid)
    if child is not None:
        code = child.poll()
        if code is None:
            return True
        _children.pop(job.pid, None)
        job.exit_code = code
        job.save()
        return False
    return _alive_elsewhere(job)


def interrupt(job: Job) -> bool:
    """Ask the job to stop cleanly (SIGINT to its process group); False if it had ended."""
    if not is_running(job):
        return False
    try:
        os.killpg(job.pid, signal.SIGINT)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def wait(job: Job, timeout: float) -> bool:
    """Wait up to `timeout` seconds for the job to end; True if it did."""
    deadline = time.monotonic() + timeout
    while is_running(job):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def read_events(path: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The complete JSON lines of `path` after byte `offset`, and the offset after them (a
    half-written last line waits for the next read; a line that is not JSON becomes a log)."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    events = []
    for line in data[: end + 1].splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            event = {"event": "log", "task": "output", "message": line.decode(errors="replace")}
        if isinstance(event, dict):
            events.append(event)
    return events, offset + end + 1


def error_line(job: Job) -> str:
    """The job's last line on stderr (alkd prints one `alkd: error: ...` line)."""
    try:
        lines = [ln for ln in job.err_path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1].removeprefix("alkd: error: ") if lines else ""


@dataclass
class Outcome:
    """How a job ended: done, failed, interrupted (paused), or lost (killed without a word)."""

    state: str  # running, done, failed, interrupted, lost
    exit_code: int | None = None
    error: str = ""
    result: dict[str, Any] | None = None


def outcome(job: Job, result: dict[str, Any] | None = None) -> Outcome:
    """The job's state: from its exit code where known, else from its log and error line."""
    if is_running(job):
        return Outcome("running")
    error = error_line(job)
    code = job.exit_code
    if code is None:  # started by an earlier TUI: read what it left
        if result is not None:
            code = ExitCode.OK
        elif error == "interrupted":
            code = ExitCode.INTERRUPTED
        elif error:
            code = ExitCode.FAILED
    if code == ExitCode.OK:
        return Outcome("done", code, result=result)
    if code == ExitCode.INTERRUPTED:
        return Outcome("interrupted", code, error)
    if code is None:
        return Outcome("lost", None, "the job ended without a result or an error line")
    return Outcome("failed", code, error or f"exit code {code}")


@dataclass
class TaskProgress:
    """One task of a job as its events describe it."""

    name: str
    completed: float = 0.0
    total: float | None = None
    unit: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    first: tuple[float, float] | None = None  # (time, completed) of the first event
    last_time: float = 0.0
    ended: bool = False

    @property
    def rate(self) -> float | None:
        """Units per second since the task started."""
        if self.first is None or self.last_time <= self.first[0]:
            return None
        return (self.completed - self.first[1]) / (self.last_time - self.first[0])

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate."""
        rate = self.rate
        if not rate or self.total is None or self.ended:
            return None
        return max(0.0, (self.total - self.completed) / rate)


@dataclass
class JobProgress:
    """A job's progress folded from its events: tasks, log lines, the series of a field
    (the loss, the validation metric) and the result."""

    kind: str
    tasks: dict[str, TaskProgress] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=dict)
    steps_done: int = 0
    current: str = ""
    result: dict[str, Any] | None = None
    events: int = 0

    def apply(self, event: dict[str, Any]) -> None:
        """Fold one event in."""
        self.events += 1
        kind = event.get("event")
        if kind == "result":
            self.result = event.get("data") or {}
            return
        name = str(event.get("task", ""))
        if kind == "log":
            self.logs.append(f"{name}: {event.get('message', '')}")
            del self.logs[:-500]
            return
        task = self.tasks.get(name)
        if task is None or kind == "start":
            task = TaskProgress(name)
            self.tasks[name] = task
            if name in self.order:
                self.order.remove(name)
            self.order.append(name)
        when = float(event.get("time", 0.0))
        task.completed = float(event.get("completed") or 0.0)
        task.total = event.get("total", task.total)
        task.unit = event.get("unit", task.unit)
        if task.first is None:
            task.first = (when, task.completed)
        task.last_time = when
        fields = event.get("fields") or {}
        if fields:
            task.fields.update(fields)
        if kind == "advance" and fields and task.unit == "epochs":
            for key, value in fields.items():
                if isinstance(value, int | float):
                    self.series.setdefault(f"{name} {key}", []).append(float(value))
        if kind == "end":
            task.ended = True
            if name.startswith("step "):
                self.steps_done += 1
        else:
            self.current = name

    def overall(self) -> tuple[float, float | None, str]:
        """The job's overall progress: (completed, total, what): the steps of a pipeline run,
        else its first task with a total."""
        if self.kind == "run" or any(n.startswith("step ") for n in self.order):
            running = next(
                (
                    n
                    for n in reversed(self.order)
                    if n.startswith("step ") and not self.tasks[n].ended
                ),
                "",
            )
            optional = sum(f"step {n}" not in self.tasks for n in OPTIONAL_RUN_STEPS)
            return float(self.steps_done), float(len(RUN_STEPS) - optional), running or "steps"
        for name in self.order:
            task = self.tasks[name]
            if task.total and not name.startswith("epoch "):
                return task.completed, float(task.total), name
        return 0.0, None, self.current

    def active(self) -> list[TaskProgress]:
        """The tasks still running, oldest first."""
        return [self.tasks[n] for n in self.order if not self.tasks[n].ended]
