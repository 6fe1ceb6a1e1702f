"""Bad input: one line naming the file (and line), exit code 2, and the database unchanged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from alkd_tui.data import importer

GOOD = "session_id,item_id,timestamp\n" + "".join(
    f"{s},{i},{s * 100 + j}\n" for s in range(6) for j, i in enumerate("abc")
)


def db_content(db: Path) -> tuple[list[str], int, int]:
    con = sqlite3.connect(db)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM dataset ORDER BY id")]
        return (
            names,
            con.execute("SELECT COUNT(*) FROM item").fetchone()[0],
            con.execute("SELECT COUNT(*) FROM session").fetchone()[0],
        )
    finally:
        con.close()


@pytest.fixture
def existing(alkd, tmp_path: Path, db_path: Path) -> tuple[list[str], int, int]:  # type: ignore[no-untyped-def]
    """A database that already holds one dataset; returns its content."""
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    result = alkd("data", "import", "csv", good, "--name", "kept", "--min-item-support", "1")
    assert result.code == 0, result.err
    return db_content(db_path)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


CASES = [
    # (id, format, file name, content, extra args, expected message parts)
    ("missing file", "csv", None, None, [], ["nope.csv", "no such file"]),
    (
        "unknown format",
        "parquet-ish",
        "x.csv",
        GOOD,
        [],
        ["unknown format 'parquet-ish'", "known: alkdrec"],
    ),
    (
        "wrong delimiter",
        "csv",
        "x.csv",
        GOOD.replace(",", ";"),
        [],
        ["x.csv line 1", "separated by ';'", "--delimiter"],
    ),
    (
        "misnamed column",
        "csv",
        "x.csv",
        GOOD.replace("item_id", "product"),
        [],
        ["x.csv line 1", "no column 'item_id'", "columns: session_id, product, timestamp"],
    ),
    (
        "missing column",
        "diginetica",
        "train-item-views.csv",
        "session_id;user_id;item_id;eventdate\n1;NA;5;2016-01-01\n",
        [],
        ["line 1", "no column 'timeframe'"],
    ),
    (
        "non-numeric time",
        "csv",
        "x.csv",
        GOOD + "9,a,yesterday\n",
        [],
        ["x.csv line 20", "'yesterday' is not a number"],
    ),
    (
        "non-numeric time in a typed column",
        "yoochoose",
        "y.tsv",
        "SessionId\tItemId\tTime\n1\t2\t3.5\n1\t3\tsoon\n",
        [],
        ["y.tsv line 3", "'soon' is not a number"],
    ),
    ("empty file", "csv", "x.csv", "", [], ["x.csv", "empty file"]),
    (
        "header only",
        "csv",
        "x.csv",
        "session_id,item_id,timestamp\n",
        [],
        ["x.csv", "no rows after the header"],
    ),
    (
        "unreadable encoding",
        "csv",
        "x.csv",
        (GOOD + "7,caf\xe9,1\n").encode("latin-1"),
        [],
        ["x.csv line 20", "not valid UTF-8", "--encoding"],
    ),
    (
        "ragged row",
        "csv",
        "x.csv",
        GOOD.replace("1,a,100\n", "1,a\n"),
        [],
        ["x.csv line 5", "expected 3", "found 2"],
    ),
    (
        "unknown item in alkdrec",
        "alkdrec",
        "folder",
        None,
        [],
        ["sessions.tsv line 3", "unknown item 'Z9'"],
    ),
    (
        "bad split in alkdrec",
        "alkdrec",
        "folder-split",
        None,
        [],
        ["sessions.tsv line 2", "'training' is not train, valid or test"],
    ),
    (
        "option for another format",
        "alkdrec",
        "folder-good",
        None,
        ["--session-col", "sid"],
        ["--session-col does not apply to the alkdrec format"],
    ),
    (
        "preprocessing on given splits",
        "alkdrec",
        "folder-good",
        None,
        ["--test-days", "3"],
        ["--test-days does not apply here"],
    ),
    (
        "bad option value",
        "csv",
        "x.csv",
        GOOD,
        ["--test-fraction", "1.5"],
        ["--test-fraction", "less than 1"],
    ),
    ("bad dataset name", "csv", "x.csv", GOOD, [], ["--name 'bad name'"]),
]


def _alkdrec_folder(tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / kind
    folder.mkdir()
    (folder / "items.tsv").write_text("item_id\ttitle\nA1\tAlpha\nB2\tBeta\n")
    sessions = {
        "folder": "session_id\tsplit\titems\ttarget\n0\ttrain\tA1\tB2\n1\ttest\tA1 Z9\tB2\n",
        "folder-split": "session_id\tsplit\titems\ttarget\n0\ttraining\tA1\tB2\n",
        "folder-good": "session_id\tsplit\titems\ttarget\n0\ttrain\tA1\tB2\n",
    }[kind]
    (folder / "sessions.tsv").write_text(sessions)
    return folder


@pytest.mark.parametrize(
    ("fmt", "name", "content", "extra", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    alkd, existing, tmp_path: Path, db_path: Path, fmt: str, name: str | None, content: str | bytes | None,
    extra: list[str], expected: list[str],
) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    if name is None:
        path = tmp_path / "nope.csv"
    elif name.startswith("folder"):
        path = _alkdrec_folder(tmp_path, name)
    else:
        assert content is not None
        path = write(tmp_path, name, content)
    dataset_name = "bad name" if "--name 'bad name'" in expected else "new"
    result = (
        alkd("data", "import", fmt, path, "--name", dataset_name, "--min-item-support", "1", *extra)
        if fmt == "csv"
        else alkd("data", "import", fmt, path, "--name", dataset_name, *extra)
    )
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    for part in expected:
        assert part in lines[0], lines[0]
    assert "Traceback" not in result.err
    assert result.out == ""
    assert db_content(db_path) == existing


def test_duplicate_name_is_refused_before_reading(
    alkd, existing, tmp_path: Path, db_path: Path
) -> None:  # type: ignore[no-untyped-def]
    result = alkd("data", "import", "csv", tmp_path / "does-not-even-exist.csv", "--name", "kept")
    assert result.code == 2
    assert (
        result.err.strip()
        == f"alkd: error: dataset 'kept' already exists in {db_path} (use --replace or another --name)"
    )
    assert db_content(db_path) == existing


def test_replace_swaps_a_dataset_atomically(alkd, existing, tmp_path: Path, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    smaller = write(
        tmp_path, "small.csv", "session_id,item_id,timestamp\n1,a,1\n1,b,2\n2,a,3\n2,b,4\n"
    )
    result = alkd(
        "data", "import", "csv", smaller, "--name", "kept", "--replace", "--min-item-support", "1"
    )
    assert result.code == 0, result.err
    names, items, sessions = db_content(db_path)
    assert names == ["kept"] and items == 2 and sessions == 2


@pytest.mark.parametrize(
    "failure", [RuntimeError("disk on fire"), KeyboardInterrupt()], ids=["error", "interrupt"]
)
def test_a_failure_while_writing_leaves_nothing(
    alkd,
    existing,
    tmp_path: Path,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: BaseException,
) -> None:  # type: ignore[no-untyped-def]
    """Items are already written when the session write fails: the whole import rolls back."""

    def explode(*_args: object) -> None:
        raise failure

    monkeypatch.setattr(importer, "_write_sessions", explode)
    good = write(tmp_path, "again.csv", GOOD)
    result = alkd("data", "import", "csv", good, "--name", "second", "--min-item-support", "1")
    assert result.code == (130 if isinstance(failure, KeyboardInterrupt) else 1)
    assert db_content(db_path) == existing
