"""`alkd run` in-process: every step on the example dataset, reuse on re-runs, manual review,
interruption and resume, hints from an LLM teacher (the named Ollama-shaped HTTP fixture)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from alkd_tui.errors import BadInputError, StepFailedError
from alkd_tui.pipeline import distill as distill_module
from alkd_tui.pipeline.config import load_config
from alkd_tui.pipeline.review import accept_by_rule
from alkd_tui.pipeline.whole_run import run_pipeline
from alkd_tui.store import Run, Store, open_store
from alkd_tui.store.queries import run_sql
from tests.teacher.conftest import FIXTURE_HINTS, OllamaFixture, OllamaTCPFixture

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
            t: run_sql(conn, f"SELECT COUNT(*) FROM {t}").scalar_one()
            for t in ("model", "selection", "teacher_request", "dataset")
        }


def test_a_run_makes_every_step_and_reports_results(store: Store) -> None:
    summary = run_pipeline(store, load_config(None, FAST))
    assert summary.status == "done"
    assert list(summary.steps) == [
        "dataset",
        "teacher_recommender",
        "student",
        "select",
        "label",
        "review",
        "distill",
        "evaluate",
    ]
    assert all(step["status"] == "done" for step in summary.steps.values())
    results = summary.results
    assert set(results) == {"teacher_recommender", "student", "distilled"}
    assert (
        results["teacher_recommender"]["test"]["recall@10"]
        > results["student"]["test"]["recall@10"]
    )
    assert summary.teacher["is_llm"] is False and summary.hints is None
    assert summary.env["torch"] and summary.config["seed"] == 0
    # what distillation did: the difference of the two test figures, with its noise
    effect = summary.distillation
    assert effect is not None
    own = {k: results[k]["test_excluding_own"]["recall@10"] for k in ("student", "distilled")}
    assert effect["difference"] == pytest.approx(own["distilled"] - own["student"], abs=1e-5)
    assert effect["standard_error"] >= 0 and effect["sessions"] > 0
    with store.engine.connect() as conn:
        parents = {
            r[0] for r in run_sql(conn, "SELECT parent_id FROM run WHERE kind != 'pipeline'")
        }
    assert parents == {summary.run}


def test_a_rerun_reuses_what_exists(store: Store) -> None:
    first = run_pipeline(store, load_config(None, FAST))
    before = counts(store)
    second = run_pipeline(store, load_config(None, FAST))
    assert counts(store) == before
    assert second.results == first.results and second.run != first.run


def test_manual_review_stops_until_labels_are_decided(store: Store) -> None:
    summary = run_pipeline(store, load_config(None, [*FAST, "review.policy=manual"]))
    assert summary.status == "awaiting-review" and summary.results is None
    assert "distill" not in summary.steps
    with store.engine.connect() as conn:
        selection_id = run_sql(conn, "SELECT id FROM selection").scalar_one()
    accept_by_rule(store, selection_id, "parsed")
    resumed = run_pipeline(store, resume=str(summary.run))
    assert resumed.run == summary.run and resumed.status == "done"
    assert resumed.review["pending"] == 0 and resumed.review["accepted"] == 20


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
        (status,) = run_sql(conn, "SELECT status FROM run WHERE kind = 'pipeline'").one()
    assert status == "interrupted"
    resumed = run_pipeline(store, resume="1")
    assert resumed.status == "done"
    assert resumed.results == straight.results
    assert counts(store)["teacher_request"] == 20


def test_auto_review_applies_the_minimum_confidence(store: Store) -> None:
    """The teacher recommender's labels carry no scores: none passes a confidence threshold,
    so nothing is accepted and distillation refuses to start."""
    with pytest.raises(BadInputError, match="none of the 20 labels"):
        run_pipeline(store, load_config(None, [*FAST, "review.min_confidence=0.5"]))
    with store.engine.connect() as conn:
        (steps,) = run_sql(conn, "SELECT steps FROM run WHERE kind = 'pipeline'").one()
    review = json.loads(steps)["review"]["result"]
    assert review["min_confidence"] == 0.5 and review["accepted"] == 0
    assert review["without_confidence"] == 20 and review["not_matching"] == 20


@pytest.fixture
def ollama_server() -> Iterator[OllamaTCPFixture]:
    """The named Ollama-shaped HTTP fixture (tests/teacher/conftest.py) on a loopback port:
    canned answers, not an LLM."""
    server = OllamaTCPFixture(OllamaFixture())
    server.start()
    yield server
    server.stop()


def hints_config(server: OllamaTCPFixture, teacher: str = "ollama", *more: str) -> list[str]:
    return [
        *[item for item in FAST if not item.startswith("label.teacher")],
        "select.budget=6", f"label.teacher={teacher}", "label.model=fixture:1b",
        f'label.hosts=["{server.url}"]', "label.hints=true", "label.kappa=8", "label.n=4",
        "hints.sessions=5", "hints.top_k=3", "hints.max_hints=2", *more,
    ]  # fmt: skip


def asks_for_hints(body: dict[str, Any]) -> bool:
    return "hints" in (body.get("format") or {}).get("properties", {})


def test_a_run_with_hints_asks_for_them_once_and_puts_them_in_the_prompts(
    store: Store, ollama_server: OllamaTCPFixture
) -> None:
    fixture = ollama_server.fixture
    first = run_pipeline(store, load_config(None, hints_config(ollama_server)))
    assert first.status == "done"
    assert list(first.steps)[3:6] == ["select", "hints", "label"]
    bodies = list(fixture.bodies)
    hint_bodies = [b for b in bodies if asks_for_hints(b)]
    label_bodies = [b for b in bodies if not asks_for_hints(b)]
    assert len(hint_bodies) == 1 and len(label_bodies) == 6
    assert bodies[0] is hint_bodies[0]  # asked before labelling
    hint_prompt = hint_bodies[0]["messages"][-1]["content"]
    assert "Session 5:" in hint_prompt and "Session 6:" not in hint_prompt  # hints.sessions
    assert hint_bodies[0]["format"]["properties"]["hints"]["maxItems"] == 2  # hints.max_hints
    assert (
        hint_bodies[0]["options"]["seed"] == 0 and hint_bodies[0]["options"]["num_predict"] == 512
    )
    for body in label_bodies:  # every ranking prompt carries the stored hints
        assert all(hint in body["messages"][-1]["content"] for hint in FIXTURE_HINTS)

    with store.engine.connect() as conn:
        (steps,) = run_sql(conn, "SELECT steps FROM run WHERE kind = 'pipeline'").one()
        stored = run_sql(conn, "SELECT text FROM hint ORDER BY id").all()
        children = run_sql(conn, "SELECT kind FROM run WHERE parent_id = ? ORDER BY id", (first.run,)
        ).all()
    step = json.loads(steps)["hints"]
    assert step["status"] == "done"
    assert [h["text"] for h in step["result"]["hints"]] == FIXTURE_HINTS == [t for (t,) in stored]
    assert (
        len(step["result"]["sessions"]) == 5 and step["result"]["teacher"]["model"] == "fixture:1b"
    )
    assert ("hints",) in children and ("label",) in children
    assert [h["text"] for h in first.hints] == FIXTURE_HINTS

    # a re-run (and a resume) reuses the hints and the answers: nothing is asked again
    second = run_pipeline(store, load_config(None, hints_config(ollama_server)))
    resumed = run_pipeline(store, resume=str(first.run))
    assert len(fixture.bodies) == len(bodies) == fixture.chat_calls
    assert second.results == first.results == resumed.results
    for summary in (second, resumed):
        with store.engine.connect() as conn:
            (steps,) = run_sql(conn, "SELECT steps FROM run WHERE id = ?", (summary.run,)
            ).one()
        assert json.loads(steps)["hints"]["result"]["reused"] is True
    with store.engine.connect() as conn:
        assert run_sql(conn, "SELECT COUNT(*) FROM hint").scalar_one() == 2

    # other hints settings are another question: asked once more, and those hints are used
    fixture.hints_answer = json.dumps({"hints": ["Only one hint this time."]})
    third = run_pipeline(
        store, load_config(None, hints_config(ollama_server, "ollama", "hints.sessions=4"))
    )
    assert third.status == "done"
    new = fixture.bodies[len(bodies) :]
    assert sum(asks_for_hints(b) for b in new) == 1
    relabelled = [b for b in new if not asks_for_hints(b)]
    assert len(relabelled) == 6  # new prompts (new hints): asked anew
    assert all("Only one hint this time." in b["messages"][-1]["content"] for b in relabelled)
    assert not any(FIXTURE_HINTS[0] in b["messages"][-1]["content"] for b in relabelled)

    # back to the first settings: their hints (not the latest ones) label the sessions again,
    # and every answer is in the store already
    asked = fixture.chat_calls
    fourth = run_pipeline(store, load_config(None, hints_config(ollama_server)))
    assert fixture.chat_calls == asked and fourth.status == "done"
    with store.engine.connect() as conn:
        configs = [
            json.loads(c)
            for (c,) in run_sql(conn, "SELECT config FROM run WHERE kind = 'label' AND parent_id IN (?, ?) ORDER BY id",
                (first.run, fourth.run),
            )
        ]
    assert [c["hints_request"] for c in configs] == [
        step["result"]["request"]
    ] * 3  # first, resumed, fourth


def test_the_auto_teacher_writes_the_hints_when_ollama_answers(
    store: Store, ollama_server: OllamaTCPFixture
) -> None:
    summary = run_pipeline(store, load_config(None, hints_config(ollama_server, "auto")))
    assert summary.status == "done" and summary.steps["hints"]["status"] == "done"
    assert sum(asks_for_hints(b) for b in ollama_server.fixture.bodies) == 1


def test_an_answer_without_hints_fails_the_step_with_one_line(
    store: Store, ollama_server: OllamaTCPFixture
) -> None:
    ollama_server.fixture.hints_answer = json.dumps({"hints": []})
    with pytest.raises(
        StepFailedError, match=r"held no hints that could be read.*label.hints = false"
    ):
        run_pipeline(store, load_config(None, hints_config(ollama_server)))
    with store.engine.connect() as conn:
        status, steps = run_sql(conn, "SELECT status, steps FROM run WHERE kind = 'pipeline'"
        ).one()
        asked = run_sql(conn, "SELECT COUNT(*) FROM teacher_request").scalar_one()
    assert status == "failed" and json.loads(steps)["hints"]["status"] == "failed"
    assert "label" not in json.loads(steps) and asked == 1  # the answer is kept, nothing labelled


@pytest.mark.parametrize("teacher", ["replay", "tr"])
def test_hints_with_a_teacher_that_is_no_llm_are_refused_at_validation(teacher: str) -> None:
    with pytest.raises(BadInputError) as caught:
        load_config(None, ["label.hints=true", f"label.teacher={teacher}"])
    message = str(caught.value)
    assert "\n" not in message and message.startswith(
        "the default configuration: label.hints = true"
    )
    assert f"label.teacher = '{teacher}' cannot" in message and "label.hints = false" in message
    load_config(None, ["label.hints=false", f"label.teacher={teacher}"])  # without hints: fine


def test_resuming_a_run_whose_stored_config_is_no_longer_valid_is_one_line(store: Store) -> None:
    """A run recorded before hints needed an LLM (label.hints with the tr teacher) cannot be
    resumed: one line naming the run and the rule, nothing run."""
    with store.session() as orm:
        orm.add(
            Run(
                kind="pipeline", config={"label": {"hints": True, "teacher": "tr"}}, status="failed"
            )
        )
    with pytest.raises(BadInputError) as caught:
        run_pipeline(store, resume="1")
    message = str(caught.value)
    assert message.startswith("run 1's stored configuration: label.hints = true needs an LLM")
    assert "\n" not in message and counts(store)["model"] == 0
