"""Selections in the store: their members written and read back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from alkd_tui.store.db import Store
from alkd_tui.store.queries import plain_rows, run_sql


def insert_members(conn: Connection, selection_id: int, members: list[tuple[Any, ...]]) -> None:
    """Insert a selection's members: (session id, order, probability, gain, difficulty) each."""
    run_sql(
        conn,
        'INSERT INTO selection_member (selection_id, session_id, "order", probability, gain, difficulty) '
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(selection_id, *m) for m in members],
    )


def member_rows(store: Store, selection_id: int, limit: int | None = None) -> list[tuple[Any, ...]]:
    """A selection's members in order (the first `limit`, if given): (order, session external
    id, session idx, split, probability, gain, difficulty)."""
    sql = (
        'SELECT m."order", s.external_id, s.idx, s.split, m.probability, m.gain, m.difficulty '
        "FROM selection_member m JOIN session s ON s.id = m.session_id "
        'WHERE m.selection_id = ? ORDER BY m."order"'
    )
    args: tuple[Any, ...] = (selection_id,)
    if limit is not None:
        sql += " LIMIT ?"
        args += (limit,)
    with store.read() as conn:
        return plain_rows(conn, sql, args).fetchall()
