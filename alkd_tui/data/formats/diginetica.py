"""Diginetica (CIKM Cup 2016) `train-item-views.csv`:
`session_id;user_id;item_id;timeframe;eventdate` (timeframe in ms within the session)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from alkd_tui.data.canonical import ClickLog
from alkd_tui.data.formats._common import click_log
from alkd_tui.data.formats.options import ReaderOptions
from alkd_tui.data.readers import find_file, read_columns

COLUMNS = ["session_id", "item_id", "timeframe", "eventdate"]


def load(path: Path, opts: ReaderOptions) -> ClickLog:
    """Read item views; a click's time is its event date plus its timeframe (SR-GNN's order)."""
    if path.is_dir():
        path = find_file(path, ["train-item-views.csv"], "item views")
    cols, header = read_columns(
        path,
        COLUMNS,
        delimiter=opts.delimiter or ";",
        encoding=opts.encoding or "utf-8",
        types={"timeframe": pa.float64(), "eventdate": pa.timestamp("s")},
    )
    day = cols["eventdate"].cast(pa.int64()).cast(pa.float64())
    cols["time"] = pc.add(day, pc.divide(cols["timeframe"], 1000.0))
    return click_log(path, cols, header, session="session_id", item="item_id", time="time")
