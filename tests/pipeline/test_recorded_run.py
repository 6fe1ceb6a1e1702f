"""One helper records every job as a run: started, then done, interrupted or failed."""

from __future__ import annotations

import sqlite3

import pytest

from alkd_tui.errors import BadInputError, StepFailedError
from alkd_tui.pipeline.run_records import recorded_run
from alkd_tui.store import Store


def _runs(store: Store) -> list[tuple[str, str | None]]:
    with sqlite3.connect(store.path) as conn:
        return conn.execute("SELECT status, error FROM run ORDER BY id").fetchall()


def test_a_finished_body_is_done_with_its_figures(store: Store) -> None:
    with recorded_run(store, "select", "s", {"a": 1}, seed=3) as run:
        run.done(metrics={"": {"size": 5.0}}, step="select")
    with recorded_run(store, "select", "t", {}):
        pass  # not closed by the body: done on exit
    assert _runs(store) == [("done", None), ("done", None)]
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT name, value FROM runmetric").fetchall() == [("size", 5.0)]


def test_ctrl_c_bad_input_and_failures_each_end_the_run_as_they_should(store: Store) -> None:
    ended: list[str] = []
    with (
        pytest.raises(KeyboardInterrupt),
        recorded_run(store, "train", "a", {}, on_end=ended.append),
    ):
        raise KeyboardInterrupt
    with pytest.raises(BadInputError), recorded_run(store, "train", "b", {}):
        raise BadInputError("--x: bad")
    failing = recorded_run(store, "train", "c", {}, what="training b")
    with pytest.raises(StepFailedError, match="training b failed: ValueError: boom"), failing:
        raise ValueError("boom")
    with pytest.raises(ValueError), recorded_run(store, "label", "d", {}):
        raise ValueError("as is")  # no `what`: the error goes on unchanged
    with pytest.raises(StepFailedError), recorded_run(store, "hints", "e", {}) as run:
        raise StepFailedError("the hints request failed")
    assert ended == ["interrupted"]
    assert _runs(store) == [
        ("interrupted", None),
        ("failed", "bad input"),
        ("failed", "ValueError: boom"),
        ("failed", "ValueError: as is"),
        ("failed", "the hints request failed"),
    ]
    assert run.ended
