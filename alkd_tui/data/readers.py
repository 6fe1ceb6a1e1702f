"""Reading delimited text files fast (pyarrow) with errors that name the file and line.

The fast path reads whole columns at once; only when something is wrong do we go back to
the file, line by line, to say exactly where.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from alkd_tui.errors import InputFileError

_DELIMITERS = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}


def describe_delimiter(delimiter: str) -> str:
    """A printable name for a delimiter ("tab", "','")."""
    return _DELIMITERS.get(delimiter, repr(delimiter))


def require_file(path: str | Path) -> Path:
    """`path` as a Path, or one clear error when it is missing, a folder, or empty."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InputFileError(p, "no such file")
    if p.is_dir():
        raise InputFileError(p, "is a folder, expected a file")
    if p.stat().st_size == 0:
        raise InputFileError(p, "empty file")
    return p


def find_file(folder: Path, names: Sequence[str], what: str) -> Path:
    """The first of `names` that exists in `folder`, or an error listing what was looked for."""
    for name in names:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise InputFileError(folder, f"no {what} file (looked for {', '.join(names)})")


def first_bad_encoding_line(path: Path, encoding: str) -> int | None:
    """The 1-based number of the first line that does not decode, or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                decoder.decode(raw)
            except UnicodeDecodeError:
                return number
    return None


def read_header(path: Path, encoding: str) -> str:
    """The first line of `path`, decoded (an error names the file when it does not decode)."""
    with path.open("rb") as fh:
        raw = fh.readline()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise InputFileError(
            path, f"not valid {encoding} text (pass --encoding, e.g. latin-1)", 1
        ) from None
    text = text.lstrip("\ufeff").rstrip("\r\n")
    if not text.strip():
        raise InputFileError(path, "the first line is empty, expected a header", 1)
    return text


def check_columns(path: Path, header: str, delimiter: str, required: Sequence[str]) -> list[str]:
    """The header's column names; an error names missing columns or a wrong delimiter."""
    names = [name.strip().strip('"') for name in next(csv.reader([header], delimiter=delimiter))]
    missing = [name for name in required if name not in names]
    if not missing:
        return names
    if len(names) == 1:
        for other in _DELIMITERS:
            if other != delimiter and other in header:
                raise InputFileError(
                    path,
                    f"columns are separated by {describe_delimiter(other)}, not "
                    f"{describe_delimiter(delimiter)} (pass --delimiter)",
                    1,
                )
    raise InputFileError(
        path, f"no column {', '.join(repr(m) for m in missing)} (columns: {', '.join(names)})", 1
    )


@dataclass
class _BadRow:
    number: int | None
    text: str
    expected: int
    actual: int


def read_columns(
    path: Path,
    columns: Sequence[str],
    *,
    delimiter: str,
    encoding: str = "utf-8",
    column_names: Sequence[str] | None = None,
    types: dict[str, pa.DataType] | None = None,
    quoting: bool = True,
) -> tuple[dict[str, pa.Array], int]:
    """Read `columns` of a delimited file; returns the columns and the number of header lines.

    With `column_names` the file has no header and its columns are named by position;
    otherwise the first line is the header and must name every wanted column. Columns are
    strings unless `types` says otherwise. Errors name the file and line.
    """
    path = require_file(path)
    if column_names is None:
        header = read_header(path, encoding)
        names = check_columns(path, header, delimiter, columns)
        header_lines = 1
    else:
        names = list(column_names)
        header_lines = 0
    positions = {name: names.index(name) for name in columns}
    types = dict(types or {})
    column_types = {name: types.get(name, pa.string()) for name in columns}
    bad: list[_BadRow] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        if not bad:
            bad.append(_BadRow(row.number, row.text, row.expected_columns, row.actual_columns))
        return "skip"

    read_opts = pacsv.ReadOptions(
        encoding=encoding,
        column_names=list(column_names) if column_names is not None else None,
        block_size=8 << 20,
    )
    parse_opts = pacsv.ParseOptions(
        delimiter=delimiter,
        quote_char='"' if quoting else False,
        invalid_row_handler=on_invalid_row,
    )
    convert_opts = pacsv.ConvertOptions(
        include_columns=list(columns),
        column_types=column_types,
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        timestamp_parsers=[pacsv.ISO8601],
    )
    try:
        table = pacsv.read_csv(path, read_opts, parse_opts, convert_opts)
    except pa.ArrowInvalid as exc:
        raise _locate(
            path, exc, positions, column_types, delimiter, encoding, header_lines
        ) from None
    if bad:
        row = bad[0]
        line = row.number if row.number is not None else _find_line(path, row.text, encoding)
        raise InputFileError(
            path,
            f"expected {row.expected} {describe_delimiter(delimiter)}-separated columns, "
            f"found {row.actual}",
            line,
        )
    if table.num_rows == 0:
        raise InputFileError(path, "no rows after the header" if header_lines else "empty file")
    return {name: table.column(name).combine_chunks() for name in columns}, header_lines


