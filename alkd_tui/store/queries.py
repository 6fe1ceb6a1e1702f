"""Query helpers shared by the store's modules: one idiom for long id lists, plain rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Connection

#: The one way a query takes a list of ids, however long: `WHERE x IN_IDS` with `ids_param(ids)`
#: as its parameter (a JSON array that SQLite unrolls; no 999-parameter limit, no chunks).
IN_IDS = "IN (SELECT value FROM json_each(?))"


def ids_param(ids: Iterable[int]) -> str:
    """The parameter for `IN_IDS`: the ids as one JSON array."""
    return json.dumps([int(i) for i in ids])


def plain_rows(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
    """A query's cursor straight from sqlite3: rows as plain tuples (no SQLAlchemy rows, which
    cost a long list of labels a good share of its reading time), names in `description`."""
    raw = conn.connection.driver_connection
    assert raw is not None
    return cast("sqlite3.Cursor", raw.execute(sql, params))


def dict_rows(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """A query's rows as dicts keyed by column name (read through `plain_rows`)."""
    cursor = plain_rows(conn, sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
