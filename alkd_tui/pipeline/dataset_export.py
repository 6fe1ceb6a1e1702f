"""`alkd data export`: a stored dataset as files another tool reads, and that `alkd data
import` reads back into the same dataset.

RecBole's session-benchmark layout (what RecBole's own session datasets use): a folder with
`NAME.train.inter`, `NAME.valid.inter` and `NAME.test.inter` (tab-separated, header
`session_id:token  item_id_list:token_seq  item_id:token`, one instance per line: its input
items, oldest first, and its next item) and `NAME.item` (`item_id:token  title:token_seq`)
where the dataset has titles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alkd_tui.data import load_dataset
from alkd_tui.data.canonical import SPLIT_NAMES
from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.datasets import get_dataset
from alkd_tui.progress import Reporter, Task, silent

FORMATS = ("recbole",)
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
    _check_tokens("item", ds.item_ids)
    _check_tokens("session", ds.session_ids)
    out.mkdir(parents=True, exist_ok=True)
    task = Task(report, "export", ds.n_sessions, "sessions")
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
