"""The store shared by several processes at once: nothing one process writes is lost because
another opened, used or closed the same database."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from alkd_tui.store import open_store
from alkd_tui.store.queries import run_sql
from tests.conftest import query

#: A process that holds the store open as alkd-tui does, opens it a second time (as the TUI
#: did to load a student for the review card), then writes when told to.
HOLDER = textwrap.dedent(
    """
    import sys
    from alkd_tui.pipeline.views import open_database
    from alkd_tui.store.queries import run_sql

    store = open_database(sys.argv[1])
    insert = (
        "INSERT INTO run (kind, name, status, config, env, steps, started_at) "
        "VALUES ('test', ?, 'done', '{}', '{}', '{}', '2026-01-01 00:00:00.000000')"
    )
    with store.write() as conn:
        run_sql(conn, insert, ("first",))
    second = open_database(sys.argv[1])  # a second opening of the same file, then closed
    with second.read() as conn:
        run_sql(conn, "SELECT COUNT(*) FROM run").scalar()
    second.close()
    print("ready", flush=True)
    sys.stdin.readline()
    with store.write() as conn:
        run_sql(conn, insert, ("second",))
    print("written", flush=True)
    sys.stdin.readline()
    """
)


def _runs(db: Path) -> list[str]:
    return [name for (name,) in query(db, "SELECT name FROM run ORDER BY id")]


@pytest.mark.sqlite_only  # SQLite's POSIX locks on the file
def test_a_write_after_another_process_closed_the_database_is_not_lost(
    db_path: Path, tmp_path: Path
) -> None:
    open_store(db_path).close()
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    holder = subprocess.Popen(
        [sys.executable, str(script), str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "ready"
        # Another process opens the database, reads and closes it: being the last to close
        # by its locks' account, it would checkpoint and delete the holder's WAL.
        cli = subprocess.run(
            [sys.executable, "-m", "alkd_tui.cli.main", "--db", str(db_path), "data", "list"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert cli.returncode == 0, cli.stderr
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "written"
        # A third process sees the holder's write while the holder lives...
        assert _runs(db_path) == ["first", "second"]
    finally:
        holder.send_signal(signal.SIGKILL)  # ...and after it dies without closing anything
        holder.wait(timeout=30)
    assert _runs(db_path) == ["first", "second"]
    with open_store(db_path) as store, store.read() as conn:
        assert run_sql(conn, "PRAGMA quick_check").scalar() == "ok"


def test_two_processes_writing_at_once_both_land(db_path: Path, tmp_path: Path) -> None:
    """Write transactions take the write lock as they begin: two processes that read, then
    write, in a loop, wait for each other instead of failing with "database is locked" (SQLite)
    or writing what the other's count did not see (PostgreSQL)."""
    writers = 2
    open_store(db_path).close()
    go = tmp_path / "go"
    script = tmp_path / "writer.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys, time
            from alkd_tui.store import open_store
            from alkd_tui.store.queries import run_sql

            store = open_store(sys.argv[1])
            while not os.path.exists(sys.argv[3]):  # start together
                time.sleep(0.001)
            for n in range(300):
                with store.write() as conn:
                    count = run_sql(conn, "SELECT COUNT(*) FROM run").scalar()
                    run_sql(
                        conn,
                        "INSERT INTO run (kind, name, status, config, env, steps, started_at) "
                        "VALUES ('test', ?, 'done', '{}', '{}', '{}', '2026-01-01 00:00:00.000000')",
                        (f"{sys.argv[2]}-{n}-{count}",),
                    )
            """
        )
    )
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(db_path), str(k), str(go)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(writers)
    ]
    time.sleep(2)  # both have opened the store
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    names = _runs(db_path)
    assert len(names) == 300 * writers
    # Each writer saw every row written before its own (the count it read is the row's place).
    assert sorted(int(name.rsplit("-", 1)[1]) for name in names) == list(range(300 * writers))
