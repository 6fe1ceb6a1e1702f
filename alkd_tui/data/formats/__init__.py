"""The dataset formats alkd imports, each a loader with its own default preprocessing."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alkd_tui.data.formats.options import ReaderOptions
from alkd_tui.errors import BadInputError

if TYPE_CHECKING:
    from alkd_tui.data.canonical import ClickLog, SessionDataset


@dataclass(frozen=True)
class Format:
    """A dataset format: how to read it and how to preprocess it by default.

    `module` names the loader module (imported on first use, so listing formats stays cheap);
    its `load(path, options[, session_gap])` returns a `ClickLog` or a `SessionDataset`.
    """

    name: str
    summary: str
    module: str
    defaults: dict[str, Any] = field(default_factory=dict)
    reader_options: frozenset[str] = frozenset({"encoding", "delimiter"})
    uses_gap: bool = False

    def load(self, *args: Any) -> ClickLog | SessionDataset:
        """Run this format's loader."""
        loader = importlib.import_module(f"alkd_tui.data.formats.{self.module}")
        return loader.load(*args)  # type: ignore[no-any-return]


_CSV_OPTIONS = frozenset(ReaderOptions.model_fields)

FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        Format("alkdrec", "ALKDRec benchmark folder: items and sessions (.tsv, .csv or .parquet) with given splits", "alkdrec"),
        Format("yoochoose", "YOOCHOOSE clicks: yoochoose-clicks.dat, or session-rec's prepared train/test TSV",
               "yoochoose", {"test_days": 1.0}),
        Format("diginetica", "Diginetica train-item-views.csv (';'-separated)", "diginetica", {"test_days": 7.0}),
        Format("retailrocket", "RetailRocket events.csv (views; sessions cut by 30 minutes of inactivity)",
               "retailrocket", {"test_days": 7.0}, uses_gap=True),
        Format("recbole", "RecBole atomic files (.inter, .item), also pre-split NAME.{train,valid,test}.inter",
               "recbole", {"test_fraction": 0.2}, frozenset({"encoding"}), uses_gap=True),
        Format("movielens", "MovieLens ml-100k, ml-1m or ml-latest ratings (sessions by inactivity)",
               "movielens", {"test_fraction": 0.2}, uses_gap=True),
        Format("csv", "Generic CSV/TSV clicks with session (or user), item and time columns",
               "csv_format", {"test_fraction": 0.2}, _CSV_OPTIONS, uses_gap=True),
    ]
}  # fmt: skip


def get_format(name: str) -> Format:
    """The format called `name`, or one line listing the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise BadInputError(f"unknown format {name!r} (known: {', '.join(FORMATS)})") from None


def read(
    fmt: Format, path: Path, opts: ReaderOptions, session_gap: float | None
) -> ClickLog | SessionDataset:
    """Run a format's loader with the options that apply to it."""
    extra = opts.given() - fmt.reader_options
    if extra:
        flags = ", ".join("--" + name.replace("_", "-") for name in sorted(extra))
        raise BadInputError(f"{flags} does not apply to the {fmt.name} format")
    if fmt.uses_gap:
        return fmt.load(path, opts, session_gap)
    return fmt.load(path, opts)


__all__ = ["FORMATS", "Format", "ReaderOptions", "get_format", "read"]
