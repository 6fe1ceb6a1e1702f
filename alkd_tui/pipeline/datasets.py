"""Dataset steps over the store: import, list, show, delete. Called by the CLI and the TUI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alkd_tui.config import build
from alkd_tui.data.formats import ReaderOptions, get_format, read
from alkd_tui.errors import BadInputError, InputFileError, NotFoundError
from alkd_tui.pipeline.results import DatasetSummary
from alkd_tui.progress import ProgressEvent, Reporter, Task, silent
from alkd_tui.store import Dataset, Store

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def check_dataset_name(name: str) -> str:
    """A dataset name: letters, digits, '.', '_', '-', starting with a letter or digit."""
    if not _NAME.match(name):
        raise BadInputError(
            f"--name {name!r}: use letters, digits, '.', '_' or '-' (at most 100, starting with a letter or digit)"
        )
    return name


def import_dataset(
    store: Store,
    format_name: str,
    path: str | Path,
    name: str,
    *,
    preprocess: dict[str, Any] | None = None,
    reader: dict[str, Any] | None = None,
    description: str = "",
    replace: bool = False,
    report: Reporter = silent,
) -> DatasetSummary:
    """Read `path` in `format_name`, preprocess it and store it as `name`; returns `show_dataset`.

    `preprocess` holds only the options the user set; the format's defaults fill the rest.
    """
    # numpy and pyarrow load here, not at import: `alkd data list/show` stay fast.
    from alkd_tui.data.canonical import SessionDataset
    from alkd_tui.data.importer import check_name_free, write_dataset
    from alkd_tui.data.preprocess import PreprocessOptions, sessions_from_clicks

    fmt = get_format(format_name)
    check_dataset_name(name)
    given = dict(preprocess or {})
    options = build(PreprocessOptions, {**fmt.defaults, **given})
    reader_options = build(ReaderOptions, reader or {})
    if options.session_gap is not None and "session_gap" in given and not fmt.uses_gap:
        raise BadInputError(
            f"--session-gap does not apply to the {fmt.name} format (its sessions are given)"
        )
    check_name_free(store, name, replace)
    source = Path(path).expanduser()
    if not source.exists():
        raise InputFileError(source, "no such file or folder")

    task = Task(report, f"read {fmt.name}", None)
    loaded = read(fmt, source, reader_options, options.session_gap)
    task.end()
    if isinstance(loaded, SessionDataset):
        unused = sorted(set(given) - {"max_length"})
        if unused:
            flags = ", ".join("--" + u.replace("_", "-") for u in unused)
            raise BadInputError(f"{flags} does not apply here: {source} gives its own splits")
        ds = loaded.truncated(options.max_length) if options.max_length else loaded
        stored_preprocessing: dict[str, Any] = {"splits": "given", "max_length": options.max_length}
    else:
        task = Task(report, "preprocess", None)
        ds = sessions_from_clicks(loaded, options)
        task.end()
        stored_preprocessing = options.model_dump()
    report(
        ProgressEvent("log", "import", message=f"{ds.n_sessions:,} sessions, {ds.n_items:,} items")
    )
    write_dataset(
        store,
        ds,
        name=name,
        format=fmt.name,
        source=str(source.resolve()),
        description=description,
        options={
            "preprocessing": stored_preprocessing,
            "reader": reader_options.model_dump(mode="json", exclude_none=True),
        },
        replace=replace,
        report=report,
    )
    return show_dataset(store, name)


def _summary(row: Dataset, full: bool) -> DatasetSummary:
    stats = row.stats or {}
    summary = DatasetSummary(
        id=row.id,
        name=row.name,
        format=row.format,
        sessions=stats.get("sessions", {}),
        items=row.n_items,
        clicks=row.n_clicks,
        items_with_titles=stats.get("items_with_titles", 0),
        description=row.description,
        created_at=row.created_at.isoformat(timespec="seconds"),
    )
    if full:
        more = {
            "source": row.source,
            "alkd_version": row.alkd_version,
            "session_length": stats.get("session_length", {}),
            "top_items": stats.get("top_items", []),
            "options": row.options,
            **{key: stats[key] for key in ("source_sessions", "dropped_clicks") if key in stats},
        }
        summary = summary.model_copy(update=more)
    return summary


def list_datasets(store: Store) -> list[DatasetSummary]:
    """Every dataset in the store, oldest first, with its split sizes and counts."""
    from sqlmodel import select

    with store.reading() as orm:
        return [_summary(row, full=False) for row in orm.exec(select(Dataset).order_by(Dataset.id))]


def get_dataset(store: Store, name: str) -> Dataset:
    """The dataset row called `name` (or with that id), or a `NotFoundError`."""
    from sqlmodel import select

    with store.reading() as orm:
        row = orm.exec(select(Dataset).where(Dataset.name == name)).first()
        if row is None and name.isdigit():
            row = orm.get(Dataset, int(name))
    if row is None:
        raise NotFoundError(f"no dataset {name!r} in {store.where} (see `alkd data list`)")
    return row


def show_dataset(store: Store, name: str) -> DatasetSummary:
    """Everything stored about one dataset: splits, counts, lengths, top items, options."""
    return _summary(get_dataset(store, name), full=True)


def delete_dataset(store: Store, name: str) -> dict[str, Any]:
    """Delete a dataset and what hangs from it (refused where review decisions exist)."""
    from alkd_tui.store.datasets import dataset_id, delete_dataset_rows

    row = get_dataset(store, name)
    with store.write() as conn:
        ds_id = dataset_id(conn, row.name)
        assert ds_id is not None
        delete_dataset_rows(conn, ds_id, row.name)
    return {"deleted": row.name, "id": row.id}
