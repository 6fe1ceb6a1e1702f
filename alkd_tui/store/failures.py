"""What a database failure means, in one line: locked, full, damaged, not a database, no server.

SQLite reports these as exceptions whose text is a short phrase ("database is locked");
SQLAlchemy wraps them with the SQL and its parameters. `describe` turns any of them into
one `StoreError` line naming the database, so neither face ever prints the SQL. PostgreSQL's
driver (psycopg) reports an unreachable server, a missing database or a refused write; those
get one line each too.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import TypeVar

from alkd_tui.errors import StoreError

_E = TypeVar("_E", bound=BaseException)

#: Another writer held the lock past the wait (SQLite's busy timeout, PostgreSQL's lock_timeout).
_LOCKED = "is locked by another program (waited {wait:g} s); try again when it is done"
#: What each SQLite phrase means for the user (the phrase, the sentence after the path).
_MEANINGS = (
    ("database is locked", _LOCKED),
    ("database table is locked", _LOCKED),
    ("database or disk is full", "cannot be written: the disk is full; free some space and run the command again"),
    ("disk i/o error", "cannot be read or written (disk I/O error); check the disk and the file's permissions"),
    ("file is not a database", "is not a SQLite database (or its first page is damaged)"),
    ("file is encrypted", "is not a SQLite database (or its first page is damaged)"),
    ("readonly database", "is read-only: alkd cannot write it"),
    ("unable to open database file", "cannot be opened (check the folder exists and is writable)"),
)  # fmt: skip


def damaged(path: str | Path | None, detail: str) -> StoreError:
    """The one line for a database that is damaged (found before anything was written)."""
    return StoreError(
        f"database {path} is damaged ({detail[:200]}); nothing was written: restore it from a "
        f"copy, or try `sqlite3 {path} .recover`"
    )


def _driver_error(exc: BaseException, kind: type[_E]) -> _E | None:
    """The `kind` error inside `exc` (itself, what SQLAlchemy wrapped, or a cause), or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for candidate in (current, getattr(current, "orig", None)):
            if isinstance(candidate, kind):
                return candidate
        current = current.__cause__ or current.__context__
    return None


def sqlite_error(exc: BaseException) -> sqlite3.Error | None:
    """The sqlite3 error inside `exc` (itself, or what SQLAlchemy wrapped), or None."""
    return _driver_error(exc, sqlite3.Error)


def server_error(exc: BaseException) -> Exception | None:
    """The PostgreSQL driver's (psycopg's) error inside `exc`, or None."""
    try:
        import psycopg
    except ImportError:
        return None
    return _driver_error(exc, psycopg.Error)


def _server_problem(error: Exception, where: str, wait_s: float) -> StoreError:
    import psycopg
    from psycopg import errors

    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if isinstance(error, errors.LockNotAvailable):  # another writer past lock_timeout
        return StoreError(f"{where} {_LOCKED.format(wait=wait_s)}")
    if isinstance(error, errors.DiskFull):
        return StoreError(f"{where} cannot be written: the server's disk is full")
    if isinstance(error, errors.ReadOnlySqlTransaction | errors.InsufficientPrivilege):
        return StoreError(f"{where} cannot be written by this user: {first}")
    if isinstance(error, errors.InvalidCatalogName) or ("database" in first and "does not exist" in first):
        return StoreError(f"{where} does not exist on the server: create it first (createdb)")
    if isinstance(error, psycopg.OperationalError) and getattr(error, "sqlstate", None) is None:
        return StoreError(f"cannot reach {where}: {first}")
    return StoreError(f"{where}: {first}")


def describe(
    exc: BaseException, path: str | Path | None, wait_s: float = 10.0
) -> StoreError | None:
    """One line for a database failure (None when `exc` is not one).

    A full disk met while writing a file beside the database (a checkpoint) is one too."""
    where = f"database {path}" if path is not None else "the database"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        name = exc.filename or where
        return StoreError(
            f"cannot write {name}: the disk is full; free some space and run the command again"
        )
    server = server_error(exc)
    if server is not None:
        return _server_problem(server, where, wait_s)
    error = sqlite_error(exc)
    if error is None:
        return None
    text = str(error).lower()
    if "malformed" in text:
        return damaged(path, str(error))
    for phrase, meaning in _MEANINGS:
        if phrase in text:
            return StoreError(f"{where} {meaning.format(wait=wait_s)}")
    return StoreError(
        f"{where}: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
    )