def _find_line(path: Path, text: str, encoding: str) -> int | None:
    with path.open(encoding=encoding, errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if line.rstrip("\r\n") == text:
                return number
    return None


def _locate(
    path: Path,
    exc: pa.ArrowInvalid,
    positions: dict[str, int],
    column_types: dict[str, pa.DataType],
    delimiter: str,
    encoding: str,
    header_lines: int,
) -> InputFileError:
    """Turn a pyarrow error into one line naming the file and, where we can find it, the line."""
    message = str(exc)
    if "UTF8" in message or "utf8" in message.lower():
        line = first_bad_encoding_line(path, "utf-8")
        return InputFileError(path, "not valid UTF-8 text (pass --encoding, e.g. latin-1)", line)
    if "Empty CSV file" in message:
        return InputFileError(path, "empty file")
    if "conversion error" in message.lower() or "invalid value" in message.lower():
        typed = {name: pos for name, pos in positions.items() if column_types[name] != pa.string()}
        found = _first_unconvertible(path, typed, column_types, delimiter, encoding, header_lines)
        if found is not None:
            line, name, value = found
            return InputFileError(
                path, f"column {name!r}: {value!r} is not {_kind(column_types[name])}", line
            )
    return InputFileError(path, message.splitlines()[0])


def _kind(dtype: pa.DataType) -> str:
    if pa.types.is_integer(dtype):
        return "an integer"
    if pa.types.is_floating(dtype):
        return "a number"
    if pa.types.is_timestamp(dtype):
        return "a timestamp"
    return str(dtype)


def _first_unconvertible(
    path: Path,
    typed: dict[str, int],
    column_types: dict[str, pa.DataType],
    delimiter: str,
    encoding: str,
    header_lines: int,
) -> tuple[int, str, str] | None:
    """Scan the file for the first value of a typed column that does not convert."""
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        for number, row in enumerate(reader, start=1):
            if number <= header_lines:
                continue
            for name, pos in typed.items():
                if pos >= len(row):
                    continue
                value = row[pos]
                try:
                    pc.cast(pa.array([value]), column_types[name])
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    return reader.line_num, name, value
    return None


def to_seconds(
    array: pa.Array, path: Path, column: str, header_lines: int, *, unit: float = 1.0
) -> np.ndarray:
    """A time column as float64 unix seconds: numbers (scaled by `unit`) or ISO timestamps.

    An error names the first line whose value is neither.
    """
    if pa.types.is_timestamp(array.type):
        return array.cast(pa.timestamp("ms")).cast(pa.int64()).to_numpy().astype(np.float64) / 1000
    if not pa.types.is_string(array.type):
        return array.cast(pa.float64()).to_numpy() * unit
    try:
        as_number = pc.cast(pc.utf8_trim_whitespace(array), pa.float64())
        return as_number.to_numpy(zero_copy_only=False) * unit
    except pa.ArrowInvalid:
        pass
    for stamp_type in (
        pa.timestamp("ms", tz="UTC"),
        pa.timestamp("ms"),
    ):  # with or without a zone (UTC)
        try:
            stamps = pc.cast(pc.utf8_trim_whitespace(array), stamp_type)
            return stamps.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64) / 1000
        except pa.ArrowInvalid:
            pass
    for index, value in enumerate(array.to_pylist()):
        try:
            float(value)
        except ValueError:
            raise InputFileError(
                path,
                f"column {column!r}: {value!r} is not a number (unix time) or an ISO timestamp",
                index + 1 + header_lines,
            ) from None
    raise InputFileError(
        path, f"column {column!r}: mixes numbers and timestamps"
    )  # pragma: no cover


def factorize(
    array: pa.Array, path: Path, column: str, header_lines: int
) -> tuple[np.ndarray, list[str]]:
    """Integer codes (first appearance order) and the distinct keys of an id column.

    Empty ids are refused with the line where the first one is.
    """
    if pa.types.is_string(array.type):
        empty = pc.equal(pc.utf8_length(array), 0)
        if pc.any(empty).as_py():
            index = int(pc.index(empty, True).as_py())
            raise InputFileError(path, f"column {column!r} is empty", index + 1 + header_lines)
    encoded = array.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    keys = [str(k) for k in encoded.dictionary.to_pylist()]
    return codes, keys
