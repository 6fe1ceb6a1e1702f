"""Labelling jobs against the named HTTP fixture: store-before-send, cache, retries, budget,
concurrency, faults; every request ends in a correct final state and nothing is lost."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alkd_tui.pipeline import labels
from alkd_tui.pipeline.results import LabelResult
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql


def requests(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = (
            run_sql(conn, "SELECT id, session_id, status, attempts, parse_status, ranking, candidates, error, raw_response "
                "FROM teacher_request ORDER BY id"
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


FAST = {"n": 5, "kappa": 10, "backoff": 0.0, "retries": 2}


def label(store: Store, **options: Any) -> LabelResult:
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
    assert first.requests == 12 and first.answered == 12 and first.cached == 0
    assert first.parse == {"ok": 12}
    assert first.tokens == {"prompt": 12 * 120, "output": 12 * 30}
    assert first.teacher["digest"] == "sha256:" + "ab" * 32
    stored = requests(labelling_store)
    for r in stored:
        candidates = json.loads(r["candidates"])
        assert len(candidates) == 10
        assert json.loads(r["ranking"]) == list(reversed(candidates))[:5]  # the fixture's rule
    calls = use_fixture.chat_calls
    second = label(labelling_store)
    assert second.cached == 12 and second.sent == 0
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
    assert result.answered == 11 and result.failed == 1
    assert use_fixture.chat_calls == 3 + 1 + 11 - 1


def test_an_outage_fails_requests_and_a_later_job_completes_them(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    use_fixture.faults = ["connect"] * 9  # three requests x three attempts
    first = label(labelling_store, concurrency=1)
    assert first.failed == 3 and first.answered == 9
    answered_before = {
        r["id"]: r["raw_response"] for r in requests(labelling_store) if r["status"] == "answered"
    }
    calls = use_fixture.chat_calls
    second = label(labelling_store)
    assert second.answered == 12 and second.failed == 0 and second.cached == 9
    assert use_fixture.chat_calls == calls + 3
    after = {r["id"]: r["raw_response"] for r in requests(labelling_store)}
    assert all(after[k] == v for k, v in answered_before.items())
    assert len(after) == 12


def test_a_budget_leaves_the_rest_pending(labelling_store: Store, use_fixture) -> None:  # type: ignore[no-untyped-def]
    first = label(labelling_store, max_requests=5)
    assert first.answered == 5 and first.pending == 7 and first.budget_exhausted is True
    by_tokens = label(labelling_store, max_tokens=300)  # 150 tokens per answer: two more
    assert by_tokens.answered == 7
    rest = label(labelling_store)
    assert rest.answered == 12 and rest.pending == 0
    assert use_fixture.chat_calls == 12


def test_concurrent_requests_all_land_once(labelling_store: Store, use_fixture) -> None:  # type: ignore[no-untyped-def]
    result = label(labelling_store, concurrency=4)
    assert result.answered == 12
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
    assert result.answered == 12
    assert set(result.parse) <= {"short", "empty", "not_json", "truncated", "ok", "repaired"}
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
    assert result.teacher["is_llm"] is False and result.teacher["model"] == "tr:teacher-rec"
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
    assert result.requests == 3 and result.answered == 3 and result.cached == 1
    assert result.tokens["prompt"] == 2 * 120  # cost counted once per request
    found = selection_labels(labelling_store, 2)
    assert [label.session_key for label in found] == ["0", "30", "1"]
    assert found[0].request_id == found[1].request_id and found[0].ranking == found[1].ranking
    assert accept_by_rule(labelling_store, 2, "parsed") == {"accepted": 2, "not_matching": 0}
    assert {label.status for label in selection_labels(labelling_store, 2)} == {"accepted"}


# -- which answer is a session's label --------------------------------------------------


def variant(store: Store, kappa: int) -> dict[str, int]:
    """The requests asked with `kappa` candidates: session key -> request id."""
    with store.engine.connect() as conn:
        rows = run_sql(conn, "SELECT s.external_id, r.id FROM teacher_request r JOIN session s ON s.id = r.session_id "
            "WHERE json_array_length(r.candidates) = ?",
            (kappa,),
        ).all()
    return {str(key): int(rid) for key, rid in rows}


def picked(store: Store) -> dict[str, int]:
    """The selection's label per session as review and distillation read it, checked to be
    the one exports read (audits filter the same way)."""
    from alkd_tui.pipeline.export import label_rows
    from alkd_tui.pipeline.review import selection_labels

    reviewed = {lb.session_key: lb.request_id for lb in selection_labels(store, 1)}
    exported = {row["session_id"]: row["request"] for row in label_rows(store, selection="sel")}
    assert exported == reviewed
    return reviewed


def uses(store: Store) -> dict[int, tuple[Any, ...]]:
    """Every session-request link: id -> (request, session, selection, created_at, used_at)."""
    with store.engine.connect() as conn:
        rows = run_sql(conn, "SELECT id, request_id, session_id, selection_id, created_at, used_at FROM request_use"
        ).all()
    return {int(r[0]): tuple(r[1:]) for r in rows}


def test_the_latest_job_decides_the_label_even_from_the_cache(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    from alkd_tui.pipeline.audit import audit
    from alkd_tui.pipeline.review import selection_labels

    label(labelling_store)  # A: 10 candidates
    a = variant(labelling_store, 10)
    label(labelling_store, kappa=12)  # B: other prompts, so other requests
    b = variant(labelling_store, 12)
    assert len(a) == len(b) == 12 and not set(a.values()) & set(b.values())
    assert picked(labelling_store) == b
    calls = use_fixture.chat_calls
    linked = uses(labelling_store)
    again = label(labelling_store)  # A again: every answer is in the store, nothing is asked
    assert again.cached == 12 and again.sent == 0 and use_fixture.chat_calls == calls
    assert again.answered == 12 and again.tokens == {"prompt": 12 * 120, "output": 12 * 30}
    assert picked(labelling_store) == a
    rankings = {r["id"]: json.loads(r["ranking"]) for r in requests(labelling_store)}
    found = selection_labels(labelling_store, 1)
    assert all(lb.ranking == rankings[a[lb.session_key]] for lb in found)
    figures = audit(labelling_store, selection="sel")
    assert figures["requests"] == figures["answers"] == 12  # one label per session, not both
    # A's links were marked used again; nothing else about them changed, and B's are as they were
    relinked = uses(labelling_store)
    assert relinked.keys() == linked.keys() and len(linked) == 24
    for use_id, (request_id, session_id, selection_id, created_at, used_at) in relinked.items():
        assert (request_id, session_id, selection_id, created_at) == linked[use_id][:4]
        if request_id in a.values():
            assert used_at > linked[use_id][4]
        else:
            assert used_at == linked[use_id][4]
    label(labelling_store, kappa=12)  # B again, from the store too
    assert picked(labelling_store) == b and use_fixture.chat_calls == calls


def test_a_failed_question_does_not_hide_an_earlier_answer(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    label(labelling_store)
    a = variant(labelling_store, 10)
    use_fixture.faults = [400]  # B's first question is refused: failed, not retried
    b_job = label(labelling_store, kappa=12)
    assert b_job.failed_now == 1 and b_job.answered == 12 and b_job.failed == 0
    b = variant(labelling_store, 12)
    first = requests(labelling_store)[12]
    assert first["status"] == "failed" and first["id"] == min(b.values())
    (kept,) = [key for key, rid in b.items() if rid == first["id"]]
    assert picked(labelling_store) == {**b, kept: a[kept]}
    label(labelling_store, kappa=12)  # asks the failed one again: now B's labels throughout
    assert picked(labelling_store) == b


def test_a_second_selection_asking_the_same_questions_keeps_who_linked_them(
    labelling_store: Store, use_fixture, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from alkd_tui.pipeline.selection import import_selection

    label(labelling_store)
    label(labelling_store, kappa=12)
    a = variant(labelling_store, 10)
    linked = uses(labelling_store)
    calls = use_fixture.chat_calls
    some = list(a)[:3]
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(some) + "\n")
    import_selection(labelling_store, "games", ids, "some")
    labels.label_selection(labelling_store, "some", "ollama", model="fixture:1b",
                           candidates_from="teacher-rec", options=FAST)  # fmt: skip
    assert use_fixture.chat_calls == calls  # the same questions: answered from the store
    relinked = uses(labelling_store)
    assert relinked.keys() == linked.keys()
    for use_id, (request_id, _, selection_id, created_at, used_at) in relinked.items():
        assert selection_id == 1 and created_at == linked[use_id][3]  # the job that linked it
        assert (used_at > linked[use_id][4]) == (request_id in {a[k] for k in some})
    # Labels are per session: the sessions `some` shares with `sel` have A's label there too.
    assert picked(labelling_store) == {**variant(labelling_store, 12), **{k: a[k] for k in some}}
    # A link whose selection is gone takes the selection of the next job that uses it.
    with labelling_store.engine.begin() as conn:
        run_sql(conn, "UPDATE request_use SET selection_id = NULL")
    labels.label_selection(labelling_store, "some", "ollama", model="fixture:1b",
                           candidates_from="teacher-rec", options=FAST)  # fmt: skip
    filled = {use[0]: use[2] for use in uses(labelling_store).values() if use[2] is not None}
    assert filled == {a[k]: 2 for k in some}


# -- faults through a job ---------------------------------------------------------------


def final_states(store: Store) -> list[dict[str, Any]]:
    """Every request, checked to be in a final state with what that state needs."""
    stored = requests(store)
    for r in stored:
        assert r["status"] in ("answered", "failed"), r
        if r["status"] == "answered":
            assert r["raw_response"] is not None and r["parse_status"] and r["error"] is None
        else:
            assert r["error"] and r["raw_response"] is None
    return stored


def tcp_label(store: Store, url: str, **options: Any) -> dict[str, Any]:
    """A job through the real Ollama backend against a fixture server over TCP."""
    return labels.label_selection(
        store, "sel", "ollama", model="fixture:1b", hosts=[url], candidates_from="teacher-rec",
        options={**FAST, "timeout": 5, **options},
    )  # fmt: skip


def user_messages(bodies: list[dict[str, Any]]) -> list[str]:
    return [body["messages"][-1]["content"] for body in bodies]


def test_a_server_killed_mid_job_then_restarted_resumes_without_asking_again(
    labelling_store: Store, ollama_tcp_fixture
) -> None:  # type: ignore[no-untyped-def]
    server = ollama_tcp_fixture
    port = server.port
    server.die_after = 5  # the 6th question loses its connection and the server is gone
    first = tcp_label(labelling_store, server.url)
    assert first.answered == 5 and first.failed == 7 and first.pending == 0
    stored = final_states(labelling_store)
    assert len(stored) == 12
    for r in stored[5:]:  # the one in flight, then refused connections: each tried 3 times
        assert r["attempts"] == 3 and "Connection refused" in r["error"]  # the last attempt's
    answered_before = {r["id"]: r["raw_response"] for r in stored if r["status"] == "answered"}
    asked_before = user_messages(server.fixture.bodies)
    assert len(asked_before) == 5  # what the first server answered

    server.die_after = None
    server.start()  # the same port again
    assert server.port == port
    second = tcp_label(labelling_store, server.url)
    assert second.cached == 5 and second.answered_now == 7 and second.failed_now == 0
    assert second.answered == 12 and second.failed == 0 and second.pending == 0
    asked_after = user_messages(server.fixture.bodies)[5:]
    assert len(asked_after) == 7 and not set(asked_after) & set(asked_before)
    after = {r["id"]: r for r in final_states(labelling_store)}
    assert len(after) == 12
    assert all(after[k]["raw_response"] == raw for k, raw in answered_before.items())
    assert all(after[r["id"]]["attempts"] == 4 for r in stored[5:])  # 3 failed + 1 answered


def test_a_very_slow_answer_times_out_and_the_job_still_finishes(
    labelling_store: Store, ollama_tcp_fixture
) -> None:  # type: ignore[no-untyped-def]
    server = ollama_tcp_fixture
    server.fixture.chunks = 6
    server.delays = [
        ("silence", 2.5),  # request 1: nothing for longer than the timeout ...
        None,  # ... answered on its retry
        ("trickle", 0.45),  # request 2: streams, but takes longer than the timeout in all ...
        ("trickle", 0.45),  # ... on its retry too: failed
    ]
    result = tcp_label(labelling_store, server.url, timeout=1.0, retries=1)
    assert result.answered == 11 and result.failed == 1 and result.pending == 0
    stored = final_states(labelling_store)
    assert stored[0]["status"] == "answered" and stored[0]["attempts"] == 2
    assert stored[0]["parse_status"] == "ok"
    assert stored[1]["status"] == "failed" and stored[1]["attempts"] == 2
    assert "longer than 1 s" in stored[1]["error"]
    assert all(r["status"] == "answered" and r["attempts"] == 1 for r in stored[2:])


def test_malformed_bodies_and_an_error_mid_stream_end_in_final_states(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    use_fixture.faults = [
        "malformed", "garbage-body", "not-an-object",  # request 1: never a readable body
        "error-mid-stream", None,  # request 2: an error line, then answered on the retry
        "error-mid-stream", "error-mid-stream", "error-mid-stream",  # request 3: failed
    ]  # fmt: skip
    result = label(labelling_store)
    assert result.answered == 10 and result.failed == 2
    stored = final_states(labelling_store)
    assert [r["status"] for r in stored[:3]] == ["failed", "answered", "failed"]
    assert stored[0]["attempts"] == 3 and "malformed response" in stored[0]["error"]
    assert stored[1]["attempts"] == 2 and stored[1]["parse_status"] == "ok"
    candidates = json.loads(stored[1]["candidates"])
    # the whole answer of the retry, not the half that came before the error line
    assert json.loads(stored[1]["ranking"]) == list(reversed(candidates))[:5]
    assert stored[2]["attempts"] == 3 and "the runner stopped" in stored[2]["error"]
    assert all(r["status"] == "answered" for r in stored[3:])
    calls = use_fixture.chat_calls
    again = label(labelling_store)
    assert again.answered == 12 and again.cached == 10 and use_fixture.chat_calls == calls + 2
    final_states(labelling_store)


def test_an_unforeseen_backend_error_fails_that_request_and_the_job_goes_on(
    labelling_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alkd_tui.teacher.backends.base import Answer, TeacherInfo

    class BrokenTeacherStub:
        """A named stub backend whose third answer raises a bug-like error."""

        backend = "ollama"
        calls = 0

        def describe(self) -> TeacherInfo:
            return TeacherInfo(backend="ollama", model="stub:1b", digest="sha256:00")

        def ask(self, prompt: Any, options: dict[str, Any], attempt: int = 0) -> Answer:
            BrokenTeacherStub.calls += 1
            if BrokenTeacherStub.calls == 3:
                raise KeyError("surprise")
            return Answer(content=json.dumps({"ranking": prompt.candidates[: prompt.n]}))

    monkeypatch.setattr(labels, "make_teacher", lambda *args, **kwargs: BrokenTeacherStub())
    result = label(labelling_store)
    assert result.answered == 11 and result.failed == 1
    stored = final_states(labelling_store)
    assert stored[2]["status"] == "failed" and "unexpected KeyError" in stored[2]["error"]
    assert stored[2]["attempts"] == 1  # not retried: it is not a transient failure


# -- keep_alive -------------------------------------------------------------------------


def test_keep_alive_reaches_every_request_and_does_not_change_the_question(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    label(labelling_store, max_requests=2)
    assert [b["keep_alive"] for b in use_fixture.bodies] == ["10m", "10m"]  # the default
    label(labelling_store, keep_alive="1h30m", max_requests=2)
    assert [b["keep_alive"] for b in use_fixture.bodies[2:]] == ["1h30m", "1h30m"]
    label(labelling_store, keep_alive="0", max_requests=1)  # seconds: sent as a number
    assert use_fixture.bodies[4]["keep_alive"] == 0
    rest = label(labelling_store, keep_alive=-1)
    assert {b["keep_alive"] for b in use_fixture.bodies[5:]} == {-1}
    # not part of the prompt hash: 12 questions, each asked once whatever keep_alive was
    assert rest.cached == 5 and rest.answered == 12 and use_fixture.chat_calls == 12


def test_a_bad_keep_alive_is_one_clear_line(labelling_store: Store, use_fixture) -> None:  # type: ignore[no-untyped-def]
    from alkd_tui.errors import BadInputError

    with pytest.raises(
        BadInputError, match=r"--keep-alive 'ten minutes': .*'ten minutes' is not a duration"
    ):
        label(labelling_store, keep_alive="ten minutes")
    assert requests(labelling_store) == []


def test_label_cli_sends_keep_alive(labelling_store: Store, use_fixture, alkd) -> None:  # type: ignore[no-untyped-def]
    done = alkd("label", "sel", "--teacher", "ollama", "--model", "fixture:1b", "--candidates-from",
                "teacher-rec", "--n", "5", "--kappa", "10", "--keep-alive", "45m", "--json")  # fmt: skip
    assert done.code == 0, done.err
    assert json.loads(done.out)["answered"] == 12
    assert {b["keep_alive"] for b in use_fixture.bodies} == {"45m"}
    bad = alkd("label", "sel", "--model", "fixture:1b", "--keep-alive", "soon")
    assert bad.code == 2 and "--keep-alive" in bad.err and len(bad.err.strip().splitlines()) == 1


# -- faults: size, Retry-After ---------------------------------------------------------


def test_huge_answers_are_cut_with_their_own_parse_status(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    use_fixture.answer = lambda body: '{"ranking": ["' + "g1" * 1_000_000 + '"]}'
    result = label(labelling_store, max_answer_chars=10_000)
    assert result.answered == 12 and result.parse == {"too_long": 12}
    with labelling_store.read() as conn:
        longest = run_sql(conn, "SELECT MAX(LENGTH(raw_response)) FROM teacher_request"
        ).scalar()
        rankings = {r for (r,) in run_sql(conn, "SELECT ranking FROM teacher_request")}
    assert longest == 10_000 and rankings == {"[]"}
    if not labelling_store.is_server:  # (PostgreSQL compresses a long repeated answer anyway)
        assert labelling_store.size_bytes() < 2_000_000  # 12 answers of 2 MB did not land


def test_a_retry_after_is_waited_for_before_the_retry(labelling_store: Store, use_fixture) -> None:  # type: ignore[no-untyped-def]
    import time

    use_fixture.faults = [("retry-after", 1)]
    started = time.monotonic()
    result = label(labelling_store, max_requests=2, concurrency=1)
    assert time.monotonic() - started >= 0.95  # backoff is 0 here: the wait is the server's
    assert result.answered_now == 1 and result.failed_now == 0


def test_thinking_is_a_new_question_and_its_text_is_kept_unparsed(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    plain = label(labelling_store)
    assert "think" not in labels.LabelSettings().generation()  # earlier questions keep their hash
    thought = label(labelling_store, think=True)
    assert thought.cached == 0 and thought.answered_now == 12  # a different question
    assert [b["think"] for b in use_fixture.bodies] == [False] * 12 + [True] * 12
    with labelling_store.engine.connect() as conn:
        rows = run_sql(conn, "SELECT thinking, parse_status, options FROM teacher_request ORDER BY id"
        ).all()
    assert [r[0] for r in rows] == [None] * 12 + [use_fixture.thinking] * 12
    assert {r[1] for r in rows} == {"ok"} and plain.parse == thought.parse == {"ok": 12}


def test_the_model_facts_and_the_cost_are_kept_with_the_job(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    result = label(labelling_store, input_price=1.0, output_price=2.0)
    assert result.teacher["model_info"]["context_length"] == 8192
    assert result.cost == pytest.approx((12 * 120 * 1.0 + 12 * 30 * 2.0) / 1e6)
    with labelling_store.engine.connect() as conn:
        (config,) = run_sql(conn, "SELECT config FROM run WHERE kind = 'label'").one()
    assert json.loads(config)["model_info"]["capabilities"] == ["completion", "thinking"]
    assert "cost" not in label(labelling_store).as_json()  # no price, no cost


def test_a_prompt_too_long_for_the_context_is_refused_before_anything_is_stored(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    from alkd_tui.errors import BadInputError

    with pytest.raises(BadInputError, match=r"--num-ctx 256: the longest prompt is about \d+ tokens"):
        label(labelling_store, num_ctx=256, kappa=30)
    assert use_fixture.chat_calls == 0 and requests(labelling_store) == []
    with labelling_store.engine.connect() as conn:
        assert run_sql(conn, "SELECT count(*) FROM run WHERE kind = 'label'").scalar() == 0


def test_a_context_larger_than_the_model_was_trained_for_is_warned_about(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    events: list[Any] = []
    labels.label_selection(labelling_store, "sel", "ollama", model="fixture:1b",
                           candidates_from="teacher-rec", options={**FAST, "num_ctx": 16384},
                           report=events.append)  # fmt: skip
    warnings = [e.message for e in events if e.message and e.message.startswith("warning")]
    assert warnings == [
        "warning: --num-ctx 16384 is more than the 8192 tokens fixture:1b was trained for; "
        "answers about long prompts may suffer"
    ]


def test_calibration_questions_are_asked_audited_apart_and_never_labels(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    from alkd_tui.pipeline.audit import audit
    from alkd_tui.pipeline.distill import accepted_labels
    from alkd_tui.pipeline.review import accept_by_rule

    result = label(labelling_store, calibration=4)
    assert result.requests == 16 and result.answered == 12  # the selection's labels: members only
    assert result.calibration is not None and result.calibration["asked"] == 4
    assert result.calibration["sessions"] == 4 and 0 <= result.calibration["hit@10"] <= 1
    with labelling_store.engine.connect() as conn:
        splits = run_sql(conn, "SELECT s.split, count(*) FROM request_use u JOIN session s ON s.id = u.session_id "
            "GROUP BY s.split ORDER BY s.split"
        ).all()
    assert [tuple(r) for r in splits] == [("train", 12), ("valid", 4)]
    accept_by_rule(labelling_store, 1, "parsed")
    _, accepted = accepted_labels(labelling_store, 1, "sel", None)
    assert len(accepted) == 12  # calibration answers are never distilled
    audited = audit(labelling_store, selection="sel", student="teacher-rec")
    assert audited["answers"] == 12 and audited["calibration"]["answers"] == 4
    assert audited["classes_from"] == "calibration"
    assert sum(audited["classes"].values()) == 4
    leak = audited["candidate_leak"]
    assert leak["training"]["sessions"] == 12 and leak["validation"]["sessions"] == 4
    assert leak["validation_from"] == "calibration questions"
    everything = audit(labelling_store)  # no filter: still the labels apart from calibration
    assert everything["answers"] == 12 and everything["calibration"]["answers"] == 4
    again = label(labelling_store, calibration=4)
    assert again.sent == 0 and again.cached == 16  # the same draw: nothing asked twice


def test_an_llm_sees_cross_fitted_candidates_and_tr_the_teacher_itself(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    from alkd_tui.data import load_dataset
    from alkd_tui.pipeline.cross_fit import training_folds
    from alkd_tui.pipeline.models import get_model, list_models, train_recommender

    def fold_models() -> list[str]:
        return sorted(m.name for m in list_models(labelling_store) if m.role == "fold")

    def label(**options: Any) -> LabelResult:
        return labels.label_selection(labelling_store, "sel", "ollama", model="fixture:1b",
                                      candidates_from="strong", options={**FAST, **options})  # fmt: skip

    train_recommender(labelling_store, "games", "teacher", {  # one that learns (and memorises)
        "architecture": "fpmc", "dim": 16, "epochs": 20, "loss": "ce", "lr": 1e-2, "batch_size": 64,
        "patience": 20}, name="strong")  # fmt: skip
    label()
    ds = load_dataset(labelling_store, "games")
    seed = get_model(labelling_store, "strong").config["train"]["seed"]
    members = [idx for _, idx, _ in labels.selection_sessions(labelling_store, 1)]
    needed = {int(k) for k in training_folds(ds, 5, seed)[members]}
    assert fold_models() == sorted(f"strong-cf{k + 1}of5" for k in needed)  # only those asked
    label(candidates="full")  # the paper's lists: other questions
    with labelling_store.engine.connect() as conn:
        lists = [json.loads(r[0]) for r in run_sql(conn, "SELECT candidates FROM teacher_request ORDER BY id").all()]  # fmt: skip
    assert len(lists) == 24 and lists[:12] != lists[12:]
    label()  # the fold models are kept and reused
    assert len(fold_models()) == len(needed)
    tr = labels.label_selection(labelling_store, "sel", "tr", candidates_from="strong",
                                options=FAST)  # fmt: skip
    assert tr.answered == 12 and len(fold_models()) == len(needed)
    with labelling_store.engine.connect() as conn:
        tr_lists = [r[0] for r in run_sql(conn, "SELECT candidates FROM teacher_request WHERE backend = 'tr' ORDER BY id").all()]  # fmt: skip
    assert [json.loads(c) for c in tr_lists] == lists[12 : 12 + len(tr_lists)]  # the full teacher's
