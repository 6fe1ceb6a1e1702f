"""Property: `alkd review import` and `alkd runs import` take any file and either store all of
it (exit 0) or nothing (exit 2, one line naming the file); never a crash. Files are drawn by
hypothesis: JSON lines whose fields hold values of every kind, damaged bytes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alkd_tui.store import Store

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
DECISION = st.fixed_dictionaries(
    {},
    optional={
        "request": st.integers(-2, 30) | JSON,
        "action": st.sampled_from(["accept", "reject", "edit", "skip", "flag", "undo", "approve"])
        | JSON,
        "ranking": st.lists(st.integers(-5, 40), max_size=6) | JSON,
        "note": st.text(max_size=10) | JSON,
        "reviewer": st.text(max_size=10) | JSON,
        "created_at": st.sampled_from(["2026-01-01T00:00:00+00:00", "yesterday", ""]) | JSON,
    },
)
RUN = st.fixed_dictionaries(
    {},
    optional={
        "run": st.integers(0, 5) | JSON,
        "kind": st.sampled_from(["train", "label", ""]) | JSON,
        "name": st.text(max_size=10) | JSON,
        "status": st.sampled_from(["done", "failed"]) | JSON,
        "config": st.dictionaries(st.text(max_size=5), JSON, max_size=3) | JSON,
        "seed": st.integers(-3, 3) | JSON,
        "parent": st.integers(0, 5) | JSON,
        "started_at": st.sampled_from(["2026-01-01T00:00:00", "nope", ""]) | JSON,
        "metrics": st.lists(
            st.fixed_dictionaries({"name": st.text(max_size=5) | JSON, "value": JSON | st.floats()},
                                  optional={"step": JSON, "split": JSON}), max_size=3) | JSON,
    },
)  # fmt: skip
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _lines(rows: list[Any], damage: bytes) -> bytes:
    text = "\n".join(json.dumps(r, allow_nan=True) for r in rows).encode()
    return text + damage


def _counts(db: Path) -> tuple[int, int, int]:
    con = sqlite3.connect(db)
    try:
        return tuple(  # type: ignore[return-value]
            con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("review_event", "run", "runmetric")
        )
    finally:
        con.close()


def _check(alkd, db: Path, path: Path, *command: str) -> None:  # type: ignore[no-untyped-def]
    before = _counts(db)
    result = alkd(*command, path, db=db)
    assert result.code in (0, 2), result.err
    if result.code == 2:
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"alkd: error: {path}"), result.err
        assert _counts(db) == before  # nothing stored
    assert "Traceback" not in result.err


@pytest.fixture
def reviewed(labelling_store: Store, alkd) -> Path:  # type: ignore[no-untyped-def]
    """The labelling store with answers to review (the TR teacher's own candidates)."""
    labelled = alkd("label", "sel", "--teacher", "tr", "--candidates-from", "teacher-rec", "--n", "5",
                    db=labelling_store.target)  # fmt: skip
    assert labelled.code == 0, labelled.err
    return labelling_store.target


@SETTINGS
@given(
    rows=st.lists(DECISION, min_size=1, max_size=4),
    damage=st.sampled_from([b"", b"\n\xff", b"\n{", b"\x00"]),
)
def test_any_review_file_is_stored_whole_or_refused_in_one_line(
    alkd, reviewed: Path, tmp_path: Path, rows: list[Any], damage: bytes
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "decisions.jsonl"
    path.write_bytes(_lines(rows, damage))
    _check(alkd, reviewed, path, "review", "import")


@SETTINGS
@given(
    rows=st.lists(RUN, min_size=1, max_size=4), damage=st.sampled_from([b"", b"\n\xff", b"\n[1]"])
)
def test_any_runs_file_is_stored_whole_or_refused_in_one_line(
    alkd, db_path: Path, tmp_path: Path, rows: list[Any], damage: bytes
) -> None:  # type: ignore[no-untyped-def]
    from alkd_tui.store import open_store

    open_store(db_path).close()
    path = tmp_path / "runs.jsonl"
    path.write_bytes(_lines(rows, damage))
    _check(alkd, db_path, path, "runs", "import")
