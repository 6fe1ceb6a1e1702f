"""The ALKDRec benchmark layout: `items.tsv` (item_id, title) and `sessions.tsv`
(session_id, split, items, target), one instance per session with the splits given. The same
tables as `.csv` (comma-separated) or `.parquet` files (`items` a list of strings, or
space-separated ids) are read too: `alkd data export --format alkdrec|csv|parquet` writes
them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from alkd_tui.data.canonical import SPLIT_NAMES, SessionDataset
from alkd_tui.data.formats._common import lookup, split_tokens
from alkd_tui.data.formats.options import ReaderOptions
from alkd_tui.data.readers import find_file, read_columns
from alkd_tui.errors import InputFileError, shown

SUFFIXES = ("tsv", "csv", "parquet")


def _read(path: Path, columns: list[str], opts: ReaderOptions) -> tuple[dict[str, pa.Array], int]:
    """The columns of one table file (tsv, csv or parquet) and its header lines."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputFileError(path, f"not a Parquet file ({exc})") from None
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise InputFileError(path, f"no column {missing[0]!r} (it has {', '.join(table.column_names)})")
        found = {}
        for c in columns:
            column = table.column(c).combine_chunks()
            if not pa.types.is_list(column.type) and not pa.types.is_string(column.type):
                column = column.cast(pa.string())
            found[c] = column
        return found, 0
    delimiter = opts.delimiter or ("," if path.suffix == ".csv" else "\t")
    return read_columns(path, columns, delimiter=delimiter, encoding=opts.encoding or "utf-8")


def load(path: Path, opts: ReaderOptions) -> SessionDataset:
    """Read an ALKDRec dataset folder."""
    if not path.is_dir():
        raise InputFileError(path, "expected a folder with items.tsv and sessions.tsv")
    sessions_path = find_file(path, [f"sessions.{s}" for s in SUFFIXES], "sessions")
    items_path = find_file(path, [f"items{sessions_path.suffix}"], "items")

    items, item_header = _read(items_path, ["item_id", "title"], opts)
    item_ids = items["item_id"]
    dup = pc.value_counts(item_ids)
    repeated = pc.filter(dup.field("values"), pc.greater(dup.field("counts"), 1))
    if len(repeated):
        first = repeated[0].as_py()
        rows = np.flatnonzero(pc.equal(item_ids, first).to_numpy(zero_copy_only=False))
        raise InputFileError(
            items_path, f"item {shown(first)} is listed twice", int(rows[1]) + 1 + item_header
        )

    cols, header = _read(sessions_path, ["session_id", "split", "items", "target"], opts)
    split_values = cols["split"]
    codes = pc.index_in(split_values, value_set=pa.array(SPLIT_NAMES))
    if codes.null_count:
        at = int(pc.index(pc.is_null(codes), True).as_py())
        raise InputFileError(
            sessions_path,
            f"column 'split': {split_values[at].as_py()!r} is not train, valid or test",
            at + 1 + header,
        )
    if pa.types.is_list(cols["items"].type):  # Parquet: a list of ids per session
        lists = cols["items"]
        flat = lists.flatten().cast(pa.string())
        offsets = lists.offsets.to_numpy().astype(np.int64)
        offsets = offsets - offsets[0]
    else:
        flat, offsets = split_tokens(cols["items"])
    empty = np.flatnonzero(np.diff(offsets) == 0)
    if empty.size:
        raise InputFileError(sessions_path, "column 'items' is empty", int(empty[0]) + 1 + header)
    row_of_token = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    inputs = lookup(flat, item_ids, sessions_path, "items", row_of_token, header)
    targets = lookup(cols["target"], item_ids, sessions_path, "target", None, header)
    titles = [t if t else None for t in items["title"].to_pylist()]
    return SessionDataset(
        item_ids=item_ids.to_pylist(),
        session_ids=cols["session_id"].to_pylist(),
        split=codes.to_numpy(zero_copy_only=False).astype(np.int8),
        offsets=offsets,
        items=inputs,
        targets=targets,
        titles=titles,
    )
