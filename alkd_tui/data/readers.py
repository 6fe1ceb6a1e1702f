"""Reading delimited text files fast (pyarrow) with errors that name the file and line.

The fast path reads whole columns at once; only when something is wrong do we go back to
the file, line by line, to say exactly where.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from alkd_tui.errors import InputFileError, shown

_DELIMITERS = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
#: The longest line a text file may have: no format alkd reads needs more.
MAX_LINE_BYTES = 1 << 20
#: Click times must lie between 1970 and the year 3000 (unix seconds).
LATEST_TIME_S = 32_503_680_000.0
_BLOCK = 8 << 20
_LONE_CR = re.compile(rb"\r(?!\n)")
# The csv module's own limit is 128 KiB a field; lines may be longer (MAX_LINE_BYTES).
csv.field_size_limit(MAX_LINE_BYTES + 1)
_checked: dict[tuple[str, int, int, str], None] = {}


def describe_delimiter(delimiter: str) -> str:
    """A printable name for a delimiter ("tab", "','")."""
    return _DELIMITERS.get(delimiter, repr(delimiter))


def require_file(path: str | Path) -> Path:
    """`path` as a Path, or one clear error when it is missing, a folder, or empty."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InputFileError(p, "no such file" if not p.is_symlink() else "is a link to nothing")
    if p.is_dir():
        raise InputFileError(p, "is a folder, expected a file")
    if not p.is_file():
        raise InputFileError(p, "is not a regular file")
    if p.stat().st_size == 0:
        raise InputFileError(p, "empty file")
    return p


def _decoder(path: Path, encoding: str) -> codecs.IncrementalDecoder:
    try:
        return codecs.getincrementaldecoder(encoding)()
    except LookupError:
        raise InputFileError(
            path, f"--encoding {encoding!r} is not an encoding Python knows"
        ) from None


def encoding_name(encoding: str) -> str:
    """How to name an encoding in a message: UTF-8, UTF-16, latin-1..."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    return name.upper() if name.startswith("utf") else encoding


def _line_at(block: bytes, position: int, first_line: int) -> int:
    return first_line + block.count(b"\n", 0, position)


def check_text(path: Path, encoding: str) -> None:
    """Refuse, with the line, a file that is not plain text alkd can read: bytes that do not
    decode as `encoding` (the most common damage: say which encoding, offer --encoding), NUL
    bytes, line ends of a lone CR, lines over `MAX_LINE_BYTES`. One pass in 8 MiB blocks,
    done once per file and encoding in a process."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, encoding)
    if key in _checked:
        return
    decoder = _decoder(path, encoding)
    bytewise = "a\n".encode(encoding, "replace") == b"a\n"  # ASCII-compatible: check bytes too
    line = 1
    run = 0  # bytes of the current line before this block
    with path.open("rb") as fh:
        first = True
        while block := fh.read(_BLOCK):
            if first and block.startswith((b"\xff\xfe", b"\xfe\xff")) and bytewise:
                raise InputFileError(
                    path, "starts with a UTF-16 byte order mark: pass --encoding utf-16", 1
                )
            first = False
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                where = _line_at(block, exc.start, line) if bytewise else None
                raise InputFileError(
                    path,
                    f"not valid {encoding_name(encoding)} text (byte {block[exc.start]:#04x}); pass --encoding, e.g. latin-1",
                    where,
                ) from None
            if bytewise:
                run = _check_block(path, block, line, run)
                line += block.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputFileError(
                path,
                f"not valid {encoding_name(encoding)} text: it ends in the middle of a character",
                line,
            ) from None
    _checked[key] = None


def _check_block(path: Path, block: bytes, line: int, run: int) -> int:
    """Check one block of an ASCII-compatible file; returns the length of its last line so far."""
    nul = block.find(b"\0")
    if nul >= 0:
        raise InputFileError(
            path, "holds a NUL byte: not a text file, or damaged", _line_at(block, nul, line)
        )
    lone = _LONE_CR.search(block)
    if lone is not None and lone.start() < len(block) - 1:
        what = (
            "ends its lines with a lone CR (old Mac style): convert them to LF"
            if b"\n" not in block[: lone.start()] and line == 1
            else "holds a carriage return (CR) that ends no line"
        )
        raise InputFileError(path, what, _line_at(block, lone.start(), line))
    ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
    if ends.size == 0:
        if run + len(block) > MAX_LINE_BYTES:
            raise InputFileError(path, f"has a line longer than {MAX_LINE_BYTES:,} bytes", line)
        return run + len(block)
    lengths = np.diff(ends, prepend=-1) - 1
    lengths[0] += run
    long = np.flatnonzero(lengths > MAX_LINE_BYTES)
    if long.size:
        raise InputFileError(
            path, f"has a line longer than {MAX_LINE_BYTES:,} bytes", line + int(long[0])
        )
    tail = len(block) - int(ends[-1]) - 1
    if tail > MAX_LINE_BYTES:
        raise InputFileError(
            path, f"has a line longer than {MAX_LINE_BYTES:,} bytes", line + int(ends.size)
        )
    return tail


