"""Review decisions: append-only events, status from history (undo, edit), accept by rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.config import load_config
from alkd_tui.pipeline.labels import label_selection
from alkd_tui.pipeline.review import accept_by_rule, confidence, record_review, selection_labels
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql


@pytest.fixture
def labelled(labelling_store: Store) -> Store:
    label_selection(
        labelling_store, "sel", "tr", candidates_from="teacher-rec", options={"n": 5, "kappa": 10}
    )
    return labelling_store


def test_status_follows_the_standing_decisions(labelled: Store) -> None:
    first = selection_labels(labelled, 1)[0]
    assert first.status == "pending"
    record_review(labelled, first.request_id, "accept")
    record_review(labelled, first.request_id, "reject", note="second thoughts")
    assert selection_labels(labelled, 1)[0].status == "rejected"
    record_review(labelled, first.request_id, "undo")
    assert selection_labels(labelled, 1)[0].status == "accepted"
    record_review(labelled, first.request_id, "undo")
    assert selection_labels(labelled, 1)[0].status == "pending"
    with pytest.raises(BadInputError, match="has no decision to undo"):  # nothing left: refused
        record_review(labelled, first.request_id, "undo")
    record_review(labelled, first.request_id, "accept", reviewer="ann")
    with pytest.raises(BadInputError, match="standing: ann accepted; undo takes back only your own"):
        record_review(labelled, first.request_id, "undo", reviewer="bob")
    with labelled.engine.connect() as conn:
        assert run_sql(conn, "SELECT COUNT(*) FROM review_event").scalar() == 5


def test_an_edit_replaces_the_ranking_and_accepts_it(labelled: Store) -> None:
    label = selection_labels(labelled, 1)[1]
    record_review(labelled, label.request_id, "edit", after={"ranking": [3, 1, 2]})
    edited = selection_labels(labelled, 1)[1]
    assert edited.ranking == [3, 1, 2] and edited.status == "accepted" and edited.edited
    record_review(labelled, label.request_id, "undo")
    assert selection_labels(labelled, 1)[1].ranking == label.ranking


def test_accept_by_rule_takes_only_pending_labels(labelled: Store) -> None:
    labels = selection_labels(labelled, 1)
    record_review(labelled, labels[0].request_id, "reject")
    result = accept_by_rule(labelled, 1, "parsed")
    assert result == {"accepted": 11, "not_matching": 0}
    statuses = [label.status for label in selection_labels(labelled, 1)]
    assert statuses.count("accepted") == 11 and statuses[0] == "rejected"
    assert accept_by_rule(labelled, 1, "parsed") == {"accepted": 0, "not_matching": 0}


def test_bad_decisions_are_refused(labelled: Store) -> None:
    with pytest.raises(BadInputError, match="review action 'approve'"):
        record_review(labelled, 1, "approve")
    with pytest.raises(BadInputError, match="needs the new ranking"):
        record_review(labelled, 1, "edit")
    with pytest.raises(BadInputError, match="no teacher request 999"):
        record_review(labelled, 999, "accept")


@pytest.fixture
def scored(labelling_store: Store, tmp_path: Path) -> tuple[Store, dict[str, float | None]]:
    """Recorded answers for the 12 sessions: answer k scores its top choice k/12, except the
    last three, which give no scores."""
    with labelling_store.engine.connect() as conn:
        keys = [r[0] for r in run_sql(conn, 'SELECT s.external_id FROM selection_member m JOIN session s ON s.id = m.session_id ORDER BY m."order"')]  # fmt: skip
    top: dict[str, float | None] = {}
    lines = []
    for k, key in enumerate(keys, start=1):
        record: dict[str, object] = {
            "session_id": key,
            "model": "scored",
            "ranking": ["g1", "g2", "g3"],
        }
        if k <= 9:
            top[key] = k / 12
            record["scores"] = [k / 12, (1 - k / 12) / 2, (1 - k / 12) / 2]
        else:
            top[key] = None
        lines.append(json.dumps(record))
    path = tmp_path / "scored.jsonl"
    path.write_text("\n".join(lines) + "\n")
    label_selection(labelling_store, "sel", "replay", file=path, options={"n": 3})
    return labelling_store, top


def test_confidence_is_the_score_of_the_top_choice(scored) -> None:  # type: ignore[no-untyped-def]
    store, top = scored
    found = {label.session_key: confidence(label) for label in selection_labels(store, 1)}
    assert found == pytest.approx(top)


def test_accept_by_minimum_confidence(scored) -> None:  # type: ignore[no-untyped-def]
    store, top = scored
    result = accept_by_rule(store, 1, "parsed", min_confidence=0.5)
    sure = {key for key, p in top.items() if p is not None and p >= 0.5}
    assert len(sure) == 4  # 6/12 ... 9/12
    assert result == {
        "accepted": len(sure),
        "not_matching": 12 - len(sure),
        "without_confidence": 3,
    }
    labels = selection_labels(store, 1)
    assert {lb.session_key for lb in labels if lb.status == "accepted"} == sure
    with store.engine.connect() as conn:
        notes = {r[0] for r in run_sql(conn, "SELECT note FROM review_event")}
    assert notes == {"rule: parsed, confidence >= 0.5"}
    # No scores, no confidence: a threshold of 0 still leaves them pending.
    assert accept_by_rule(store, 1, "parsed", min_confidence=0.0) == {
        "accepted": 5, "not_matching": 3, "without_confidence": 3}  # fmt: skip
    with pytest.raises(BadInputError, match="minimum confidence 80: a probability"):
        accept_by_rule(store, 1, "parsed", min_confidence=80)


def test_the_run_config_takes_a_minimum_confidence() -> None:
    assert load_config(None, ["review.min_confidence=0.8"]).review.min_confidence == 0.8
    assert load_config(None, []).review.min_confidence is None
    with pytest.raises(BadInputError, match=r"review\.min_confidence"):
        load_config(None, ["review.min_confidence=2"])


def test_review_decisions_stay_with_their_answers_when_the_label_changes(labelled: Store) -> None:
    def tr(n: int) -> None:  # the TR teacher answers with its top n candidates
        label_selection(
            labelled, "sel", "tr", candidates_from="teacher-rec", options={"n": n, "kappa": 10}
        )

    first = selection_labels(labelled, 1)  # A: five items, from the fixture's job
    assert {len(lb.ranking) for lb in first} == {5}
    record_review(labelled, first[0].request_id, "accept")
    record_review(labelled, first[1].request_id, "reject")
    tr(4)  # B: other questions; their answers are the labels now, none reviewed yet
    second = selection_labels(labelled, 1)
    assert {len(lb.ranking) for lb in second} == {4}
    assert not {lb.request_id for lb in first} & {lb.request_id for lb in second}
    assert {lb.status for lb in second} == {"pending"}
    assert accept_by_rule(labelled, 1, "parsed") == {"accepted": 12, "not_matching": 0}
    tr(5)  # A again: nothing asked, A's answers with A's decisions
    again = selection_labels(labelled, 1)
    assert [lb.request_id for lb in again] == [lb.request_id for lb in first]
    assert [lb.status for lb in again] == ["accepted", "rejected"] + ["pending"] * 10
    assert accept_by_rule(labelled, 1, "parsed") == {"accepted": 10, "not_matching": 0}
    tr(4)  # B again: B's, all accepted as they were
    assert [lb.request_id for lb in selection_labels(labelled, 1)] == [
        lb.request_id for lb in second
    ]
    assert {lb.status for lb in selection_labels(labelled, 1)} == {"accepted"}
