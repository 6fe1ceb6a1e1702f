"""Opening the store: a SQLite engine whose every connection sets the project's pragmas, or a
PostgreSQL engine (`postgresql://...`) whose write transactions take one lock as they begin.

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
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from alkd_tui.errors import StoreError
from alkd_tui.paths import is_url
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


#: The advisory lock every PostgreSQL write transaction takes as it begins (any fixed number:
#: advisory locks belong to one database, so two alkd databases on one server never share it).
WRITE_LOCK_KEY = 0x616C6B64  # "alkd"


def server_url(target: str) -> URL:
    """A PostgreSQL URL as alkd connects to it (psycopg 3); one line for anything else."""
    try:
        url = make_url(target)
    except ArgumentError:
        raise StoreError(f"cannot read the database URL {target!r}") from None
    if url.get_backend_name() == "sqlite":
        raise StoreError(f"give a SQLite database as a path, not a URL: {url.database}")
    if url.get_backend_name() != "postgresql":
        raise StoreError(
            f"alkd stores its data in SQLite (a path) or PostgreSQL (postgresql://...), not "
            f"{url.get_backend_name()}: {url.render_as_string(hide_password=True)}"
        )
    return url.set(drivername="postgresql+psycopg")


def shown(target: str | Path) -> str:
    """How a database is named in messages: its path, or its URL without the password."""
    if is_url(target):
        try:
            return make_url(str(target)).render_as_string(hide_password=True)
        except ArgumentError:
            return "the database"
    return str(Path(target).expanduser())


def _lock_for_writing(conn: Connection) -> None:
    # PostgreSQL: a write transaction waits for the one before it to end, as SQLite's does,
    # and as long (BUSY_TIMEOUT_MS; then "locked", one line).
    if conn.get_execution_options().get(IMMEDIATE, False):
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}")
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def make_server_engine(target: str) -> Engine:
    """A SQLAlchemy engine over the PostgreSQL database at `target` (a URL). Its sessions
    keep time in UTC; its write transactions (`writer`) run one at a time."""
    url = server_url(target)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StoreError(
            "a PostgreSQL store needs psycopg: pip install 'alkd[postgres]' (scripts/setup.sh installs it)"
        ) from None
    engine = create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"options": "-c timezone=UTC", "connect_timeout": 10},
    )
    event.listen(engine, "begin", _lock_for_writing)
    return engine


def make_engine(path: str | Path) -> Engine:
    """A SQLAlchemy engine over the SQLite file at `path` with the store's pragmas (or, for a
    URL, `make_server_engine`'s).

    Nothing is opened yet. The journal mode is left as the file has it: `use_wal` switches
    it once the file has been checked (`alkd_tui.store.db.open_store`), so a refused file
    is never changed.
    """
    if is_url(path):
        return make_server_engine(str(path))
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
