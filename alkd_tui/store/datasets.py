"""Datasets in the store: their rows read back (items, sessions), their existence, their
insertion and deletion."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from alkd_tui.errors import BadInputError
from alkd_tui.store.db import Store
from alkd_tui.store.queries import (
    IN_IDS,
    ids_param,
    insert_returning_id,
    insert_rows,
    plain_rows,
    run_sql,
)


def dataset_id(conn: Connection, name: str) -> int | None:
    """The id of the dataset called `name`, or None."""
    row = run_sql(conn, "SELECT id FROM dataset WHERE name = ?", (name,)).first()
    return None if row is None else int(row[0])


def dataset_rows(store: Store, name: str) -> tuple[list[Any], list[Any]] | None:
    """A dataset's items (external id, title, attributes JSON) and sessions (external id,
    split, packed items, target, start time), in stored order; None when there is no such
    dataset."""
    with store.read() as conn:
        found = dataset_id(conn, name)
        if found is None:
            return None
        items = run_sql(
            conn,
            "SELECT external_id, title, attributes FROM item WHERE dataset_id = ? ORDER BY idx",
            (found,),
        ).all()
        sessions = run_sql(
            conn,
            "SELECT external_id, split, items, target, start_time FROM session WHERE dataset_id = ? ORDER BY idx",
            (found,),
        ).all()
    return list(items), list(sessions)


def item_indices(store: Store, dataset: int) -> dict[str, int]:
    """Every item of a dataset: external id -> index."""
    with store.read() as conn:
        return {
            str(ext): int(idx)
            for ext, idx in run_sql(
                conn, "SELECT external_id, idx FROM item WHERE dataset_id = ?", (dataset,)
            )
        }


def training_sessions(store: Store, dataset: int) -> list[tuple[int, int, str]]:
    """A dataset's training sessions in order: (row id, index, external id)."""
    with store.read() as conn:
        rows = run_sql(
            conn,
            "SELECT id, idx, external_id FROM session WHERE dataset_id = ? AND split = 'train' ORDER BY idx",
            (dataset,),
        ).all()
    return [(int(a), int(b), str(c)) for a, b, c in rows]


def validation_sessions(store: Store, dataset: int) -> list[tuple[int, int, str]]:
    """A dataset's validation sessions in order: (row id, index, external id)."""
    with store.read() as conn:
        rows = run_sql(
            conn,
            "SELECT id, idx, external_id FROM session WHERE dataset_id = ? AND split = 'valid' ORDER BY idx",
            (dataset,),
        ).all()
    return [(int(a), int(b), str(c)) for a, b, c in rows]


def delete_dataset_rows(conn: Connection, ds_id: int, name: str) -> None:
    """Delete a dataset and everything hanging from it, unless review decisions depend on it."""
    reviewed = run_sql(
        conn,
        "SELECT COUNT(*) FROM review_event e JOIN teacher_request r ON e.request_id = r.id "
        "JOIN session s ON r.session_id = s.id WHERE s.dataset_id = ?",
        (ds_id,),
    ).scalar_one()
    if reviewed:
        raise BadInputError(
            f"dataset {name!r} has {reviewed} review decisions, which are append-only; it cannot be replaced or deleted"
        )
    run_sql(conn, "DELETE FROM dataset WHERE id = ?", (ds_id,))


def row_counts(store: Store, tables: tuple[str, ...]) -> dict[str, int]:
    """How many rows each table holds."""
    with store.read() as conn:
        return {t: int(run_sql(conn, f"SELECT COUNT(*) FROM {t}").scalar_one()) for t in tables}


def insert_dataset(conn: Connection, row: tuple[Any, ...]) -> int:
    """Insert a dataset row (name, format, source, description, options JSON, stats JSON,
    n_items, n_sessions, n_clicks, alkd_version, created_at); returns its id."""
    return insert_returning_id(
        conn,
        "INSERT INTO dataset (name, format, source, description, options, stats, n_items, n_sessions, "
        "n_clicks, alkd_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row,
    )


def insert_items(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert item rows (dataset id, index, external id, title, attributes JSON)."""
    insert_rows(conn, "item", ("dataset_id", "idx", "external_id", "title", "attributes"), rows)


def insert_sessions(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert session rows (dataset id, index, external id, split, packed items, length,
    target, start time)."""
    columns = ("dataset_id", "idx", "external_id", "split", "items", "length", "target", "start_time")
    insert_rows(conn, "session", columns, rows)


def item_external_ids(conn: Connection, dataset: int) -> list[str]:
    """Every item's external id of a dataset, by index."""
    return [
        str(e)
        for (e,) in plain_rows(
            conn, "SELECT external_id FROM item WHERE dataset_id = ? ORDER BY idx", (dataset,)
        )
    ]


def item_names(
    conn: Connection, dataset: int, indices: Iterable[int]
) -> dict[int, tuple[str, str | None]]:
    """These items of a dataset (by index): index -> (external id, title)."""
    return {
        int(idx): (str(ext), title)
        for idx, ext, title in plain_rows(
            conn,
            f"SELECT idx, external_id, title FROM item WHERE dataset_id = ? AND idx {IN_IDS}",
            (dataset, ids_param(sorted({int(i) for i in indices}))),
        )
    }


def find_item(store: Store, dataset: int, external_id: str) -> tuple[int, str, str | None] | None:
    """The item of a dataset with this external id: (index, external id, title), or None."""
    with store.read() as conn:
        row = plain_rows(
            conn,
            "SELECT idx, external_id, title FROM item WHERE dataset_id = ? AND external_id = ?",
            (dataset, external_id),
        ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]), row[2])


def session_for_scoring(store: Store, dataset: int, index: int) -> tuple[bytes, int, int] | None:
    """One session of a dataset by index: (packed items, target, the dataset's item count)."""
    with store.read() as conn:
        row = plain_rows(
            conn,
            "SELECT s.items, s.target, d.n_items FROM session s JOIN dataset d ON d.id = s.dataset_id "
            "WHERE s.dataset_id = ? AND s.idx = ?",
            (dataset, index),
        ).fetchone()
    return None if row is None else (row[0], int(row[1]), int(row[2]))


def session_keys(store: Store, dataset: int) -> list[tuple[int, str, str]]:
    """Every session of a dataset in order: (row id, external id, split)."""
    with store.read() as conn:
        return plain_rows(
            conn,
            "SELECT id, external_id, split FROM session WHERE dataset_id = ? ORDER BY idx",
            (dataset,),
        ).fetchall()


def training_count(store: Store, dataset: int) -> int:
    """How many training sessions a dataset has."""
    with store.read() as conn:
        return int(
            run_sql(
                conn,
                "SELECT COUNT(*) FROM session WHERE dataset_id = ? AND split = 'train'",
                (dataset,),
            ).scalar_one()
        )


def names_by_id(store: Store) -> tuple[dict[int, str], dict[int, str]]:
    """Every dataset's and every recommender's name by id."""
    with store.read() as conn:
        datasets = {int(i): str(n) for i, n in run_sql(conn, "SELECT id, name FROM dataset")}
        models = {int(i): str(n) for i, n in run_sql(conn, "SELECT id, name FROM model")}
    return datasets, models
