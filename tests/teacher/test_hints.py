"""Hints (the paper's Module 1) against the named HTTP fixture: which sessions are shown and how,
the request stored and cached like every teacher request, odd answers, failures, refusals, and
`alkd label --hints` putting the stored hints into ranking prompts."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from alkd_tui.data import load_dataset
from alkd_tui.errors import BadInputError, StepFailedError
from alkd_tui.pipeline import hints as hints_mod
from alkd_tui.pipeline import labels
from alkd_tui.pipeline.models import get_model, load_trained
from alkd_tui.pipeline.results import LabelResult
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql
from alkd_tui.teacher.candidates import top_candidates
from tests.teacher.conftest import FIXTURE_HINTS

FAST = {"backoff": 0.0, "retries": 1}


def make(store: Store, **options: Any) -> dict[str, Any]:
    return hints_mod.make_hints(
        store, "games", "teacher-rec", "ollama", model="fixture:1b", options={**FAST, **options}
    )


def rows(store: Store, sql: str, *params: Any) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r) for r in run_sql(conn, sql, params).mappings().all()]


def test_hints_show_sampled_sessions_in_order_with_the_recommenders_ranking(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    result = make(labelling_store, sessions=20, top_k=5, seed=3)
    assert [h["text"] for h in result["hints"]] == FIXTURE_HINTS
    assert result["parse_status"] == "ok" and result["cached"] is False
    assert len(result["sessions"]) == 20 == len(set(result["sessions"]))

    (body,) = use_fixture.bodies
    assert body["format"]["properties"]["hints"]["maxItems"] == 5
    assert body["format"]["properties"]["hints"]["minItems"] == 1
    text = body["messages"][-1]["content"]
    ds = load_dataset(labelling_store, "games")
    rec = load_trained(labelling_store, get_model(labelling_store, "teacher-rec"))
    index = {key: k for k, key in enumerate(ds.session_ids)}
    train = {
        key for key, split in zip(ds.session_ids, ds.split.tolist(), strict=True) if split == 0
    }
    assert set(result["sessions"]) <= train  # training sessions only
    rows_ = np.array([index[key] for key in result["sessions"]])
    top, _ = top_candidates(rec, ds, rows_, 5)
    assert ds.titles is not None

    def render(items: Any) -> str:
        return ", ".join(f"<ID_{ds.item_ids[i]}: {ds.titles[i]}>" for i in items)

    for k, (row, ranked) in enumerate(zip(rows_.tolist(), top, strict=True), start=1):
        session = ds.inputs(row)[-rec.max_len :]
        assert f"Session {k}: {render(session)}\n" in text  # real order, ids and titles
        assert f"Recommender's top items: {render(ranked)}" in text
    assert "Session 21:" not in text


def test_the_hints_request_is_stored_audited_and_never_asked_twice(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    first = make(labelling_store, sessions=8)
    (request,) = rows(labelling_store, "SELECT * FROM teacher_request")
    assert request["id"] == first["request"] and request["status"] == "answered"
    assert request["template_version"] == "hints-v1" and request["selection_id"] is None
    assert request["raw_response"] == use_fixture.hints_answer == first["raw_response"]
    assert request["parse_status"] == "ok" and request["ranking"] is None
    assert request["prompt_tokens"] == 120 and request["attempts"] == 1
    assert "Session 8:" in request["prompt"] and request["model_digest"] == "sha256:" + "ab" * 32
    # not a label of any session: nothing links it to one
    assert rows(labelling_store, "SELECT * FROM request_use") == []
    stored = rows(labelling_store, "SELECT dataset_id, model_name, text, request_id FROM hint")
    assert stored == [
        {"dataset_id": 1, "model_name": "fixture:1b", "text": t, "request_id": request["id"]}
        for t in FIXTURE_HINTS
    ]
    (run,) = rows(labelling_store, "SELECT kind, status FROM run WHERE id = ?", first["run"])
    assert run == {"kind": "hints", "status": "done"}

    again = make(labelling_store, sessions=8)
    assert again["cached"] is True and again["request"] == first["request"]
    assert use_fixture.chat_calls == 1
    assert len(rows(labelling_store, "SELECT id FROM hint")) == 2  # no copies

    other = make(labelling_store, sessions=8, seed=1)  # other sessions: another question
    assert other["sessions"] != first["sessions"] and other["request"] != first["request"]
    assert use_fixture.chat_calls == 2


def test_sampling_is_seeded(labelling_store: Store) -> None:
    one = hints_mod.sample_sessions(labelling_store, 1, 20, seed=5)
    assert one == hints_mod.sample_sessions(labelling_store, 1, 20, seed=5)
    assert one != hints_mod.sample_sessions(labelling_store, 1, 20, seed=6)
    assert [idx for _, idx, _ in one] == sorted(idx for _, idx, _ in one)
    train = rows(labelling_store, "SELECT id FROM session WHERE split = 'train' ORDER BY idx")
    everything = hints_mod.sample_sessions(labelling_store, 1, 10_000, seed=5)
    assert [r[0] for r in everything] == [r["id"] for r in train]  # at most every training session


@pytest.mark.parametrize(
    ("answer", "status", "texts"),
    [
        ("Hints:\n1. Sequels follow.\n- Genres stick together.\n", "not_json",
         ["Sequels follow.", "Genres stick together."]),
        ('{"hints": ["Sequels follow.", "sequels follow.", ""]}', "repaired", ["Sequels follow."]),
        ('{"hints": ["Sequels follow.", "Genres st', "truncated", ["Sequels follow."]),
        ("", "empty", []),
        ('{"advice": 3}', "empty", []),
    ],
)  # fmt: skip
def test_odd_hints_answers_never_crash_and_keep_the_raw_answer(
    labelling_store: Store, use_fixture, answer: str, status: str, texts: list[str]
) -> None:  # type: ignore[no-untyped-def]
    use_fixture.hints_answer = answer
    result = make(labelling_store, sessions=4)
    assert result["parse_status"] == status
    assert [h["text"] for h in result["hints"]] == texts
    (request,) = rows(labelling_store, "SELECT raw_response, parse_status FROM teacher_request")
    assert request == {"raw_response": answer, "parse_status": status}


def test_a_failed_hints_request_is_stored_and_is_one_clear_line(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    use_fixture.faults = [500, 503]
    with pytest.raises(
        StepFailedError, match=r"hints request 1 to fixture:1b failed after 2 attempts"
    ):
        make(labelling_store, sessions=4)
    (request,) = rows(labelling_store, "SELECT status, error, attempts FROM teacher_request")
    assert request["status"] == "failed" and "status 503" in request["error"]
    assert rows(labelling_store, "SELECT * FROM hint") == []
    assert rows(labelling_store, "SELECT status FROM run WHERE kind = 'hints'") == [
        {"status": "failed"}
    ]
    result = make(labelling_store, sessions=4)  # asking again retries the stored request
    assert result["request"] == 1 and len(result["hints"]) == 2


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("replay", "--teacher replay cannot write hints"),
        ("tr", r"--teacher tr cannot write hints: .*\(no LLM"),
        ("gpt", "--teacher 'gpt': use 'auto', 'local', 'ollama', 'openai', 'replay' or 'tr'"),
    ],
)
def test_only_an_llm_writes_hints(labelling_store: Store, backend: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        hints_mod.make_hints(labelling_store, "games", "teacher-rec", backend, model="x")
    assert rows(labelling_store, "SELECT * FROM teacher_request") == []


def label(store: Store, **options: Any) -> LabelResult:
    return labels.label_selection(
        store, "sel", "ollama", model="fixture:1b", candidates_from="teacher-rec",
        options={"n": 5, "kappa": 10, "backoff": 0.0, **options},
    )  # fmt: skip


def test_label_with_hints_puts_the_stored_hints_into_prompts(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        BadInputError, match=r"--hints: no hints by fixture:1b .*alkd teacher hints"
    ):
        label(labelling_store, hints=True)
    plain = label(labelling_store)
    assert plain.answered == 12
    before = rows(labelling_store, "SELECT prompt_hash FROM teacher_request")

    make(labelling_store, sessions=6)
    with_hints = label(labelling_store, hints=True)
    assert with_hints.cached == 0 and with_hints.answered_now == 12  # new questions
    new = rows(
        labelling_store,
        "SELECT prompt_hash, prompt FROM teacher_request WHERE template_version = 'rank-v1' "
        "ORDER BY id LIMIT -1 OFFSET 12",
    )
    assert len(new) == 12
    assert not {r["prompt_hash"] for r in new} & {r["prompt_hash"] for r in before}
    for r in new:
        assert "Hints about users of this catalogue:\n" in r["prompt"]
        assert all(f"- {h}\n" in r["prompt"] for h in FIXTURE_HINTS)
    for body in use_fixture.bodies[-12:]:
        assert FIXTURE_HINTS[0] in body["messages"][-1]["content"]
    assert label(labelling_store, hints=True).sent == 0  # and cached like any question


def test_label_uses_the_models_latest_set_of_hints(labelling_store: Store, use_fixture) -> None:  # type: ignore[no-untyped-def]
    make(labelling_store, sessions=4, seed=0)
    use_fixture.hints_answer = json.dumps({"hints": ["Newer hint about sequels."]})
    make(labelling_store, sessions=4, seed=1)
    with labelling_store.engine.begin() as conn:  # another model's hints are not this model's
        run_sql(conn, "INSERT INTO hint (dataset_id, model_name, text, created_at) "
            "VALUES (1, 'other:7b', 'Not mine.', '2026-01-01 00:00:00.000000')"
        )
    assert labels._hints(labelling_store, 1, "fixture:1b") == ["Newer hint about sequels."]
    assert labels._hints(labelling_store, 1, "other:7b") == ["Not mine."]
    listed = hints_mod.list_hints(labelling_store, "games", "fixture:1b")["hints"]
    assert [(h["text"], h["in_use"]) for h in listed] == [
        (FIXTURE_HINTS[0], False), (FIXTURE_HINTS[1], False), ("Newer hint about sequels.", True)
    ]  # fmt: skip


def test_cli_makes_and_lists_hints(labelling_store: Store, use_fixture, alkd) -> None:  # type: ignore[no-untyped-def]
    made = alkd("teacher", "hints", "--dataset", "games", "--teacher-model", "teacher-rec", "--teacher", "ollama",
                "--model", "fixture:1b", "--sessions", "5", "--seed", "2", "--keep-alive", "2m", "--json")  # fmt: skip
    assert made.code == 0, made.err
    doc = json.loads(made.out)
    assert {"dataset", "request", "hints", "sessions", "parse_status", "raw_response", "cached",
            "teacher", "run"} <= set(doc)  # fmt: skip
    assert [h["text"] for h in doc["hints"]] == FIXTURE_HINTS and len(doc["sessions"]) == 5
    assert use_fixture.bodies[0]["keep_alive"] == "2m"

    listed = alkd("teacher", "hints", "--dataset", "games", "--list", "--json")
    assert listed.code == 0
    assert [(h["text"], h["model"], h["in_use"]) for h in json.loads(listed.out)["hints"]] == [
        (t, "fixture:1b", True) for t in FIXTURE_HINTS
    ]
    human = alkd("teacher", "hints", "--dataset", "games", "--list")
    assert human.code == 0 and FIXTURE_HINTS[1] in human.out

    refused = alkd("teacher", "hints", "--dataset", "games", "--teacher-model", "teacher-rec",
                   "--teacher", "tr")  # fmt: skip
    assert refused.code == 2 and "no LLM" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    missing = alkd("teacher", "hints", "--dataset", "games", "--model", "fixture:1b")
    assert missing.code == 2 and "--teacher-model" in missing.err
    unknown = alkd("teacher", "hints", "--dataset", "nope", "--list")
    assert unknown.code == 2 and "no dataset 'nope'" in unknown.err
