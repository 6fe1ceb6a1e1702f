"""Opening the store: a SQLite engine whose every connection sets the project's pragmas.

The database file is only ever opened by SQLite. Opening and closing it with Python's own
`open()` while this process holds a connection would release every POSIX lock the process
holds on the file (SQLite's "How To Corrupt An SQLite Database File", section 2.2): another
process closing its last connection would then delete the WAL that this process still writes
into, and those writes would be lost. SQLite's own opens know about the locks it holds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

from alkd_tui.errors import StoreError
from alkd_tui.store.failures import damaged

#: Every connection sets these (see `_set_pragmas`).
BUSY_TIMEOUT_MS = 10_000
#: The execution option that makes a transaction take the write lock as it begins.
IMMEDIATE = "alkd_immediate"


def _set_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, open transactions (see `_begin`), so that DDL
    # is transactional too and a failed migration or import leaves nothing behind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def check_integrity(conn: Connection, path: Path) -> None:
    """Refuse a damaged database (`PRAGMA quick_check`: every page and record is read, about
    a quarter second per 100 MB) with one line."""
    try:
        problems = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA quick_check(3)")]
    except DBAPIError as exc:  # so damaged that the check itself stops
        problems = [str(exc.orig)]
    if problems != ["ok"]:
        raise damaged(path, "; ".join(problems))


class _Begin:
    """Begins every transaction; a write transaction takes the write lock as it begins.

    A deferred transaction that reads first and writes later cannot wait for another writer:
    in WAL mode its upgrade fails at once when another process wrote in between. A write
    transaction (`writer`) waits for the lock (busy_timeout) instead. Before this engine's
    first write, the database's integrity is checked: a damaged file is refused, unwritten.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.checked = False

    def __call__(self, conn: Connection) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        if immediate and not self.checked:
            check_integrity(conn, self.path)  # outside the transaction (autocommit)
            self.checked = True
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(path: str | Path) -> Engine:
    """A SQLAlchemy engine over the SQLite file at `path` with the store's pragmas.

    Nothing is opened yet. The journal mode is left as the file has it: `use_wal` switches
    it once the file has been checked (`alkd_tui.store.db.open_store`), so a refused file
    is never changed.
    """
    db_path = Path(path).expanduser()
    if db_path.is_dir():
        raise StoreError(f"database path {db_path} is a directory, not a file")
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder for database {db_path}: {exc.strerror}"
        ) from exc
    engine = create_engine(f"sqlite:///{db_path}", connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _set_pragmas)
    event.listen(engine, "begin", _Begin(db_path))
    return engine


def writer(engine: Engine) -> Engine:
    """The same engine (and pool), its transactions taking the write lock as they begin."""
    return engine.execution_options(**{IMMEDIATE: True})


def use_wal(engine: Engine) -> None:
    """Switch the database to write-ahead logging (kept in the file: readers never wait for
    a writer). Call it only after the file has been checked."""
    raw = engine.raw_connection()  # outside any transaction: the mode cannot change inside one
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
    finally:
        raw.close()
