"""The store's raw SQL, one dialect for its authors: SQLite's, run as PostgreSQL where needed.

Every raw statement in `alkd_tui.store` is written once, in SQLite's form (`?` parameters,
`IN_IDS` for long id lists), and runs through `run_sql`, `plain_rows` or `dict_rows`. On a
PostgreSQL store those rewrite the statement (`%s` parameters, a JSON array unrolled by
PostgreSQL's own function, no SQLite index hints) and give the rows back as SQLite gives them:
JSON columns as text, timestamps as the store's text, whole sums as ints. What no rewrite can
cover has a function here with both forms (`json_first_number`).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Connection

#: The one way a query takes a list of ids, however long: `WHERE x IN_IDS` with `ids_param(ids)`
#: as its parameter (a JSON array that the database unrolls; no parameter limit, no chunks).
IN_IDS = "IN (SELECT value FROM json_each(?))"
_PG_IN_IDS = "IN (SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(? AS json)))"
#: SQLite's "do not use an index for this term" (`+column`), which PostgreSQL has no use for.
_INDEX_HINT = re.compile(r"(?<=[\s(])\+(?=[A-Za-z_])")


def ids_param(ids: Iterable[int]) -> str:
    """The parameter for `IN_IDS`: the ids as one JSON array."""
    return json.dumps([int(i) for i in ids])


def is_postgres(conn: Connection) -> bool:
    """Whether `conn` is a PostgreSQL store's connection (else SQLite's)."""
    return conn.dialect.name == "postgresql"


def for_dialect(conn: Connection, sql: str) -> str:
    """`sql` (written for SQLite) as `conn`'s database runs it."""
    if not is_postgres(conn):
        return sql
    sql = _INDEX_HINT.sub("", sql.replace(IN_IDS, _PG_IN_IDS))
    return sql.replace("%", "%%").replace("?", "%s")


def json_first_number(conn: Connection, column: str) -> str:
    """An SQL expression: the first element of a JSON array column, as a number (or NULL)."""
    if is_postgres(conn):
        return f"CAST(({column})->>0 AS DOUBLE PRECISION)"
    return f"json_extract({column}, '$[0]')"


def _as_sqlite_gives(value: Any) -> Any:
    # A PostgreSQL value as SQLite gives it to the store's raw queries.
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dict | list):  # a json column, which psycopg decodes
        return json.dumps(value)
    if isinstance(value, Decimal):  # SUM() over integers
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, memoryview):
        return value.tobytes()
    return value


class Rows:
    """A statement's rows, fetched whole (PostgreSQL's, as SQLite gives them): the parts of a
    cursor and of SQLAlchemy's result that the store uses."""

    def __init__(self, rows: list[tuple[Any, ...]], names: Sequence[str], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.description = [(name, None, None, None, None, None, None) for name in names]
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return iter(rest)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self)

    all = fetchall

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        row = self.first()
        return None if row is None else row[0]

    def one(self) -> tuple[Any, ...]:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def scalar_one(self) -> Any:
        return self.one()[0]

    def mappings(self) -> Rows:
        """The same rows as dicts keyed by column name."""
        names = [d[0] for d in self.description]
        dicts = [dict(zip(names, row, strict=True)) for row in self._rows]
        return Rows(dicts, names, self.rowcount)  # type: ignore[arg-type]


def run_sql(conn: Connection, sql: str, params: Any = ()) -> Any:
    """Run one raw statement (SQLite's form; `params` a tuple, or a list of tuples for many
    rows) in `conn`'s transaction. SQLite: SQLAlchemy's result. PostgreSQL: `Rows`."""
    if not is_postgres(conn):
        return conn.exec_driver_sql(sql, params)
    result = conn.exec_driver_sql(for_dialect(conn, sql), params)
    if not result.returns_rows:
        return Rows([], [], result.rowcount)
    names = list(result.keys())
    rows = [tuple(_as_sqlite_gives(v) for v in row) for row in result.fetchall()]
    return Rows(rows, names, len(rows))


def plain_rows(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """A query's rows as plain tuples, names in `description`: on SQLite the cursor straight
    from sqlite3 (no SQLAlchemy rows, which cost a long list of labels a good share of its
    reading time); on PostgreSQL `run_sql`'s rows."""
    if is_postgres(conn):
        return run_sql(conn, sql, params)
    raw = conn.connection.driver_connection
    assert raw is not None
    return cast("sqlite3.Cursor", raw.execute(sql, params))


def dict_rows(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """A query's rows as dicts keyed by column name (read through `plain_rows`)."""
    cursor = plain_rows(conn, sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def insert_rows(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert many rows into `table` in `conn`'s transaction: one prepared INSERT on SQLite,
    PostgreSQL's COPY on PostgreSQL (a million sessions stored in 10.3 s, against 19.9 s with
    one INSERT per row: docs/benchmarks.md)."""
    names = ", ".join(f'"{c}"' for c in columns)
    if not is_postgres(conn):
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_returning_id(conn: Connection, sql: str, params: tuple[Any, ...]) -> int:
    """Run an INSERT of one row (SQLite's form, without RETURNING) and return the new id."""
    return int(run_sql(conn, f"{sql} RETURNING id", params).first()[0])
