"""Small pieces the format loaders share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from alkd_tui.data.canonical import ClickLog
from alkd_tui.data.preprocess import sessionize_by_gap
from alkd_tui.data.readers import factorize, to_seconds
from alkd_tui.errors import InputFileError, shown


def click_log(
    path: Path,
    columns: dict[str, pa.Array],
    header_lines: int,
    *,
    session: str,
    item: str,
    time: str | None,
    time_unit: float = 1.0,
    rows: np.ndarray | None = None,
) -> ClickLog:
    """A `ClickLog` from the session, item and (optional) time columns of one file (`rows`:
    the file row of each value, where the columns were filtered)."""
    session_codes, session_keys = factorize(columns[session], path, session, header_lines)
    item_codes, item_keys = factorize(columns[item], path, item, header_lines)
    if time is None:
        seconds = np.arange(len(session_codes), dtype=np.float64)
    else:
        seconds = to_seconds(columns[time], path, time, header_lines, unit=time_unit, rows=rows)
    return ClickLog(
        source=str(path),
        session=session_codes,
        item=item_codes,
        time=seconds,
        session_keys=session_keys,
        item_keys=item_keys,
        has_time=time is not None,
    )


def concat_logs(logs: list[ClickLog], splits: list[int] | None = None) -> ClickLog:
    """One log from several files (keys unified); `splits` gives each file's split code."""
    session_index: dict[str, int] = {}
    item_index: dict[str, int] = {}
    parts_s, parts_i, parts_t, parts_split = [], [], [], []
    for n, log in enumerate(logs):
        s_map = np.array(
            [session_index.setdefault(k, len(session_index)) for k in log.session_keys],
            dtype=np.int64,
        )
        i_map = np.array(
            [item_index.setdefault(k, len(item_index)) for k in log.item_keys], dtype=np.int64
        )
        parts_s.append(s_map[log.session])
        parts_i.append(i_map[log.item])
        parts_t.append(log.time)
        if splits is not None:
            parts_split.append(np.full(log.n_clicks, splits[n], dtype=np.int8))
    return ClickLog(
        source=" + ".join(log.source for log in logs),
        session=np.concatenate(parts_s),
        item=np.concatenate(parts_i),
        time=np.concatenate(parts_t),
        session_keys=list(session_index),
        item_keys=list(item_index),
        has_time=all(log.has_time for log in logs),
        split=np.concatenate(parts_split) if splits is not None else None,
    )


def lookup(
    values: pa.Array,
    index: pa.Array,
    path: Path,
    column: str,
    line_of: np.ndarray | None,
    header_lines: int,
) -> np.ndarray:
    """Item indices of `values` in `index` (ids); an unknown id is an error naming its line."""
    found = pc.index_in(values, value_set=index)
    if found.null_count:
        at = int(pc.index(pc.is_null(found), True).as_py())
        row = int(line_of[at]) if line_of is not None else at
        raise InputFileError(
            path,
            f"column {column!r}: unknown item {shown(values[at].as_py())}",
            row + 1 + header_lines,
        )
    return found.to_numpy(zero_copy_only=False).astype(np.int32)


def split_tokens(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Space-separated tokens per row: (flat tokens, offsets into them per row)."""
    lists = pc.split_pattern(pc.utf8_trim_whitespace(array), " ")
    flat = lists.flatten()
    offsets = lists.offsets.to_numpy().astype(np.int64)
    offsets = offsets - offsets[0]
    keep = pc.not_equal(pc.utf8_length(flat), 0)
    if not pc.all(keep).as_py():  # several spaces in a row
        mask = keep.to_numpy(zero_copy_only=False)
        counts = (
            np.add.reduceat(mask, offsets[:-1]) if len(flat) else np.zeros(len(offsets) - 1, int)
        )
        counts[np.diff(offsets) == 0] = 0
        offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
        flat = flat.filter(keep)
    return flat, offsets


def split_by_gap(log: ClickLog, gap: float) -> ClickLog:
    """Turn a log keyed by user into sessions cut by `gap` seconds of inactivity.

    A session's key is "USER:K", the user's K-th session (0-based) in time order.
    """
    codes = sessionize_by_gap(log.session, log.time, gap)
    _, first_row = np.unique(codes, return_index=True)
    user_of_session = log.session[first_row]
    first_of_user = np.r_[True, user_of_session[1:] != user_of_session[:-1]]
    group_start = np.maximum.accumulate(
        np.where(first_of_user, np.arange(len(codes[first_row])), 0)
    )
    ordinal = np.arange(len(first_row)) - group_start
    users = log.session_keys
    log.session_keys = [
        f"{users[u]}:{k}" for u, k in zip(user_of_session.tolist(), ordinal.tolist(), strict=True)
    ]
    log.session = codes
    return log
