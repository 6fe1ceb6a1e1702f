"""The store as one object: an engine at head schema, and short-lived ORM sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session as OrmSession

from alkd_tui.errors import StoreError
from alkd_tui.store.engine import make_engine, use_wal, writer
from alkd_tui.store.failures import describe
from alkd_tui.store.migrate import check_schema, upgrade_to_head


class Store:
    """An opened alkd database.

    `read()` for queries, `write()` for a write transaction (it takes the write lock as it
    begins, so two processes writing at once wait for each other instead of failing),
    `session()` for ORM work (a write transaction), `engine` for what needs it whole.
    """

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self.writer = writer(engine)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for queries (a deferred transaction: it never waits for a writer)."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any error."""
        with self.writer.begin() as conn:
            yield conn

    @contextmanager
    def session(self) -> Iterator[OrmSession]:
        """An ORM session (one write transaction) that commits on success and rolls back on
        any error."""
        with OrmSession(self.writer, expire_on_commit=False) as orm:
            try:
                yield orm
                orm.commit()
            except BaseException:
                orm.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[OrmSession]:
        """An ORM session for queries only (nothing is committed)."""
        with OrmSession(self.engine, expire_on_commit=False) as orm:
            yield orm

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(path: str | Path) -> Store:
    """Open (creating if needed) the database at `path` and upgrade it to the newest schema.

    Refuses with one line (`StoreError`), leaving the file as it was: a file that is not a
    SQLite database, a damaged one, one written by a newer alkd, one alkd did not create.
    Until those checks pass nothing is written, not even the switch to write-ahead logging.
    """
    db_path = Path(path).expanduser()
    engine = make_engine(db_path)
    try:
        with engine.connect() as conn:  # SQLite reads the header: "file is not a database"
            conn.exec_driver_sql("PRAGMA schema_version").scalar()
        check_schema(engine)
        use_wal(engine)
        upgrade_to_head(engine)
    except DBAPIError as exc:
        engine.dispose()
        problem = describe(exc, db_path)
        if problem is None:
            reason = str(exc.orig) if exc.orig is not None else str(exc)
            problem = StoreError(f"cannot use database {db_path}: {reason}")
        raise problem from None
    except BaseException:
        engine.dispose()
        raise
    return Store(db_path, engine)
