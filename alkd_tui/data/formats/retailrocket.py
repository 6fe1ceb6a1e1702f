"""RetailRocket `events.csv`: `timestamp,visitorid,event,itemid,transactionid`
(timestamp in ms). Views only; a visitor's views form sessions split on inactivity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from alkd_tui.data.canonical import ClickLog
from alkd_tui.data.formats._common import click_log, split_by_gap
from alkd_tui.data.formats.options import ReaderOptions
from alkd_tui.data.readers import find_file, read_columns
from alkd_tui.errors import InputFileError

DEFAULT_GAP = 1800.0


def load(path: Path, opts: ReaderOptions, session_gap: float | None = None) -> ClickLog:
    """Read view events and cut each visitor's views into sessions (default gap 30 minutes)."""
    if path.is_dir():
        path = find_file(path, ["events.csv"], "events")
    cols, header = read_columns(
        path,
        ["timestamp", "visitorid", "event", "itemid"],
        delimiter=opts.delimiter or ",",
        encoding=opts.encoding or "utf-8",
        types={"timestamp": pa.float64()},
    )
    views = pc.equal(cols["event"], "view")
    if not pc.any(views).as_py():
        raise InputFileError(path, "no 'view' events")
    rows = np.flatnonzero(views.to_numpy(zero_copy_only=False))
    cols = {name: col.filter(views) for name, col in cols.items()}
    log = click_log(
        path, cols, header, session="visitorid", item="itemid", time="timestamp", time_unit=0.001,
        rows=rows,
    )  # fmt: skip
    return split_by_gap(log, session_gap or DEFAULT_GAP)
