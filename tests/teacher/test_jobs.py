"""Labelling jobs against the named HTTP fixture: store-before-send, cache, retries, budget,
concurrency, faults; every request ends in a correct final state and nothing is lost."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alkd_tui.pipeline import labels
from alkd_tui.store import Store
from alkd_tui.teacher.backends.ollama_backend import OllamaTeacher


@pytest.fixture
def use_fixture(ollama_fixture, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Route `--teacher ollama` to the HTTP fixture."""
    real = labels.make_teacher

    def make(backend: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        if backend == "ollama":
            return OllamaTeacher(
                kwargs["hosts"] or ["127.0.0.1:11434"],
                kwargs["model"],
                timeout=5,
                transport=ollama_fixture.transport,
            )
        return real(backend, **kwargs)

    monkeypatch.setattr(labels, "make_teacher", make)
    return ollama_fixture


def requests(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = (
            conn.exec_driver_sql(
                "SELECT id, session_id, status, attempts, parse_status, ranking, candidates, error, raw_response "
                "FROM teacher_request ORDER BY id"
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


FAST = {"n": 5, "kappa": 10, "backoff": 0.0, "retries": 2}


def label(store: Store, **options: Any) -> dict[str, Any]:
    return labels.label_selection(
        store,
        "sel",
        "ollama",
        model="fixture:1b",
        candidates_from="teacher-rec",
        options={**FAST, **options},
    )


def test_a_job_answers_every_session_and_a_second_job_asks_nothing(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    first = label(labelling_store)
    assert first["requests"] == 12 and first["answered"] == 12 and first["cached"] == 0
    assert first["parse"] == {"ok": 12}
    assert first["tokens"] == {"prompt": 12 * 120, "output": 12 * 30}
    assert first["teacher"]["digest"] == "sha256:" + "ab" * 32
    stored = requests(labelling_store)
    for r in stored:
        candidates = json.loads(r["candidates"])
        assert len(candidates) == 10
        assert json.loads(r["ranking"]) == list(reversed(candidates))[:5]  # the fixture's rule
    calls = use_fixture.chat_calls
    second = label(labelling_store)
    assert second["cached"] == 12 and second["sent"] == 0
    assert use_fixture.chat_calls == calls
    assert len(requests(labelling_store)) == 12


def test_transient_failures_are_retried_and_4xx_is_not(labelling_store: Store, use_fixture) -> None:  # type: ignore[no-untyped-def]
    use_fixture.faults = [500, "timeout", None, 400]
    result = label(labelling_store)
    stored = requests(labelling_store)
    assert stored[0]["status"] == "answered" and stored[0]["attempts"] == 3
    assert (
        stored[1]["status"] == "failed"
        and stored[1]["attempts"] == 1
        and "status 400" in stored[1]["error"]
    )
    assert result["answered"] == 11 and result["failed"] == 1
    assert use_fixture.chat_calls == 3 + 1 + 11 - 1


def test_an_outage_fails_requests_and_a_later_job_completes_them(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    use_fixture.faults = ["connect"] * 9  # three requests x three attempts
    first = label(labelling_store, concurrency=1)
    assert first["failed"] == 3 and first["answered"] == 9
    answered_before = {
        r["id"]: r["raw_response"] for r in requests(labelling_store) if r["status"] == "answered"
    }
    calls = use_fixture.chat_calls
    second = label(labelling_store)
    assert second["answered"] == 12 and second["failed"] == 0 and second["cached"] == 9
    assert use_fixture.chat_calls == calls + 3
    after = {r["id"]: r["raw_response"] for r in requests(labelling_store)}
    assert all(after[k] == v for k, v in answered_before.items())
    assert len(after) == 12


def test_a_budget_leaves_the_rest_pending(labelling_store: Store, use_fixture) -> None:  # type: ignore[no-untyped-def]
    first = label(labelling_store, max_requests=5)
    assert first["answered"] == 5 and first["pending"] == 7 and first["budget_exhausted"] is True
    by_tokens = label(labelling_store, max_tokens=300)  # 150 tokens per answer: two more
    assert by_tokens["answered"] == 7
    rest = label(labelling_store)
    assert rest["answered"] == 12 and rest["pending"] == 0
    assert use_fixture.chat_calls == 12


def test_concurrent_requests_all_land_once(labelling_store: Store, use_fixture) -> None:  # type: ignore[no-untyped-def]
    result = label(labelling_store, concurrency=4)
    assert result["answered"] == 12
    stored = requests(labelling_store)
    assert len({r["session_id"] for r in stored}) == 12
    assert use_fixture.chat_calls == 12


def test_odd_answers_are_stored_with_their_parse_status(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    answers = iter(
        ['{"ranking": ["g1", "g1"]}', "no idea", '{"ranking": ["g2"', *(['{"ranking": []}'] * 9)]
    )
    use_fixture.answer = lambda body: next(answers)
    result = label(labelling_store)
    assert result["answered"] == 12
    assert set(result["parse"]) <= {"short", "empty", "not_json", "truncated", "ok", "repaired"}
    raws = [r["raw_response"] for r in requests(labelling_store)]
    assert "no idea" in raws  # the raw answer is kept whatever it was


def test_the_server_down_at_start_is_exit_3_and_stores_nothing(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    from alkd_tui.errors import TeacherUnavailableError

    use_fixture.down = True
    with pytest.raises(TeacherUnavailableError):
        label(labelling_store)
    assert requests(labelling_store) == []


def test_tr_teacher_answers_with_its_own_candidates(labelling_store: Store) -> None:
    result = labels.label_selection(
        labelling_store, "sel", "tr", candidates_from="teacher-rec", options=FAST
    )
    assert result["teacher"]["is_llm"] is False and result["teacher"]["model"] == "tr:teacher-rec"
    for r in requests(labelling_store):
        assert json.loads(r["ranking"]) == json.loads(r["candidates"])[:5]


def test_sessions_with_identical_questions_share_one_request(
    labelling_store: Store, use_fixture, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from alkd_tui.pipeline.review import accept_by_rule, selection_labels
    from alkd_tui.pipeline.selection import import_selection

    # Sessions 0 and 30 of the fixture data click the same items: the same question.
    ids = tmp_path / "ids.txt"
    ids.write_text("0\n30\n1\n")
    import_selection(labelling_store, "games", ids, "twins")
    result = labels.label_selection(labelling_store, "twins", "ollama", model="fixture:1b", candidates_from="teacher-rec",
                                    options=FAST)  # fmt: skip
    assert use_fixture.chat_calls == 2  # two distinct questions for three sessions
    assert result["requests"] == 3 and result["answered"] == 3 and result["cached"] == 1
    assert result["tokens"]["prompt"] == 2 * 120  # cost counted once per request
    found = selection_labels(labelling_store, 2)
    assert [label.session_key for label in found] == ["0", "30", "1"]
    assert found[0].request_id == found[1].request_id and found[0].ranking == found[1].ranking
    assert accept_by_rule(labelling_store, 2, "parsed") == {"accepted": 2, "not_matching": 0}
    assert {label.status for label in selection_labels(labelling_store, 2)} == {"accepted"}
