"""The store as one object: an engine at head schema, and short-lived ORM sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session as OrmSession

from alkd_tui.errors import StoreError
from alkd_tui.paths import files_dir_for, is_url
from alkd_tui.store.engine import make_engine, shown, use_wal, writer
from alkd_tui.store.failures import describe
from alkd_tui.store.migrate import check_schema, upgrade_to_head


class Store:
    """An opened alkd database.

    `read()` for queries, `write()` for a write transaction (it takes the write lock as it
    begins, so two processes writing at once wait for each other instead of failing),
    `session()` for ORM work (a write transaction), `engine` for what needs it whole.

    `target` is what opened it (a SQLite file's path, or a server's URL), `where` names it in
    messages (a URL without its password), `path` is the SQLite file (None for a server), and
    `files_dir` is the folder for the files the rows point to (checkpoints, job logs).
    """

    def __init__(self, target: str | Path, engine: Engine, files_dir: Path | None = None) -> None:
        self.target = str(target)
        self.where = shown(target)
        self.path: Path | None = None if is_url(target) else Path(target).expanduser()
        if files_dir is None:
            assert self.path is not None, "a server's store needs a files folder"
            files_dir = self.path.parent / f"{self.path.name}.files"
        self.files_dir = files_dir
        self.engine = engine
        self.writer = writer(engine)

    @property
    def label(self) -> str:
        """A short name for a header: the SQLite file's path, or `NAME@HOST:PORT (PostgreSQL)`."""
        if self.path is not None:
            return str(self.path)
        port = make_url(self.target).port
        return f"{server_name(self.target)}{f':{port}' if port else ''} (PostgreSQL)"

    @property
    def is_server(self) -> bool:
        """Whether the store is on a database server (PostgreSQL), shared by several hosts."""
        return self.path is None

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

    def size_bytes(self) -> int:
        """How much room the database takes: its file (SQLite), or the server's count."""
        if self.path is not None:
            return self.path.stat().st_size if self.path.exists() else 0
        with self.read() as conn:
            return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one())

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def server_name(target: str) -> str:
    """A server database as `NAME@HOST`."""
    url = make_url(target)
    return f"{url.database or 'postgres'}@{url.host or 'localhost'}"


def files_folder(target: str) -> Path:
    """Where a server database's files go: `$ALKD_FILES`, else a folder named after the
    database (`NAME@HOST.files`) in the user's data folder."""
    return files_dir_for(server_name(target))


def open_store(path: str | Path, files_dir: Path | None = None) -> Store:
    """Open (creating if needed) the database at `path` (a SQLite file, or a PostgreSQL URL)
    and upgrade it to the newest schema.

    Refuses with one line (`StoreError`), leaving the database as it was: a file that is not a
    SQLite database, a damaged one, one written by a newer alkd, one alkd did not create, a
    server that cannot be reached. Until those checks pass nothing is written, not even the
    switch to write-ahead logging. `files_dir` is where the store's files go (default: beside
    a SQLite file; `files_folder` for a server).
    """
    server = is_url(path)
    target: str | Path = str(path) if server else Path(path).expanduser()
    engine = make_engine(target)
    try:
        if not server:
            with engine.connect() as conn:  # SQLite reads the header: "file is not a database"
                conn.exec_driver_sql("PRAGMA schema_version").scalar()
            check_schema(engine)
            use_wal(engine)
        upgrade_to_head(engine)
    except DBAPIError as exc:
        engine.dispose()
        problem = describe(exc, shown(target))
        if problem is None:
            reason = str(exc.orig) if exc.orig is not None else str(exc)
            first = (reason.strip().splitlines() or [type(exc).__name__])[0]
            problem = StoreError(f"cannot use database {shown(target)}: {first}")
        raise problem from None
    except BaseException:
        engine.dispose()
        raise
    if server and files_dir is None:
        files_dir = files_folder(str(target))
    return Store(target, engine, files_dir)
