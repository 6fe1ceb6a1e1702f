"""The schema changes only through Alembic; opening a DB upgrades it, and refuses a newer one."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from alkd_tui.errors import SchemaTooNewError, StoreError
from alkd_tui.store import current_revision, head_revision, open_store
from alkd_tui.store.engine import make_engine
from alkd_tui.store.migrate import alembic_config, migrations_dir
from alkd_tui.store.queries import run_sql


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.sqlite_only
def test_new_database_is_created_at_head(db_path: Path) -> None:
    with open_store(db_path) as store:
        assert current_revision(store.engine) == head_revision()
    tables = {
        r[0]
        for r in sqlite3.connect(db_path).execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert {"dataset", "item", "session", "model", "selection", "selection_member", "teacher_request",
            "review_event", "hint", "run", "runmetric"} <= tables  # fmt: skip


@pytest.mark.sqlite_only
def test_every_connection_sets_the_pragmas(db_path: Path) -> None:
    with open_store(db_path) as store:
        for _ in range(2):  # a fresh pooled connection each time
            with store.engine.connect() as conn:
                assert run_sql(conn, "PRAGMA journal_mode").scalar() == "wal"
                assert run_sql(conn, "PRAGMA foreign_keys").scalar() == 1
                assert run_sql(conn, "PRAGMA busy_timeout").scalar() == 10_000
                assert run_sql(conn, "PRAGMA synchronous").scalar() == 1  # NORMAL
            store.engine.dispose()


def test_models_and_migrations_do_not_drift(db_path: Path) -> None:
    with open_store(db_path) as store, store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], f"models and migrations differ; write a revision: {diff}"


@pytest.mark.sqlite_only
def test_upgrade_from_the_first_revision_keeps_data(db_path: Path) -> None:
    engine = make_engine(db_path)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    with engine.begin() as conn:
        run_sql(conn, "INSERT INTO dataset (name, format, source, description, options, stats, n_items, n_sessions, "
            "n_clicks, alkd_version, created_at) VALUES ('old', 'csv', '', '', '{}', '{}', 1, 1, 2, '0', '2026-01-01')"
        )
        run_sql(conn, "INSERT INTO item (dataset_id, idx, external_id) VALUES (1, 0, 'a')")
        run_sql(conn, "INSERT INTO session (dataset_id, idx, external_id, split, items, length, target) "
            "VALUES (1, 0, 's', 'train', x'00000000', 1, 0)"
        )
    engine.dispose()
    assert current_revision(make_engine(db_path)) == "0001"

    with open_store(db_path) as store, store.engine.connect() as conn:
        assert current_revision(store.engine) == head_revision() != "0001"
        assert run_sql(conn, "SELECT name FROM dataset").scalar() == "old"
        assert run_sql(conn, "SELECT COUNT(*) FROM session").scalar() == 1
        assert run_sql(conn, "SELECT COUNT(*) FROM teacher_request").scalar() == 0


@pytest.mark.sqlite_only
def test_a_database_from_a_newer_alkd_is_refused_unchanged(db_path: Path) -> None:
    open_store(db_path).close()
    con = sqlite3.connect(db_path)
    con.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = _digest(db_path)
    with pytest.raises(SchemaTooNewError, match="newer alkd"):
        open_store(db_path)
    assert _digest(db_path) == before
    assert (
        sqlite3.connect(db_path).execute("SELECT version_num FROM alembic_version").fetchone()[0]
        == "ffff_from_the_future"
    )


@pytest.mark.sqlite_only
def test_a_foreign_sqlite_database_is_refused(db_path: Path) -> None:
    con = sqlite3.connect(db_path)
    con.execute("CREATE TABLE notes (x TEXT)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="alkd did not create"):
        open_store(db_path)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("hello, not a database\n")
    with pytest.raises(StoreError, match="not a SQLite database"):
        open_store(path)
    assert path.read_text() == "hello, not a database\n"


def test_review_events_are_append_only(db_path: Path) -> None:
    with open_store(db_path) as store, store.engine.begin() as conn:
        run_sql(conn, "INSERT INTO dataset (name, format, source, description, options, stats, n_items, n_sessions, "
            "n_clicks, alkd_version, created_at) VALUES ('d', 'csv', '', '', '{}', '{}', 1, 1, 2, '0', '2026-01-01')"
        )
        run_sql(
            conn,
            "INSERT INTO session (dataset_id, idx, external_id, split, items, length, target) "
            "VALUES (1, 0, 's', 'train', ?, 1, 0)",
            (b"\0\0\0\0",),
        )
        run_sql(conn, "INSERT INTO teacher_request (session_id, backend, model_name, template_version, prompt_hash, prompt, "
            "options, status, attempts, created_at) VALUES (1, 'replay', 'm', 'v1', 'h', '', '{}', 'answered', 0, '2026-01-01')"
        )
        run_sql(conn, "INSERT INTO review_event (request_id, action, note, reviewer, created_at) "
            "VALUES (1, 'accept', '', 'me', '2026-01-01')"
        )
    with open_store(db_path) as store:
        with pytest.raises(IntegrityError, match="append-only"), store.engine.begin() as conn:
            run_sql(conn, "UPDATE review_event SET action = 'reject'")
        with pytest.raises(IntegrityError, match="append-only"), store.engine.begin() as conn:
            run_sql(conn, "DELETE FROM review_event")
        with store.engine.connect() as conn:
            assert run_sql(conn, "SELECT action FROM review_event").scalar() == "accept"


def test_migrations_are_found_in_the_source_tree() -> None:
    assert (migrations_dir() / "env.py").is_file()
    assert any((migrations_dir() / "versions").glob("0001_*.py"))


def _at_revision(db_path: Path, revision: str) -> None:
    engine = make_engine(db_path)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


@pytest.mark.sqlite_only
def test_upgrade_from_0004_keeps_request_uses_and_dates_their_use(db_path: Path) -> None:
    _at_revision(db_path, "0004")
    con = sqlite3.connect(db_path)
    con.execute(
        "INSERT INTO dataset (name, format, source, description, options, stats, n_items, n_sessions, "
        "n_clicks, alkd_version, created_at) VALUES ('old', 'csv', '', '', '{}', '{}', 1, 2, 2, '0', '2026-01-01')"
    )
    for idx in range(2):
        con.execute(
            "INSERT INTO session (dataset_id, idx, external_id, split, items, length, target) "
            "VALUES (1, ?, ?, 'train', x'00000000', 1, 0)",
            (idx, f"s{idx}"),
        )
    for n, when in enumerate(["2026-01-02 10:00:00.000000", "2026-01-03 11:30:00.250000"]):
        con.execute(
            "INSERT INTO teacher_request (session_id, backend, model_name, template_version, prompt_hash, "
            "prompt, options, status, attempts, created_at) VALUES (1, 'ollama', 'm', 'v1', ?, '', '{}', "
            "'answered', 1, ?)",
            (f"h{n}", when),
        )
    con.execute(  # each request answers its session; the second also another one, linked later
        "INSERT INTO request_use (request_id, session_id, selection_id, created_at) "
        "SELECT id, session_id, selection_id, created_at FROM teacher_request UNION ALL "
        "SELECT 2, 2, NULL, '2026-01-04 09:00:00.000000'"
    )
    con.commit()
    before = con.execute(
        "SELECT id, request_id, session_id, selection_id, created_at FROM request_use ORDER BY id"
    ).fetchall()
    con.close()
    assert len(before) == 3

    with open_store(db_path) as store, store.engine.connect() as conn:
        assert current_revision(store.engine) == head_revision()
        after = run_sql(conn, "SELECT id, request_id, session_id, selection_id, created_at, used_at FROM request_use ORDER BY id"
        ).all()
        assert [tuple(r[:5]) for r in after] == before
        assert all(r[5] == r[4] for r in after)  # last used when made: nothing else is known
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], f"the upgraded schema differs from the models: {diff}"
    con = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError):  # still one link per (request, session)
        con.execute(
            "INSERT INTO request_use (request_id, session_id, created_at, used_at) VALUES (2, 2, 'x', 'x')"
        )
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        con.execute(
            "INSERT INTO request_use (request_id, session_id, created_at) VALUES (1, 2, 'x')"
        )
    con.close()
