"""Review decisions in the store: append-only events per teacher request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from alkd_tui.store.db import Store
from alkd_tui.store.queries import IN_IDS, dict_rows, ids_param, plain_rows


def review_event_rows(conn: Connection, request_ids: Iterable[int]) -> list[tuple[Any, ...]]:
    """The review events of these requests, oldest first: (id, request id, action, after JSON,
    reviewer, the decisions per label that the request's selection requires)."""
    rows = plain_rows(
        conn,
        "SELECT e.id, e.request_id, e.action, e.after, e.reviewer, "
        "COALESCE(s.reviews_required, 1) FROM review_event e "
        "JOIN teacher_request r ON r.id = e.request_id "
        f"LEFT JOIN selection s ON s.id = r.selection_id WHERE e.request_id {IN_IDS}",
        (ids_param(request_ids),),
    ).fetchall()
    return sorted(rows)


def request_history(conn: Connection, request_id: int) -> list[tuple[Any, ...]]:
    """One request's review events, oldest first: (id, action, after JSON, note, reviewer)."""
    return plain_rows(
        conn,
        "SELECT id, action, after, note, reviewer FROM review_event WHERE request_id = ? ORDER BY id",
        (request_id,),
    ).fetchall()


def all_review_events(store: Store) -> list[dict[str, Any]]:
    """Every review event, oldest first, with all its columns."""
    with store.read() as conn:
        return dict_rows(
            conn,
            "SELECT id, request_id, action, before, after, note, reviewer, created_at "
            "FROM review_event ORDER BY id",
        )


def request_rankings(conn: Connection, request_ids: Iterable[int]) -> list[tuple[int, Any]]:
    """The answered ranking (JSON) of each of these requests: (id, ranking)."""
    return plain_rows(
        conn,
        f"SELECT id, ranking FROM teacher_request WHERE id {IN_IDS}",
        (ids_param(request_ids),),
    ).fetchall()
