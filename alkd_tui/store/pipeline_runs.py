"""Pipeline runs' steps in the store: what an earlier `alkd run` step left to reuse."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from alkd_tui.store.queries import plain_rows


def done_hint_steps(conn: Connection, key: str) -> list[dict[str, Any]]:
    """The results of finished `hints` steps of pipeline runs with this key, newest first."""
    found = []
    for (steps,) in plain_rows(
        conn, "SELECT steps FROM run WHERE kind = 'pipeline' ORDER BY id DESC"
    ):
        hints = json.loads(steps or "{}").get("hints") or {}
        result = hints.get("result")
        if hints.get("status") == "done" and isinstance(result, dict) and result.get("key") == key:
            found.append(result)
    return found


def hint_texts(conn: Connection, request_id: int, dataset: str) -> list[tuple[int, str]]:
    """The hints one request gave for a dataset (by name), in order: (id, text)."""
    return plain_rows(
        conn,
        "SELECT h.id, h.text FROM hint h JOIN dataset d ON d.id = h.dataset_id "
        "WHERE h.request_id = ? AND d.name = ? ORDER BY h.id",
        (request_id, dataset),
    ).fetchall()
