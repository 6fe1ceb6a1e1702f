"""Opening the store: a SQLite engine whose every connection sets the project's pragmas."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

from alkd_tui.errors import StoreError

#: Every connection sets these (see `_set_pragmas`).
BUSY_TIMEOUT_MS = 10_000


def _set_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, open transactions (see `_begin`), so that DDL
    # is transactional too and a failed migration or import leaves nothing behind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(path: str | Path) -> Engine:
    """A SQLAlchemy engine over the SQLite file at `path` with the store's pragmas.

    Raises `StoreError` (one line) when the file cannot be a SQLite database.
    """
    db_path = Path(path).expanduser()
    if db_path.is_dir():
        raise StoreError(f"database path {db_path} is a directory, not a file")
    if db_path.exists() and db_path.stat().st_size > 0:
        with db_path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise StoreError(f"{db_path} is not a SQLite database")
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder for database {db_path}: {exc.strerror}"
        ) from exc
    engine = create_engine(f"sqlite:///{db_path}", connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _set_pragmas)
    event.listen(engine, "begin", _begin)
    return engine
