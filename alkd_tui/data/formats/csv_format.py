"""Generic CSV/TSV clicks: session (or user), item and time columns named by options, and
an optional titles file."""

from __future__ import annotations

from pathlib import Path

from alkd_tui.data.canonical import ClickLog
from alkd_tui.data.formats._common import click_log, split_by_gap
from alkd_tui.data.formats.options import ReaderOptions
from alkd_tui.data.readers import check_columns, read_columns, read_header, require_file
from alkd_tui.errors import BadInputError, InputFileError

DEFAULT_GAP = 1800.0
#: `--time-col none`: the file has no time column; sessions keep the file's order.
NO_TIME = "none"


def default_delimiter(path: Path) -> str:
    """Tab for .tsv/.tab files, else a comma."""
    return "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","


def load(path: Path, opts: ReaderOptions, session_gap: float | None = None) -> ClickLog:
    """Read clicks from a delimited file with named columns."""
    path = require_file(path)
    delimiter = opts.delimiter or default_delimiter(path)
    encoding = opts.encoding or "utf-8"
    if opts.session_col and opts.user_col:
        raise BadInputError("give --session-col or --user-col, not both")
    key = opts.user_col or opts.session_col or "session_id"
    item = opts.item_col or "item_id"
    names = check_columns(path, read_header(path, encoding), delimiter, [key, item])
    if opts.time_col and opts.time_col.lower() == NO_TIME:
        time = None
    else:
        time = opts.time_col or ("timestamp" if "timestamp" in names else None)
    others = [n for n in names if n not in (key, item, opts.user_col)]
    if time is None and others and not (opts.time_col and opts.time_col.lower() == NO_TIME):
        # Unused columns and no time: a misnamed time column would be dropped without a word.
        raise InputFileError(
            path,
            f"no 'timestamp' column: name the time column with --time-col (one of: "
            f"{', '.join(others[:5])}), or give --time-col {NO_TIME} to keep the file's order",
            1,
        )
    if opts.user_col and time is None:
        raise InputFileError(path, "sessions by user need a time column (--time-col)", 1)
    wanted = [key, item] + ([time] if time else [])
    cols, header = read_columns(path, wanted, delimiter=delimiter, encoding=encoding)
    log = click_log(
        path, cols, header, session=key, item=item, time=time, time_unit=opts.time_unit or 1.0
    )
    if opts.user_col:
        log = split_by_gap(log, session_gap or DEFAULT_GAP)
    if opts.titles is not None:
        titles_path = require_file(opts.titles)
        title_col = opts.title_col or "title"
        tcols, _ = read_columns(
            titles_path,
            [item, title_col],
            delimiter=opts.delimiter or default_delimiter(titles_path),
            encoding=encoding,
        )
        log.titles = dict(zip(tcols[item].to_pylist(), tcols[title_col].to_pylist(), strict=True))
    return log
