"""`alkd run` in-process: every step on the example dataset, reuse on re-runs, manual review,
interruption and resume."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alkd_tui.errors import BadInputError
from alkd_tui.pipeline import distill as distill_module
from alkd_tui.pipeline.config import load_config
from alkd_tui.pipeline.review import accept_by_rule
from alkd_tui.pipeline.run import run_pipeline
from alkd_tui.store import Store, open_store

FAST = [
    "teacher_recommender.epochs=2",
    "student.epochs=2",
    "select.budget=20",
    "distill.epochs=3",
    "label.teacher=tr",
]


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            t: conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar_one()
            for t in ("model", "selection", "teacher_request", "dataset")
        }


def test_a_run_makes_every_step_and_reports_results(store: Store) -> None:
    summary = run_pipeline(store, load_config(None, FAST))
    assert summary["status"] == "done"
    assert list(summary["steps"]) == [
        "dataset",
        "teacher_recommender",
        "student",
        "select",
        "label",
        "review",
        "distill",
        "evaluate",
    ]
    assert all(step["status"] == "done" for step in summary["steps"].values())
    results = summary["results"]
    assert set(results) == {"teacher_recommender", "student", "distilled"}
    assert (
        results["teacher_recommender"]["test"]["recall@10"]
        > results["student"]["test"]["recall@10"]
    )
    assert summary["teacher"]["is_llm"] is False
    assert summary["env"]["torch"] and summary["config"]["seed"] == 0
    with store.engine.connect() as conn:
        parents = {
            r[0] for r in conn.exec_driver_sql("SELECT parent_id FROM run WHERE kind != 'pipeline'")
        }
    assert parents == {summary["run"]}


def test_a_rerun_reuses_what_exists(store: Store) -> None:
    first = run_pipeline(store, load_config(None, FAST))
    before = counts(store)
    second = run_pipeline(store, load_config(None, FAST))
    assert counts(store) == before
    assert second["results"] == first["results"] and second["run"] != first["run"]


def test_manual_review_stops_until_labels_are_decided(store: Store) -> None:
    summary = run_pipeline(store, load_config(None, [*FAST, "review.policy=manual"]))
    assert summary["status"] == "awaiting-review" and summary["results"] is None
    assert "distill" not in summary["steps"]
    with store.engine.connect() as conn:
        selection_id = conn.exec_driver_sql("SELECT id FROM selection").scalar_one()
    accept_by_rule(store, selection_id, "parsed")
    resumed = run_pipeline(store, resume=str(summary["run"]))
    assert resumed["run"] == summary["run"] and resumed["status"] == "done"
    assert resumed["review"]["pending"] == 0 and resumed["review"]["accepted"] == 20


def test_an_interrupted_run_resumes_to_the_same_result(
    store: Store, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(tmp_path / "straight.db") as other:
        straight = run_pipeline(other, load_config(None, FAST))
    real = distill_module.distill_student
    calls = {"n": 0}

    def interrupted_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(distill_module, "distill_student", interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(store, load_config(None, FAST))
    with store.engine.connect() as conn:
        (status,) = conn.exec_driver_sql("SELECT status FROM run WHERE kind = 'pipeline'").one()
    assert status == "interrupted"
    resumed = run_pipeline(store, resume="1")
    assert resumed["status"] == "done"
    assert resumed["results"] == straight["results"]
    assert counts(store)["teacher_request"] == 20


def test_auto_review_applies_the_minimum_confidence(store: Store) -> None:
    """The teacher recommender's labels carry no scores: none passes a confidence threshold,
    so nothing is accepted and distillation refuses to start."""
    with pytest.raises(BadInputError, match="none of the 20 labels"):
        run_pipeline(store, load_config(None, [*FAST, "review.min_confidence=0.5"]))
    with store.engine.connect() as conn:
        (steps,) = conn.exec_driver_sql("SELECT steps FROM run WHERE kind = 'pipeline'").one()
    review = json.loads(steps)["review"]["result"]
    assert review["min_confidence"] == 0.5 and review["accepted"] == 0
    assert review["without_confidence"] == 20 and review["not_matching"] == 20
