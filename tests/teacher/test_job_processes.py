"""Labelling jobs as real `alkd label` processes against the Ollama-shaped TCP fixture (a named
fixture, not an LLM): two jobs on one selection, a job killed mid-request, a dead host, a
job stopped by SIGTERM while its requests hang. Each question is asked once, nothing is lost.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql
from tests.teacher.conftest import OllamaTCPFixture


def label_process(db: Path, hosts: list[str], *extra: str) -> subprocess.Popen[str]:
    """`alkd --db DB label sel ... --json` in its own process."""
    args = [sys.executable, "-m", "alkd_tui.cli.main", "--db", str(db), "label", "sel",
            "--teacher", "ollama", "--model", "fixture:1b", "--candidates-from", "teacher-rec",
            "--n", "5", "--kappa", "10", "--json"]  # fmt: skip
    for host in hosts:
        args += ["--host", host]
    return subprocess.Popen(
        [*args, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(proc: subprocess.Popen[str], timeout: float = 120) -> dict[str, Any]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def asked(server: OllamaTCPFixture) -> Counter[str]:
    """How many times each question (its prompt text) reached the server."""
    return Counter(server.prompts)


def stored(store: Store) -> list[tuple[str, int, str | None]]:
    with store.read() as conn:
        return [
            (str(status), int(attempts), claimed)
            for status, attempts, claimed in run_sql(conn, "SELECT status, attempts, claimed_by FROM teacher_request ORDER BY id"
            )
        ]


def wait_for(condition: Any, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_two_jobs_on_one_selection_ask_each_question_once(
    labelling_store: Store, ollama_tcp_fixture: OllamaTCPFixture
) -> None:
    server = ollama_tcp_fixture
    server.delays = [("silence", 0.4)] * 100  # slow answers: the two jobs overlap
    db = labelling_store.target
    first = label_process(db, [server.url], "--concurrency", "2")
    second = label_process(db, [server.url], "--concurrency", "2")
    a, b = finished(first), finished(second)
    counts = asked(server)
    assert len(counts) == 12 and set(counts.values()) == {1}  # 12 questions, each asked once
    assert a["answered_now"] + b["answered_now"] == 12
    assert a["answered"] == b["answered"] == 12 or min(a["answered"], b["answered"]) < 12
    assert a["answered_now"] > 0 and b["answered_now"] > 0  # both did some of the work
    assert sum(a["elsewhere"].values()) + sum(b["elsewhere"].values()) >= 12 - max(
        a["answered_now"], b["answered_now"]
    )
    assert stored(labelling_store) == [("answered", 1, None)] * 12  # no claim left behind
    with labelling_store.read() as conn:  # one answer per question, never overwritten
        assert run_sql(conn, "SELECT COUNT(*) FROM teacher_request").scalar() == 12


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_killed_job_shows_as_interrupted_and_its_claims_are_taken_over(
    labelling_store: Store, ollama_tcp_fixture: OllamaTCPFixture
) -> None:
    server = ollama_tcp_fixture
    server.delays = [("silence", 60)]  # the first request hangs
    db = labelling_store.target
    doomed = label_process(db, [server.url])
    wait_for(lambda: server.received == 1, what="the first request")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=30)
    status = subprocess.run(
        [sys.executable, "-m", "alkd_tui.cli.main", "--db", str(db), "runs", "list", "--json"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    runs = json.loads(status)["runs"]
    assert [r["status"] for r in runs if r["kind"] == "label"] == ["interrupted"]
    assert [claimed is not None for _, _, claimed in stored(labelling_store)].count(True) == 1
    server.delays = []
    again = finished(label_process(db, [server.url]))  # takes the dead job's claim at once
    assert again["answered"] == 12 and again["failed"] == 0
    counts = asked(server)
    assert len(counts) == 12 and sorted(counts.values()) == [1] * 11 + [2]  # the lost one again
    assert stored(labelling_store) == [("answered", 2, None)] + [("answered", 1, None)] * 11


def test_with_one_of_two_hosts_dead_no_request_fails(
    labelling_store: Store, ollama_tcp_fixture: OllamaTCPFixture
) -> None:
    dead = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    result = finished(label_process(labelling_store.target, [dead, ollama_tcp_fixture.url]))
    assert result["answered"] == 12 and result["failed"] == 0 and result["failed_now"] == 0
    assert set(asked(ollama_tcp_fixture).values()) == {1}


def test_sigterm_while_requests_hang_ends_within_two_seconds_and_nothing_is_lost(
    labelling_store: Store, ollama_tcp_fixture: OllamaTCPFixture
) -> None:
    server = ollama_tcp_fixture
    server.delays = [("silence", 60), ("silence", 60)]
    db = labelling_store.target
    job = label_process(db, [server.url], "--concurrency", "2", "--timeout", "60")
    wait_for(lambda: server.received == 2, what="two requests in flight")
    time.sleep(0.3)
    sent = time.monotonic()
    job.send_signal(signal.SIGTERM)
    job.wait(timeout=30)
    took = time.monotonic() - sent
    assert job.returncode == 130, job.stderr.read() if job.stderr else ""
    assert took < 2.0, f"took {took:.1f} s to stop"
    assert job.stderr is not None and job.stderr.read().strip().endswith("alkd: error: interrupted")
    in_flight = [r for r in stored(labelling_store) if r[0] == "sent"]
    assert len(in_flight) == 2 and all(claimed is None for _, _, claimed in in_flight)
    server.delays = []
    again = finished(label_process(db, [server.url]))
    assert again["answered"] == 12 and again["failed"] == 0
    counts = asked(server)
    assert len(counts) == 12 and sorted(counts.values()) == [1] * 10 + [2, 2]