def text_file(path: str | Path, encoding: str) -> Path:
    """`path`, checked to be a non-empty readable text file in `encoding` (`check_text`)."""
    checked = require_file(path)
    try:
        check_text(checked, encoding)
    except PermissionError:
        raise InputFileError(checked, "cannot be read (permission denied)") from None
    except IsADirectoryError:
        raise InputFileError(checked, "is a folder, expected a file") from None
    return checked


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
    text_file(path, encoding)
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
    try:
        fields = next(csv.reader([header], delimiter=delimiter))
    except csv.Error as exc:
        raise InputFileError(path, f"the header cannot be read: {exc}", 1) from None
    names = [name.strip().strip('"') for name in fields]
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
    path = text_file(path, encoding)
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

    bom = column_names is None and _starts_with_bom(path)
    read_opts = pacsv.ReadOptions(
        encoding=encoding,
        # A UTF-8 byte order mark would stick to the first column's name: name them ourselves.
        column_names=list(column_names) if column_names is not None else (names if bom else None),
        skip_rows=1 if bom else 0,
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
        null_values=[],  # "NULL", "NaN", "" in a number column are errors, not missing values
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


def _starts_with_bom(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(3) == codecs.BOM_UTF8


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
                path, f"column {name!r}: {shown(value)} is not {_kind(column_types[name])}", line
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
        try:
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
        except csv.Error as exc:
            raise InputFileError(
                path, f"cannot be read as delimited text: {exc}", reader.line_num
            ) from None
    return None


def to_seconds(
    array: pa.Array,
    path: Path,
    column: str,
    header_lines: int,
    *,
    unit: float = 1.0,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """A time column as float64 unix seconds: numbers (scaled by `unit`) or ISO timestamps.

    An error names the first line whose value is neither, or whose time is not plausible
    (not finite, before 1970 or after the year 3000). `rows`: the file row of each value,
    where the column was filtered.
    """
    if pa.types.is_timestamp(array.type):
        seconds = (
            array.cast(pa.timestamp("ms"))
            .cast(pa.int64())
            .to_numpy(zero_copy_only=False)
            .astype(np.float64)
            / 1000
        )
    elif not pa.types.is_string(array.type):
        seconds = array.cast(pa.float64()).to_numpy(zero_copy_only=False) * unit
    else:
        seconds = _strings_to_seconds(array, path, column, header_lines, unit, rows)
    check_times(seconds, array, path, column, header_lines, unit, rows)
    return seconds


def _strings_to_seconds(
    array: pa.Array,
    path: Path,
    column: str,
    header_lines: int,
    unit: float,
    rows: np.ndarray | None,
) -> np.ndarray:
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
        except (TypeError, ValueError):
            raise InputFileError(
                path,
                f"column {column!r}: {shown(value)} is not a number (unix time) or an ISO timestamp",
                _line(index, header_lines, rows),
            ) from None
    raise InputFileError(path, f"column {column!r}: mixes numbers and timestamps")


def _line(index: int, header_lines: int, rows: np.ndarray | None) -> int:
    return int(rows[index] if rows is not None else index) + 1 + header_lines


def check_times(
    seconds: np.ndarray,
    raw: pa.Array,
    path: Path,
    column: str,
    header_lines: int,
    unit: float = 1.0,
    rows: np.ndarray | None = None,
) -> None:
    """Refuse the first time that is missing, not finite, before 1970 or after 3000."""
    bad = ~(np.isfinite(seconds) & (seconds >= 0) & (seconds <= LATEST_TIME_S))
    if not bad.any():
        return
    index = int(np.flatnonzero(bad)[0])
    value = raw[index].as_py()
    what = "an empty value" if value is None or value == "" else shown(value)
    hint = ""
    if np.isfinite(seconds[index]) and seconds[index] > LATEST_TIME_S and unit == 1.0:
        hint = " (milliseconds? the csv format takes --time-unit 0.001)"
    raise InputFileError(
        path,
        f"column {column!r}: {what} is not a plausible time (unix seconds from 1970 to 3000){hint}",
        _line(index, header_lines, rows),
    )


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
