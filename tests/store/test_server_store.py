"""A PostgreSQL store: named by its URL (never its password), refused in one line when the
server or the database is not there, its files in $ALKD_FILES. The tests marked
`postgres_only` run in the PostgreSQL pass of scripts/test.sh, against a real server."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from alkd_tui.errors import StoreError
from alkd_tui.store import open_store
from alkd_tui.store.engine import shown
from alkd_tui.store.queries import for_dialect, run_sql
from tests.conftest import postgres_server

ALKD = [sys.executable, "-m", "alkd_tui.cli.main"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_server_is_one_line_exit_3_without_the_password() -> None:
    url = f"postgresql://me:s3cret@127.0.0.1:{_closed_port()}/team"
    done = subprocess.run([*ALKD, "--db", url, "data", "list"], capture_output=True, text=True)
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("alkd: error: cannot reach database postgresql://me:***@")
    assert "s3cret" not in done.stderr + done.stdout


def test_other_databases_are_refused_in_one_line() -> None:
    with pytest.raises(StoreError, match=r"SQLite \(a path\) or PostgreSQL .*not mysql"):
        open_store("mysql://me@host/db")
    with pytest.raises(StoreError, match="as a path, not a URL"):
        open_store("sqlite:///tmp/x.db")
    assert shown("postgresql://me:pw@host/db") == "postgresql://me:***@host/db"


def test_a_statement_in_sqlite_form_is_rewritten_for_postgresql(store) -> None:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        sql = "SELECT id FROM run WHERE +name LIKE '%x' AND id IN (SELECT value FROM json_each(?)) AND kind = ?"
        if store.is_server:
            assert for_dialect(conn, sql) == (
                "SELECT id FROM run WHERE name LIKE '%%x' AND id IN (SELECT CAST(value AS BIGINT) FROM "
                "json_array_elements_text(CAST(%s AS json))) AND kind = %s"
            )
        else:
            assert for_dialect(conn, sql) == sql
        assert run_sql(conn, sql, ("[1, 2]", "pipeline")).fetchall() == []


@pytest.mark.postgres_only
def test_a_missing_database_is_one_line(tmp_path: Path) -> None:
    server = postgres_server()
    assert server is not None
    url = server.rsplit("/", 1)[0] + "/alkd_no_such_database"
    done = subprocess.run([*ALKD, "--db", url, "data", "list"], capture_output=True, text=True)
    assert done.returncode == 3
    assert done.stderr.strip() == (
        f"alkd: error: database {url} does not exist on the server: create it first (createdb)"
    )


@pytest.mark.postgres_only
def test_a_server_store_keeps_its_files_in_alkd_files(
    db_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALKD_FILES", str(tmp_path / "team.files"))
    with open_store(db_path) as store:
        assert store.is_server and store.path is None
        assert store.files_dir == tmp_path / "team.files"
        assert store.where == db_path and store.size_bytes() > 0
        with store.read() as conn:  # sessions keep time in UTC, whatever the server's zone
            assert run_sql(conn, "SHOW timezone").scalar() == "UTC"


@pytest.mark.postgres_only
def test_timestamps_and_json_come_back_as_sqlite_gives_them(store) -> None:  # type: ignore[no-untyped-def]
    with store.write() as conn:
        run_sql(
            conn,
            "INSERT INTO run (kind, name, status, config, env, steps, started_at) "
            "VALUES ('test', 'r', 'done', ?, '{}', '{}', ?)",
            ('{"a": [1, 2]}', "2026-01-02 03:04:05.000006"),
        )
    with store.read() as conn:
        config, started = run_sql(conn, "SELECT config, started_at FROM run").one()
    assert config == '{"a": [1, 2]}' and started == "2026-01-02 03:04:05.000006"


@pytest.mark.postgres_only
def test_a_write_lock_held_past_the_wait_is_one_line_and_exit_3(db_path: str, tmp_path: Path) -> None:
    import psycopg

    from alkd_tui.store.engine import WRITE_LOCK_KEY

    open_store(db_path).close()
    clicks = tmp_path / "clicks.csv"
    rows = "".join(f"{s},{i},{s * 10 + i}\n" for s in range(10) for i in range(3))
    clicks.write_text("session_id,item_id,timestamp\n" + rows)
    with psycopg.connect(db_path) as holder:  # another alkd, in a long write transaction
        holder.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
        done = subprocess.run(
            [*ALKD, "--db", db_path, "data", "import", "csv", str(clicks), "--name", "toy"],
            capture_output=True,
            text=True,
        )
    assert done.returncode == 3
    assert done.stderr.strip().splitlines()[-1] == (
        f"alkd: error: database {db_path} is locked by another program (waited 10 s); try again when it is done"
    )
    with open_store(db_path) as store, store.read() as conn:
        assert run_sql(conn, "SELECT COUNT(*) FROM dataset").scalar() == 0
