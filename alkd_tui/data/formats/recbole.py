"""RecBole atomic files: an `.inter` file of interactions (header `name:type`, tab-separated)
with an optional `.item` file; or a session benchmark's pre-split `NAME.train.inter`,
`NAME.valid.inter`, `NAME.test.inter` (session_id, item_id_list, item_id)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from alkd_tui.data.canonical import SPLIT_NAMES, ClickLog, SessionDataset
from alkd_tui.data.formats._common import click_log, lookup, split_by_gap, split_tokens
from alkd_tui.data.formats.options import ReaderOptions
from alkd_tui.data.readers import read_columns, read_header, require_file, text_file
from alkd_tui.errors import InputFileError

DEFAULT_GAP = 3600.0


def _fields(path: Path, encoding: str) -> dict[str, str]:
    """Field name -> full header name ("item_id" -> "item_id:token")."""
    header = read_header(path, encoding)
    names = header.split("\t")
    if len(names) == 1 and "," in header:
        raise InputFileError(path, "columns are separated by ',', RecBole atomic files use tabs", 1)
    return {name.split(":", 1)[0]: name for name in names}


def _need(path: Path, fields: dict[str, str], *wanted: str) -> list[str]:
    missing = [w for w in wanted if w not in fields]
    if missing:
        raise InputFileError(
            path,
            f"no field {', '.join(repr(m) for m in missing)} (fields: {', '.join(fields.values())})",
            1,
        )
    return [fields[w] for w in wanted]


def _split_files(path: Path) -> list[Path] | None:
    folder = path if path.is_dir() else None
    if folder is None:
        return None
    for train in sorted(folder.glob("*.train.inter")):
        stem = train.name.removesuffix(".train.inter")
        files = [folder / f"{stem}.{split}.inter" for split in SPLIT_NAMES]
        if all(f.is_file() for f in files):
            return files
    return None


def _item_file(inter: Path) -> Path | None:
    stem = inter.name.split(".")[0]
    candidate = inter.parent / f"{stem}.item"
    return candidate if candidate.is_file() else None


def _catalogue(path: Path, encoding: str) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    titles: dict[str, str] = {}
    attributes: dict[str, dict[str, Any]] = {}
    text_file(path, encoding)
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        try:
            _read_catalogue_rows(path, reader, titles, attributes)
        except csv.Error as exc:
            raise InputFileError(
                path, f"cannot be read as tab-separated text: {exc}", reader.line_num
            ) from None
    return titles, attributes


def _read_catalogue_rows(
    path: Path, reader: Any, titles: dict[str, str], attributes: dict[str, dict[str, Any]]
) -> None:
    header = [name.split(":", 1)[0] for name in next(reader, [])]
    if "item_id" not in header:
        raise InputFileError(path, "no field 'item_id'", 1)
    key = header.index("item_id")
    title_pos = next((i for i, n in enumerate(header) if "title" in n or n == "name"), None)
    for row in reader:
        if len(row) <= key:
            continue
        item = row[key]
        if title_pos is not None and title_pos < len(row) and row[title_pos]:
            titles[item] = row[title_pos]
        attrs = {
            n: row[i]
            for i, n in enumerate(header)
            if i not in (key, title_pos) and i < len(row) and row[i]
        }
        if attrs:
            attributes[item] = attrs


def _presplit(files: list[Path], encoding: str) -> SessionDataset:
    parts = []
    for code, path in enumerate(files):
        fields = _fields(path, encoding)
        sid, seq, target = _need(path, fields, "session_id", "item_id_list", "item_id")
        cols, header = read_columns(
            path, [sid, seq, target], delimiter="\t", encoding=encoding, quoting=False
        )
        parts.append((code, path, cols, header, sid, seq, target))
    # Items by first appearance over train, valid, test (inputs before targets, row by row).
    tokens = []
    for _, _, cols, _, _, seq, _ in parts:
        flat, offsets = split_tokens(cols[seq])
        tokens.append((flat, offsets))
    vocab: dict[str, int] = {}
    for (flat, offsets), (_, _, cols, _, _, _, target) in zip(tokens, parts, strict=True):
        flat_py, targets_py = flat.to_pylist(), cols[target].to_pylist()
        for row, tgt in enumerate(targets_py):
            for tok in flat_py[offsets[row] : offsets[row + 1]]:
                vocab.setdefault(tok, len(vocab))
            vocab.setdefault(tgt, len(vocab))
    index = pa.array(list(vocab))
    ids, splits, offsets_all, inputs, targets = [], [], [np.zeros(1, np.int64)], [], []
    total = 0
    for (flat, offsets), (code, path, cols, header, sid, seq, target) in zip(
        tokens, parts, strict=True
    ):
        lengths = np.diff(offsets)
        if (lengths == 0).any():
            raise InputFileError(
                path,
                "field 'item_id_list' is empty",
                int(np.flatnonzero(lengths == 0)[0]) + 1 + header,
            )
        row_of = np.repeat(np.arange(len(lengths)), lengths)
        inputs.append(lookup(flat, index, path, seq, row_of, header))
        targets.append(lookup(cols[target], index, path, target, None, header))
        offsets_all.append(offsets[1:] + total)
        total += int(offsets[-1])
        ids.extend(cols[sid].to_pylist())
        splits.append(np.full(len(lengths), code, dtype=np.int8))
    return SessionDataset(
        item_ids=list(vocab),
        session_ids=[str(i) for i in ids],
        split=np.concatenate(splits),
        offsets=np.concatenate(offsets_all),
        items=np.concatenate(inputs),
        targets=np.concatenate(targets),
    )


def load(
    path: Path, opts: ReaderOptions, session_gap: float | None = None
) -> ClickLog | SessionDataset:
    """Read RecBole atomic files (a folder, or one `.inter` file)."""
    encoding = opts.encoding or "utf-8"
    files = _split_files(path)
    if files is not None:
        ds = _presplit(files, encoding)
        item_file = _item_file(files[0])
    else:
        if path.is_dir():
            inters = sorted(p for p in path.glob("*.inter"))
            if len(inters) != 1:
                raise InputFileError(
                    path,
                    f"expected one .inter file or NAME.{{train,valid,test}}.inter, found {len(inters)} .inter files",
                )
            path = inters[0]
        path = require_file(path)
        fields = _fields(path, encoding)
        (item,) = _need(path, fields, "item_id")
        if "session_id" in fields:
            key, by_user = fields["session_id"], False
        elif "user_id" in fields:
            key, by_user = fields["user_id"], True
        else:
            raise InputFileError(path, "no field 'session_id' or 'user_id'", 1)
        time = fields.get("timestamp")
        wanted = [key, item] + ([time] if time else [])
        cols, header = read_columns(path, wanted, delimiter="\t", encoding=encoding, quoting=False,
                                    types={time: pa.float64()} if time else None)  # fmt: skip
        log = click_log(path, cols, header, session=key, item=item, time=time)
        if by_user:
            if not time:
                raise InputFileError(path, "sessions by user need a 'timestamp' field", 1)
            log = split_by_gap(log, session_gap or DEFAULT_GAP)
        item_file = _item_file(path)
        ds = log
    if item_file is not None:
        titles, attributes = _catalogue(item_file, encoding)
        if isinstance(ds, SessionDataset):
            ds.titles = [titles.get(i) for i in ds.item_ids]
            ds.attributes = [attributes.get(i) for i in ds.item_ids] if attributes else None
        else:
            ds.titles, ds.attributes = titles, attributes or None
    return ds
