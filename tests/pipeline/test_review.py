"""Review decisions: append-only events, status from history (undo, edit), accept by rule."""

from __future__ import annotations

import pytest

from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.labels import label_selection
from alkd_tui.pipeline.review import accept_by_rule, record_review, selection_labels
from alkd_tui.store import Store


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
    record_review(labelled, first.request_id, "undo")  # nothing left to undo: harmless
    assert selection_labels(labelled, 1)[0].status == "pending"
    with labelled.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM review_event").scalar() == 5


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
