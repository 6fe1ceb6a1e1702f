"""Damaged import files, made on purpose: a valid sample of each format, mutations that damage
it the way real files get damaged, and the judgement of what `alkd data import` did with one.

Used by the property-based tests (tests/data/test_fuzz_import.py, through hypothesis) and by
the larger run in benchmarks/fuzz_import.py (1,000 files per format, counts in docs).

What an import of a damaged file may do: refuse it (exit 2, one line that names the file),
or accept it when the damage left valid data (exit 0, and then the stored dataset must hold
plausible data: finite times between 1970 and the year 3000, times where the sample had
them). Anything else is a finding: an internal error (exit 1), a traceback, or garbage
accepted.
"""

from __future__ import annotations

import contextlib
import io
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alkd_tui.cli.main import main as alkd_main

FORMATS = ("alkdrec", "yoochoose", "diginetica", "retailrocket", "recbole", "movielens", "csv")
#: Formats whose samples carry click times (the dataset must keep them).
TIMED = {"yoochoose", "diginetica", "retailrocket", "recbole", "movielens", "csv"}
LATEST_TIME_S = 32_503_680_000  # 3000-01-01
START = 1_600_000_000

ITEMS = [f"{100 + k}" for k in range(8)]


def _clicks(rng: random.Random, n_sessions: int = 40) -> list[tuple[int, str, float]]:
    """(session, item, unix seconds) clicks, each session 2-5 clicks a minute apart."""
    rows = []
    t = float(START)
    for s in range(n_sessions):
        for _ in range(rng.randint(2, 5)):
            rows.append((s + 1, rng.choice(ITEMS), t))
            t += 60 + rng.randint(0, 30)
        t += 86_400  # a day apart: time splits of a week leave training sessions
    return rows


