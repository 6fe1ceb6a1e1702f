"""Writing a `SessionDataset` into the store: one transaction, so a failed import leaves nothing."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from sqlalchemy import Connection

from alkd_tui import __version__
from alkd_tui.data.canonical import SPLIT_NAMES, SessionDataset
from alkd_tui.data.stats import dataset_stats
from alkd_tui.errors import BadInputError
from alkd_tui.progress import Reporter, Task, silent
from alkd_tui.store import Store, sql_timestamp, utcnow
from alkd_tui.store.datasets import (
    dataset_id,
    delete_dataset_rows,
    insert_dataset,
    insert_items,
    insert_sessions,
)

CHUNK = 50_000


def check_name_free(store: Store, name: str, replace: bool) -> None:
    """Refuse early (before reading any file) a name that is taken, unless replacing."""
    with store.read() as conn:
        if dataset_id(conn, name) is not None and not replace:
            raise BadInputError(
                f"dataset {name!r} already exists in {store.where} (use --replace or another --name)"
            )


def write_dataset(
    store: Store,
    ds: SessionDataset,
    *,
    name: str,
    format: str,
    source: str,
    description: str = "",
    options: dict[str, Any] | None = None,
    replace: bool = False,
    report: Reporter = silent,
) -> dict[str, Any]:
    """Store `ds` as dataset `name` atomically; returns its stats."""
    ds.validate()
    stats = dataset_stats(ds)
    with store.write() as conn:
        existing = dataset_id(conn, name)
        if existing is not None:
            if not replace:
                raise BadInputError(
                    f"dataset {name!r} already exists in {store.where} (use --replace or another --name)"
                )
            delete_dataset_rows(conn, existing, name)
        new_id = insert_dataset(conn, (
            name, format, source, description, json.dumps(options or {}), json.dumps(stats),
            ds.n_items, ds.n_sessions, stats["clicks"], __version__, sql_timestamp(utcnow()),
        ))  # fmt: skip
        _write_items(conn, new_id, ds, report)
        _write_sessions(conn, new_id, ds, report)
    return stats


def _write_items(conn: Connection, ds_id: int, ds: SessionDataset, report: Reporter) -> None:
    task = Task(report, "store items", ds.n_items, "items")
    titles = ds.titles or [None] * ds.n_items
    attributes = ds.attributes or [None] * ds.n_items
    for start in range(0, ds.n_items, CHUNK):
        stop = min(start + CHUNK, ds.n_items)
        rows = [
            (
                ds_id,
                k,
                ds.item_ids[k],
                titles[k],
                None if attributes[k] is None else json.dumps(attributes[k]),
            )
            for k in range(start, stop)
        ]
        insert_items(conn, rows)
        task.advance(stop - start)
    task.end()


def _write_sessions(conn: Connection, ds_id: int, ds: SessionDataset, report: Reporter) -> None:
    task = Task(report, "store sessions", ds.n_sessions, "sessions")
    items = np.ascontiguousarray(ds.items, dtype="<i4").tobytes()
    offsets = (ds.offsets * 4).tolist()
    lengths = ds.lengths.tolist()
    targets = ds.targets.tolist()
    splits = [SPLIT_NAMES[c] for c in ds.split.tolist()]
    times = ds.start_times.tolist() if ds.start_times is not None else [None] * ds.n_sessions
    view = items  # slicing bytes, not a memoryview: memoryviews are GC-tracked and slow here
    for start in range(0, ds.n_sessions, CHUNK):
        stop = min(start + CHUNK, ds.n_sessions)
        rows = [
            (
                ds_id,
                k,
                ds.session_ids[k],
                splits[k],
                view[offsets[k] : offsets[k + 1]],
                lengths[k],
                targets[k],
                times[k],
            )
            for k in range(start, stop)
        ]
        insert_sessions(conn, rows)
        task.advance(stop - start)
    task.end()
