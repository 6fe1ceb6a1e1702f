"""Read-only views for interactive faces: the review queue, one label in full, review
states after decisions, recent answers, item look-ups, a student's top-k for one session,
the teacher server probe, and the audit's strategy filter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alkd_tui.errors import BadInputError, NotFoundError
from alkd_tui.pipeline.audit import audit
from alkd_tui.pipeline.labels import label_selection
from alkd_tui.pipeline.models import train_recommender
from alkd_tui.pipeline.review import record_review
from alkd_tui.pipeline.teacher_server import (
    normalize_host,
    probe_server,
    server_models,
    teacher_host,
)
from alkd_tui.pipeline.views import (
    dataset_formats,
    find_items,
    label_detail,
    recent_answers,
    review_queue,
    review_states,
    student_top_k,
    teacher_models,
)
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql


@pytest.fixture
def answered(labelling_store: Store, tmp_path: Path) -> Store:
    """Selection `sel` with recorded answers (scores) for its first six sessions."""
    with labelling_store.engine.connect() as conn:
        keys = [r[0] for r in run_sql(conn, 'SELECT s.external_id FROM selection_member m JOIN session s ON s.id = m.session_id ORDER BY m."order"')]  # fmt: skip
    path = tmp_path / "answers.jsonl"
    path.write_text("".join(
        json.dumps({"session_id": k, "model": "rec", "ranking": [f"g{(n + j) % 30}" for j in range(3)],
                    "scores": [0.9 - n / 10, 0.1, 0.05]}) + "\n" for n, k in enumerate(keys[:6])))  # fmt: skip
    label_selection(labelling_store, "sel", "replay", file=path, options={"n": 3})
    return labelling_store


def test_review_queue_and_states(answered: Store) -> None:
    queue = review_queue(answered, "sel")
    entries = queue["entries"]
    assert queue["size"] == 12 and queue["models"] == ["rec"] and len(entries) == 6
    assert [e.order for e in entries] == [0, 1, 2, 3, 4, 5]  # the fixture numbers from 0
    assert entries[0].top_score == pytest.approx(0.9) and entries[0].parse_status == "ok"
    assert entries[0].confidence == (5, pytest.approx(0.9))
    assert min(entries, key=lambda e: e.confidence).order == 5  # the lowest top score
    first, second = entries[0].request_id, entries[1].request_id
    record_review(answered, first, "accept", reviewer="ann")
    record_review(answered, first, "reject", reviewer="bob")
    record_review(answered, first, "accept", reviewer="bob")
    record_review(answered, second, "edit", after={"ranking": [5]}, reviewer="ann")
    record_review(answered, second, "flag", reviewer="ann")
    record_review(answered, second, "undo", reviewer="ann")
    record_review(answered, second, "reject", reviewer="bob")
    states = review_states(answered, [first, second])
    assert states[first] == {"status": "accepted", "edited": False, "ranked": 3,
                             "reviewers": ("ann", "bob"), "disagreement": False}  # fmt: skip
    assert states[second] == {"status": "rejected", "edited": True, "ranked": 1,
                              "reviewers": ("ann", "bob"), "disagreement": True}  # fmt: skip
    record_review(answered, second, "undo", reviewer="bob")
    assert review_states(answered, [second])[second]["status"] == "accepted"
    assert review_queue(answered, "sel", "nobody")["entries"] == []


def test_a_model_filter_keeps_its_labels_and_lists_every_model(
    answered: Store, tmp_path: Path
) -> None:
    """Two teacher models: the filtered queue holds one model's labels, the same entries the
    whole queue has for it, and still names both models (for the model picker)."""
    other = tmp_path / "other.jsonl"
    other.write_text("".join(
        json.dumps({**json.loads(line), "model": "other", "ranking": ["g1", "g2"]}) + "\n"
        for line in (tmp_path / "answers.jsonl").read_text().splitlines()[:4]))  # fmt: skip
    label_selection(answered, "sel", "replay", file=other, options={"n": 3})
    whole = review_queue(answered, "sel")
    assert whole["models"] == ["other", "rec"] and len(whole["entries"]) == 6 + 4
    for model, count in (("other", 4), ("rec", 6)):
        queue = review_queue(answered, "sel", model)
        assert queue["models"] == ["other", "rec"] and len(queue["entries"]) == count
        assert queue["entries"] == [e for e in whole["entries"] if e.model_name == model]
    assert all(e.ranked == 2 for e in review_queue(answered, "sel", "other")["entries"])


def test_review_states_of_many_requests_at_once(answered: Store) -> None:
    """Thousands of ids in one call (more than SQLite takes as parameters): the decided ones
    get their status, every other id (known or not) is pending."""
    from alkd_tui.pipeline.review import review_states as request_states

    first, second = (e.request_id for e in review_queue(answered, "sel")["entries"][:2])
    record_review(answered, first, "reject")
    record_review(answered, second, "edit", after={"ranking": [4, 5]})
    record_review(answered, second, "flag")
    ids = [*range(10_000, 50_000), second, first]
    with answered.engine.connect() as conn:
        states = request_states(conn, ids)
    assert len(states) == len(ids) and states[first].status == "rejected"
    assert states[second].status == "flagged" and states[second].edited_ranking == [4, 5]
    assert {s.status for i, s in states.items() if i not in (first, second)} == {"pending"}
    shown = review_states(answered, ids)[second]
    assert shown["status"] == "flagged" and shown["edited"] and shown["ranked"] == 2


def test_label_detail_has_everything_a_reviewer_needs(answered: Store) -> None:
    entry = review_queue(answered, "sel")["entries"][0]
    detail = label_detail(answered, entry.request_id)
    assert detail.session_key == entry.session_key and detail.status == "pending"
    assert detail.session and all((i.title or "").startswith("Game ") for i in detail.session)
    assert [i.score for i in detail.ranking] == pytest.approx([0.9, 0.1, 0.05])
    assert detail.target.is_target and (detail.target.title or "").startswith("Game ")
    assert detail.provenance["model"] == "rec" and detail.provenance["backend"] == "replay"
    assert json.loads(detail.raw_response)["ranking"] and detail.member["order"] == 0
    record_review(answered, entry.request_id, "edit", after={"ranking": [7, 8]}, note="why")
    edited = label_detail(answered, entry.request_id)
    assert [i.idx for i in edited.ranking] == [7, 8] and edited.edited
    assert [h["action"] for h in edited.history] == ["edit"] and edited.history[0]["note"] == "why"
    assert len(edited.answered_ranking) == 3
    with pytest.raises(NotFoundError):
        label_detail(answered, 10**6)


def test_items_answers_models_formats(answered: Store) -> None:
    assert [i.title for i in find_items(answered, 1, ["g3", " g4"])] == ["Game 3", "Game 4"]
    with pytest.raises(BadInputError, match="'nope'"):
        find_items(answered, 1, ["nope"])
    recent = recent_answers(answered, "sel")
    assert len(recent) == 6 and all(r["status"] == "answered" and r["ranked"] == 3 for r in recent)
    assert recent_answers(answered, "sel", since=recent[-1]["at"]) == []
    assert teacher_models(answered) == ["rec"]
    assert {"csv", "alkdrec"} <= {f["name"] for f in dataset_formats()}


def test_student_top_k_for_one_session(answered: Store) -> None:
    train_recommender(
        answered, "games", "student", {"architecture": "fpmc", "dim": 4, "epochs": 1}, name="stu"
    )
    entry = review_queue(answered, "sel")["entries"][0]
    top = student_top_k(answered, "stu", entry.session_index, 5)
    assert len(top) == 5 and all((t.title or "").startswith("Game ") for t in top)
    assert [t.score for t in top] == sorted((t.score for t in top), reverse=True)
    own = {i.idx for i in label_detail(answered, entry.request_id).session}
    assert not own & {t.idx for t in top}  # its own items are not proposed


def test_audit_filters_by_strategy(answered: Store) -> None:
    assert audit(answered, strategy="test")["answers"] == 6
    nothing = audit(answered, strategy="random")
    assert nothing["answers"] == 0 and nothing["filters"]["strategy"] == "random"


def test_teacher_server_probe(
    version_server: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    status = probe_server(version_server["url"])
    assert status.reachable and status.kind == "Ollama" and status.version == "0.9.0"
    version_server["version"] = "0.1.0-alkd-local"
    assert probe_server(version_server["url"]).kind == "local compatibility server"
    assert server_models(version_server["url"]) == ["a:1", "b"]
    down = probe_server("127.0.0.1:9", wait_s=0.5)
    assert not down.reachable and down.error and server_models("127.0.0.1:9", wait_s=0.5) == []
    monkeypatch.setenv("OLLAMA_HOST", "example:1234")
    assert teacher_host() == "http://example:1234"
    monkeypatch.delenv("OLLAMA_HOST")
    assert teacher_host() == "http://127.0.0.1:11434" and normalize_host("h") == "http://h:11434"


def test_review_queue_agrees_with_selection_labels(answered: Store) -> None:
    from alkd_tui.pipeline.review import selection_labels

    entries = review_queue(answered, "sel")["entries"]
    record_review(answered, entries[0].request_id, "reject")
    record_review(answered, entries[1].request_id, "edit", after={"ranking": [3, 4]})
    record_review(answered, entries[2].request_id, "flag")
    record_review(answered, entries[2].request_id, "undo")
    queue = review_queue(answered, "sel")["entries"]
    labels = selection_labels(answered, 1)
    assert [(e.request_id, e.session_id, e.status, e.edited, e.ranked) for e in queue] == [
        (lb.request_id, lb.session_id, lb.status, lb.edited, len(lb.ranking)) for lb in labels
    ]
    assert [e.top_score is None for e in queue] == [lb.scores is None for lb in labels]
    assert review_queue(answered, "sel", "rec")["models"] == ["rec"]


def test_the_review_queue_shows_the_latest_jobs_labels(answered: Store, tmp_path: Path) -> None:
    from alkd_tui.pipeline.review import selection_labels

    def queue_ids() -> list[int]:
        ids = [e.request_id for e in review_queue(answered, "sel")["entries"]]
        assert ids == [lb.request_id for lb in selection_labels(answered, 1)]
        return ids

    first = queue_ids()  # the fixture's recorded answers
    other = tmp_path / "other.jsonl"  # other answers of the same model: other requests
    other.write_text("".join(
        json.dumps({**json.loads(line), "ranking": ["g29", "g28"], "scores": [0.5, 0.4]}) + "\n"
        for line in (tmp_path / "answers.jsonl").read_text().splitlines()))  # fmt: skip
    label_selection(answered, "sel", "replay", file=other, options={"n": 3})
    second = queue_ids()
    assert len(second) == 6 and not set(first) & set(second)
    label_selection(answered, "sel", "replay", file=tmp_path / "answers.jsonl", options={"n": 3})
    assert queue_ids() == first  # the first answers again (from the store): theirs are the labels