def write_sample(fmt: str, folder: Path, rng: random.Random) -> Path:
    """Write a valid sample of `fmt` under `folder`; returns what to import."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = _clicks(rng)
    if fmt == "alkdrec":
        (folder / "items.tsv").write_text(
            "item_id\ttitle\n" + "".join(f"{i}\tGame {i}\n" for i in ITEMS)
        )
        lines = []
        for s in range(30):
            split = ("train", "train", "train", "valid", "test")[s % 5]
            seq = " ".join(rng.choice(ITEMS) for _ in range(rng.randint(1, 4)))
            lines.append(f"{s}\t{split}\t{seq}\t{rng.choice(ITEMS)}\n")
        (folder / "sessions.tsv").write_text("session_id\tsplit\titems\ttarget\n" + "".join(lines))
        return folder
    if fmt == "yoochoose":
        if rng.random() < 0.5:
            path = folder / "yoochoose-clicks.dat"
            path.write_text("".join(
                f"{s},{_iso(t)},{i},0\n" for s, i, t in rows))  # fmt: skip
            return path
        cut = len(rows) * 3 // 4
        head = "SessionId\tItemId\tTime\n"
        (folder / "train.tsv").write_text(
            head + "".join(f"{s}\t{i}\t{t}\n" for s, i, t in rows[:cut])
        )
        (folder / "test.tsv").write_text(
            head + "".join(f"{s}\t{i}\t{t}\n" for s, i, t in rows[cut:])
        )
        return folder
    if fmt == "diginetica":
        path = folder / "train-item-views.csv"
        path.write_text("session_id;user_id;item_id;timeframe;eventdate\n" + "".join(
            f"{s};NA;{i};{int((t - START) % 86400 * 1000)};{_day(t)}\n" for s, i, t in rows))  # fmt: skip
        return path
    if fmt == "retailrocket":
        path = folder / "events.csv"
        path.write_text("timestamp,visitorid,event,itemid,transactionid\n" + "".join(
            f"{int(t * 1000)},{s},view,{i},\n" for s, i, t in rows))  # fmt: skip
        return path
    if fmt == "recbole":
        (folder / "toy.inter").write_text(
            "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
            + "".join(f"u{s}\t{i}\t{rng.randint(1, 5)}\t{t}\n" for s, i, t in rows)
        )
        (folder / "toy.item").write_text(
            "item_id:token\tmovie_title:token_seq\n" + "".join(f"{i}\tFilm {i}\n" for i in ITEMS)
        )
        return folder
    if fmt == "movielens":
        (folder / "u.data").write_text(
            "".join(f"{s}\t{i}\t{rng.randint(1, 5)}\t{int(t)}\n" for s, i, t in rows)
        )
        genres = "|".join(["0"] * 19)
        (folder / "u.item").write_bytes("".join(
            f"{i}|Film {i} é|01-Jan-1995||http://x|{genres}\n" for i in ITEMS).encode("latin-1"))  # fmt: skip
        return folder
    if fmt == "csv":
        path = folder / "clicks.csv"
        path.write_text(
            "session_id,item_id,timestamp\n" + "".join(f"{s},{i},{t}\n" for s, i, t in rows)
        )
        return path
    raise ValueError(fmt)


def _iso(t: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _day(t: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d")


# -- mutations ------------------------------------------------------------------------------

BAD_VALUES = [
    b"", b"NaN", b"nan", b"-1", b"-1600000000", b"inf", b"-inf", b"Infinity", b"1e300",
    b"1e20", b"NULL", b"\x00", b'"', b'"abc', b"\xff\xfe", b"\xe9t\xe9", b"9" * 40,
    b"2016-13-45", b"x" * 200_000, b" ", b"0x1F", b"1,5", b"\t",
]  # fmt: skip


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _delimiter(line: bytes) -> bytes:
    for d in (b"\t", b";", b"::", b"|", b","):
        if d in line:
            return d
    return b","


def _pick_line(lines: list[bytes], rng: random.Random, data_only: bool = True) -> int:
    start = 1 if data_only and len(lines) > 2 else 0
    return rng.randrange(start, max(start + 1, len(lines) - 1))


def m_flip(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if buf:
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    return bytes(buf)


def m_bad_byte(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice([b"\xe9", b"\xff", b"\xc3\x28", b"\x80"]) + data[at:]


def m_field(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    k = _pick_line(lines, rng)
    d = _delimiter(lines[k])
    fields = lines[k].split(d)
    fields[rng.randrange(len(fields))] = rng.choice(BAD_VALUES)
    lines[k] = d.join(fields)
    return b"\n".join(lines)


def m_last_field(data: bytes, rng: random.Random) -> bytes:
    """A bad value in the last or a time-like column of every few lines."""
    lines = _lines(data)
    d = _delimiter(lines[0])
    value = rng.choice(BAD_VALUES[:12])
    for k in range(1, len(lines), rng.randint(1, 5)):
        fields = lines[k].split(d)
        if len(fields) > 1:
            fields[-1 if rng.random() < 0.5 else 0] = value
            lines[k] = d.join(fields)
    return b"\n".join(lines)


def m_delete_line(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    del lines[_pick_line(lines, rng, data_only=False)]
    return b"\n".join(lines)


def m_dup_line(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    k = _pick_line(lines, rng, data_only=False)
    lines.insert(k, lines[k])
    return b"\n".join(lines)


def m_truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def m_empty(data: bytes, rng: random.Random) -> bytes:
    return b""


def m_header_only(data: bytes, rng: random.Random) -> bytes:
    return _lines(data)[0] + b"\n"


def m_cr_only(data: bytes, rng: random.Random) -> bytes:
    return data.replace(b"\n", b"\r")


def m_crlf(data: bytes, rng: random.Random) -> bytes:
    return data.replace(b"\n", b"\r\n")


def m_nul_header(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    at = rng.randrange(len(lines[0]) + 1)
    lines[0] = lines[0][:at] + b"\x00" + lines[0][at:]
    return b"\n".join(lines)


def m_nul(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + b"\x00" * rng.randint(1, 64) + data[at:]


def m_quote(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    k = _pick_line(lines, rng)
    lines[k] = b'"' + lines[k]
    return b"\n".join(lines)


def m_huge_line(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    k = _pick_line(lines, rng)
    lines[k] = lines[k] + b"y" * rng.choice([140_000, 2_000_000, 20_000_000])
    return b"\n".join(lines)


def m_bom(data: bytes, rng: random.Random) -> bytes:
    return b"\xef\xbb\xbf" + data


def m_extra_column(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    k = _pick_line(lines, rng, data_only=False)
    lines[k] = lines[k] + _delimiter(lines[k]) + b"extra"
    return b"\n".join(lines)


def m_drop_column(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    k = _pick_line(lines, rng, data_only=False)
    d = _delimiter(lines[k])
    lines[k] = d.join(lines[k].split(d)[:-1])
    return b"\n".join(lines)


def m_swap_delimiter(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    k = _pick_line(lines, rng, data_only=False)
    d = _delimiter(lines[k])
    lines[k] = lines[k].replace(d, rng.choice([b",", b";", b"\t", b" "]))
    return b"\n".join(lines)


def m_blank_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    lines.insert(_pick_line(lines, rng, data_only=False), b"")
    return b"\n".join(lines)


def m_utf16(data: bytes, rng: random.Random) -> bytes:
    return data.decode("utf-8", "replace").encode("utf-16")


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    name.removeprefix("m_").replace("_", "-"): fn
    for name, fn in list(globals().items())
    if name.startswith("m_") and callable(fn)
}

#: File-level damage in a folder: (name, what it does to one file of the sample).
FILE_DAMAGE = ("unreadable", "folder-instead", "zero-bytes")


def damage_file(path: Path, how: str) -> None:
    """Make one file of a sample unreadable (a dangling link), a folder, or empty."""
    if how == "unreadable":
        path.unlink()
        path.symlink_to(path.parent / "no-such-target")
    elif how == "folder-instead":
        path.unlink()
        path.mkdir()
    elif how == "zero-bytes":
        path.write_bytes(b"")


@dataclass
class Damaged:
    """A damaged sample: what to import, and what was done to it."""

    fmt: str
    path: Path
    what: list[str]


def make_damaged(
    fmt: str, folder: Path, rng: random.Random, names: list[str] | None = None
) -> Damaged:
    """A sample of `fmt` with mutations (`names`, else 1-3 drawn) applied to one of its files;
    a name from `FILE_DAMAGE` damages a whole file of a folder (without `names`, drawn now
    and then)."""
    target = write_sample(fmt, folder, rng)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    victim = rng.choice(files)
    whole = [n for n in names or [] if n in FILE_DAMAGE]
    if whole or (names is None and len(files) > 1 and rng.random() < 0.08):
        how = whole[0] if whole else rng.choice(FILE_DAMAGE)
        damage_file(victim, how)
        return Damaged(fmt, target, [f"{victim.name}: {how}"])
    data = victim.read_bytes()
    names = names or [rng.choice(sorted(MUTATIONS)) for _ in range(rng.randint(1, 3))]
    for name in names:
        data = MUTATIONS[name](data, rng)
    victim.write_bytes(data)
    return Damaged(fmt, target, [f"{victim.name}: {name}" for name in names])


# -- judging an import ------------------------------------------------------------------------


@dataclass
class Verdict:
    """What happened: accepted, refused, internal (exit 1), traceback, garbage (accepted but
    implausible), and the message."""

    outcome: str
    code: int
    message: str


def _datasets(db: Path) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT COUNT(*) FROM dataset").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def judge(damaged: Damaged, db: Path, name: str) -> Verdict:
    """Import `damaged` with `alkd data import` (in this process, as the CLI runs it) into
    `db` as `name`, and judge what happened."""
    before = _datasets(db)
    err = io.StringIO()
    out = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = alkd_main(
            ["--db", str(db), "data", "import", damaged.fmt, str(damaged.path), "--name", name]
        )
    text = err.getvalue()
    lines = [line for line in text.splitlines() if line.startswith("alkd: error:")]
    message = lines[-1] if lines else ""
    if "Traceback" in text:
        return Verdict("traceback", code, text[-400:])
    if code == 2:
        if len(lines) != 1 or _datasets(db) != before:
            return Verdict(
                "internal",
                code,
                "refused, but " + (text[-300:] if len(lines) != 1 else "the DB changed"),
            )
        if not _names_the_input(message, damaged.path):
            return Verdict("internal", code, "refused without naming the file: " + message)
        return Verdict("refused", code, message)
    if code != 0:
        return Verdict("internal", code, message or text[-300:])
    problem = implausible(db, name, damaged.fmt)
    if problem:
        return Verdict("garbage", code, problem)
    return Verdict("accepted", code, "")


def _names_the_input(message: str, path: Path) -> bool:
    return str(path) in message or str(path.parent) in message or path.name in message


def implausible(db: Path, name: str, fmt: str) -> str:
    """Why the stored dataset is not plausible data (empty when it is)."""
    con = sqlite3.connect(db)
    try:
        times = [
            t
            for (t,) in con.execute(
                "SELECT s.start_time FROM session s JOIN dataset d ON d.id = s.dataset_id WHERE d.name = ?",
                (name,),
            )
        ]
    finally:
        con.close()
    if not times:
        return "no sessions stored"
    known = [t for t in times if t is not None and t == t]
    if fmt in TIMED and not known:
        return "the click times were dropped"
    bad = [t for t in known if not (0 <= t <= LATEST_TIME_S)]
    if bad:
        return f"session start time {bad[0]!r} is not a plausible unix time"
    return ""


def fuzz_one(fmt: str, seed: int, work: Path, db: Path) -> tuple[Damaged, Verdict]:
    """Make and judge one damaged file of `fmt` from `seed`."""
    rng = random.Random(f"{fmt}-{seed}")
    folder = work / f"{fmt}-{seed}"
    damaged = make_damaged(fmt, folder, rng)
    verdict = judge(damaged, db, f"f{seed}")
    return damaged, verdict


__all__ = ["FORMATS", "MUTATIONS", "Damaged", "Verdict", "fuzz_one", "judge", "make_damaged"]
