"""MovieLens ratings as sessions: ml-100k (`u.data`, `u.item`), ml-1m (`ratings.dat`,
`movies.dat`, `::`-separated) and ml-latest (`ratings.csv`, `movies.csv`). A user's ratings
form sessions split on inactivity; tied timestamps keep file order."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa

from alkd_tui.data.canonical import ClickLog
from alkd_tui.data.formats._common import click_log, split_by_gap
from alkd_tui.data.formats.options import ReaderOptions
from alkd_tui.data.readers import read_columns, require_file, text_file
from alkd_tui.errors import InputFileError

DEFAULT_GAP = 3600.0
ML100K_GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
]  # fmt: skip
_RATINGS = ["u.data", "ratings.dat", "ratings.csv"]


def _ratings_file(path: Path) -> Path:
    if path.is_dir():
        for name in _RATINGS:
            if (path / name).is_file():
                return path / name
        raise InputFileError(path, f"no MovieLens ratings file (looked for {', '.join(_RATINGS)})")
    if path.name not in _RATINGS:
        raise InputFileError(
            path, f"not a MovieLens ratings file (expected one of {', '.join(_RATINGS)})"
        )
    return require_file(path)


def _read_catalogue(
    path: Path, encoding: str, parse: Any
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    titles: dict[str, str] = {}
    attributes: dict[str, dict[str, Any]] = {}
    text_file(path, encoding)  # decodes, no NUL, no lone CR, no overlong line
    with path.open(encoding=encoding, newline="") as fh:
        for number, line in enumerate(fh, start=1):
            parsed = parse(line.rstrip("\r\n"), number)
            if parsed is None:
                continue
            item, title, attrs = parsed
            titles[item] = title
            attributes[item] = attrs
    return titles, attributes


def _catalogue(
    ratings: Path, encoding: str | None
) -> tuple[dict[str, str], dict[str, dict[str, Any]]] | None:
    folder = ratings.parent
    if ratings.name == "u.data" and (folder / "u.item").is_file():
        path = folder / "u.item"

        def parse_100k(line: str, number: int) -> tuple[str, str, dict[str, Any]] | None:
            if not line:
                return None
            fields = line.split("|")
            if len(fields) < 5 + len(ML100K_GENRES):
                raise InputFileError(
                    path, f"expected {5 + len(ML100K_GENRES)} '|'-separated fields", number
                )
            genres = [g for g, flag in zip(ML100K_GENRES, fields[5:], strict=False) if flag == "1"]
            return fields[0], fields[1], {"release_date": fields[2], "genres": genres}

        return _read_catalogue(path, encoding or "latin-1", parse_100k)
    if ratings.name == "ratings.dat" and (folder / "movies.dat").is_file():
        path = folder / "movies.dat"

        def parse_1m(line: str, number: int) -> tuple[str, str, dict[str, Any]] | None:
            if not line:
                return None
            fields = line.split("::")
            if len(fields) != 3:
                raise InputFileError(path, "expected MovieID::Title::Genres", number)
            return fields[0], fields[1], {"genres": fields[2].split("|")}

        return _read_catalogue(path, encoding or "latin-1", parse_1m)
    if ratings.name == "ratings.csv" and (folder / "movies.csv").is_file():
        path = folder / "movies.csv"
        titles: dict[str, str] = {}
        attributes: dict[str, dict[str, Any]] = {}
        text_file(path, encoding or "utf-8")
        with path.open(encoding=encoding or "utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            try:
                if not reader.fieldnames or not {"movieId", "title"} <= set(reader.fieldnames):
                    raise InputFileError(path, "expected columns movieId, title, genres", 1)
                for row in reader:
                    titles[row["movieId"]] = row["title"]
                    attributes[row["movieId"]] = {"genres": (row.get("genres") or "").split("|")}
            except csv.Error as exc:
                raise InputFileError(
                    path, f"cannot be read as CSV: {exc}", reader.line_num
                ) from None
        return titles, attributes
    return None


def load(path: Path, opts: ReaderOptions, session_gap: float | None = None) -> ClickLog:
    """Read MovieLens ratings (and titles, where the movies file is beside them)."""
    ratings = _ratings_file(path)
    encoding = opts.encoding or "utf-8"
    types = {"user": pa.int64(), "item": pa.int64(), "time": pa.float64()}
    if ratings.name == "u.data":
        cols, header = read_columns(
            ratings, ["user", "item", "time"], delimiter=opts.delimiter or "\t", encoding=encoding,
            column_names=["user", "item", "rating", "time"], types=types,
        )  # fmt: skip
    elif ratings.name == "ratings.dat":
        # "::" is two one-character delimiters with an empty field between them.
        cols, header = read_columns(
            ratings, ["user", "item", "time"], delimiter=":", encoding=encoding,
            column_names=["user", "_1", "item", "_2", "rating", "_3", "time"], types=types,
        )  # fmt: skip
    else:
        cols, header = read_columns(
            ratings, ["userId", "movieId", "timestamp"], delimiter=opts.delimiter or ",", encoding=encoding,
            types={"userId": pa.int64(), "movieId": pa.int64(), "timestamp": pa.float64()},
        )  # fmt: skip
        cols = {"user": cols["userId"], "item": cols["movieId"], "time": cols["timestamp"]}
    log = click_log(ratings, cols, header, session="user", item="item", time="time")
    log = split_by_gap(log, session_gap or DEFAULT_GAP)
    catalogue = _catalogue(ratings, opts.encoding)
    if catalogue is not None:
        log.titles, log.attributes = catalogue
    return log
