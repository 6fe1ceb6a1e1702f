"""YOOCHOOSE clicks (RecSys Challenge 2015): the raw `yoochoose-clicks.dat`
(SessionId,Timestamp,ItemId,Category; no header) or session-rec's prepared TSV files
(SessionId, ItemId, Time), either one file or a folder with a train and a test file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from alkd_tui.data.canonical import TEST, TRAIN, ClickLog
from alkd_tui.data.formats._common import click_log, concat_logs
from alkd_tui.data.formats.options import ReaderOptions
from alkd_tui.data.readers import read_columns, read_header, require_file
from alkd_tui.errors import InputFileError

RAW_COLUMNS = ["SessionId", "Timestamp", "ItemId", "Category"]
PREPARED_COLUMNS = ["SessionId", "ItemId", "Time"]
_PAIRS = [("train.tsv", "test.tsv"), ("train.txt", "test.txt")]


def _prepared(path: Path, opts: ReaderOptions) -> ClickLog:
    cols, header = read_columns(
        path,
        PREPARED_COLUMNS,
        delimiter=opts.delimiter or "\t",
        encoding=opts.encoding or "utf-8",
        types={"Time": pa.float64()},
    )
    return click_log(path, cols, header, session="SessionId", item="ItemId", time="Time")


def _raw(path: Path, opts: ReaderOptions) -> ClickLog:
    cols, header = read_columns(
        path,
        ["SessionId", "Timestamp", "ItemId"],
        delimiter=opts.delimiter or ",",
        encoding=opts.encoding or "utf-8",
        column_names=RAW_COLUMNS,
        types={"Timestamp": pa.timestamp("ms", tz="UTC")},
    )
    return click_log(path, cols, header, session="SessionId", item="ItemId", time="Timestamp")


def _pair_in(folder: Path) -> tuple[Path, Path] | None:
    for train_name, test_name in _PAIRS:
        if (folder / train_name).is_file() and (folder / test_name).is_file():
            return folder / train_name, folder / test_name
    trains = sorted(folder.glob("*_train_full.txt"))
    for train in trains:
        test = folder / train.name.replace("_train_full.txt", "_test.txt")
        if test.is_file():
            return train, test
    return None


def load(path: Path, opts: ReaderOptions) -> ClickLog:
    """Read YOOCHOOSE clicks; a train/test pair keeps its given test split."""
    if path.is_dir():
        pair = _pair_in(path)
        if pair is None:
            raise InputFileError(
                path,
                "no train/test pair (train.tsv and test.tsv, or *_train_full.txt and *_test.txt)",
            )
        train, test = (_prepared(p, opts) for p in pair)
        return concat_logs([train, test], splits=[TRAIN, TEST])
    path = require_file(path)
    first = read_header(path, opts.encoding or "utf-8")
    if first.startswith("SessionId"):
        return _prepared(path, opts)
    return _raw(path, opts)
