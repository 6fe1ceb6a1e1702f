"""`alkd data export`: a stored dataset as files another tool reads, and that `alkd data
import` reads back into the same dataset.

- `recbole`: RecBole's session-benchmark layout (what RecBole's own session datasets use): a
  folder with `NAME.train.inter`, `NAME.valid.inter` and `NAME.test.inter` (tab-separated,
  header `session_id:token  item_id_list:token_seq  item_id:token`, one instance per line: its
  input items, oldest first, and its next item) and `NAME.item` (`item_id:token
  title:token_seq`) where the dataset has titles. `alkd data import recbole` reads it.
- `alkdrec`, `csv`, `parquet`: the ALKDRec layout, `sessions` (session_id, split, items,
  target) and `items` (item_id, title), as `.tsv`, `.csv` or `.parquet` files. In the text
  files `items` holds the input item ids separated by spaces; in Parquet it is a list of
  strings. `alkd data import alkdrec` reads any of the three."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alkd_tui.data import load_dataset
from alkd_tui.data.canonical import SPLIT_NAMES
from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.datasets import get_dataset
from alkd_tui.progress import Reporter, Task, silent

FORMATS = ("recbole", "alkdrec", "csv", "parquet")
_FORBIDDEN = ("\t", "\n", "\r", " ")


def _check_tokens(kind: str, values: list[str]) -> None:
    for value in values:
        if not value or any(c in value for c in _FORBIDDEN):
            raise BadInputError(
                f"{kind} id {value!r} is empty or holds a space, tab or line break: RecBole's "
                "token lists cannot hold it"
            )


def export_dataset(
    store: Any, name: str, folder: str | Path, fmt: str = "recbole", *, report: Reporter = silent
) -> dict[str, Any]:
    """Write dataset `name` to `folder` in format `fmt`; returns what was written."""
    if fmt not in FORMATS:
        raise BadInputError(f"--format {fmt!r}: use {', '.join(FORMATS)}")
    row = get_dataset(store, name)
    ds = load_dataset(store, row.name)
    out = Path(folder).expanduser()
    if out.exists() and not out.is_dir():
        raise BadInputError(f"--out {out}: is a file, not a folder")
    if fmt != "parquet":  # a list column holds any id; text files separate ids by spaces
        _check_tokens("item", ds.item_ids)
        _check_tokens("session", ds.session_ids)
    out.mkdir(parents=True, exist_ok=True)
    task = Task(report, "export", ds.n_sessions, "sessions")
    if fmt != "recbole":
        files = _write_tables(ds, out, fmt)
        task.advance(ds.n_sessions)
        task.end()
        return {"dataset": row.name, "format": fmt, "folder": str(out.resolve()), "files": files}
    files: dict[str, int] = {}
    for code, split in enumerate(SPLIT_NAMES):
        path = out / f"{row.name}.{split}.inter"
        lines = ["session_id:token\titem_id_list:token_seq\titem_id:token\n"]
        for k in (ds.split == code).nonzero()[0]:
            inputs = " ".join(ds.item_ids[i] for i in ds.inputs(int(k)))
            lines.append(f"{ds.session_ids[k]}\t{inputs}\t{ds.item_ids[ds.targets[k]]}\n")
        path.write_text("".join(lines), encoding="utf-8")
        files[path.name] = len(lines) - 1
        task.advance(len(lines) - 1)
    if ds.titles and any(ds.titles):
        path = out / f"{row.name}.item"
        rows = ["item_id:token\ttitle:token_seq\n"]
        for item, title in zip(ds.item_ids, ds.titles, strict=True):
            clean = " ".join((title or "").split())  # a title is one field: no tabs or breaks
            rows.append(f"{item}\t{clean}\n")
        path.write_text("".join(rows), encoding="utf-8")
        files[path.name] = len(rows) - 1
    task.end()
    return {"dataset": row.name, "format": fmt, "folder": str(out.resolve()), "files": files}


def _write_tables(ds: Any, out: Path, fmt: str) -> dict[str, int]:
    """The ALKDRec layout, `sessions` and `items`, as tsv (alkdrec), csv or parquet files."""
    import numpy as np
    import pyarrow as pa

    ids = np.asarray(ds.item_ids, dtype=object)
    inputs = pa.ListArray.from_arrays(
        pa.array(np.asarray(ds.offsets, dtype=np.int32)), pa.array(ids[np.asarray(ds.items)], pa.string())
    )
    split = np.asarray(SPLIT_NAMES, dtype=object)[np.asarray(ds.split)]
    targets = ids[np.asarray(ds.targets)]
    titles = list(ds.titles) if ds.titles else [None] * len(ds.item_ids)
    if fmt != "parquet":
        inputs = pa.array([" ".join(x) for x in inputs.to_pylist()], pa.string())
        titles = [" ".join((t or "").split()) for t in titles]  # one field: no tabs or breaks
    sessions = pa.table({
        "session_id": pa.array(ds.session_ids, pa.string()), "split": pa.array(split, pa.string()),
        "items": inputs, "target": pa.array(targets, pa.string()),
    })  # fmt: skip
    items = pa.table({"item_id": pa.array(ds.item_ids, pa.string()), "title": pa.array(titles, pa.string())})
    suffix = {"alkdrec": "tsv", "csv": "csv", "parquet": "parquet"}[fmt]
    files: dict[str, int] = {}
    for name, table in (("sessions", sessions), ("items", items)):
        path = out / f"{name}.{suffix}"
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, path)
        else:
            import pyarrow.csv as pacsv

            delimiter = "\t" if fmt == "alkdrec" else ","
            options = pacsv.WriteOptions(delimiter=delimiter, quoting_style="needed")
            pacsv.write_csv(table, path, options)
        files[path.name] = table.num_rows
    return files
