"""Several reviewers: the rule that decides a label's status, and their agreement."""

from __future__ import annotations

import pytest

from alkd_tui.pipeline.agreement import agreement, cohen_kappa
from alkd_tui.pipeline.review import decide


def test_with_one_decision_required_the_latest_standing_decision_by_anyone_stands() -> None:
    events = [("ann", "accept", None), ("bob", "reject", None)]
    assert decide(events).status == "rejected"
    # bob's undo takes back bob's decision, not ann's
    state = decide([*events, ("bob", "undo", None)])
    assert state.status == "accepted" and state.verdicts == (("ann", "accepted"),)
    assert decide([("ann", "accept", None), ("bob", "undo", None)]).status == "accepted"


def test_with_two_required_a_label_waits_then_the_majority_decides() -> None:
    one = decide([("ann", "accept", None)], required=2)
    assert one.status == "pending" and one.decided == 1
    edit = {"ranking": [3, 1]}
    agreed = decide([("ann", "edit", edit), ("bob", "accept", None)], required=2)
    assert agreed.status == "accepted" and agreed.edited_ranking == [3, 1]
    split = decide([("ann", "accept", None), ("bob", "reject", None)], required=2)
    assert split.status == "flagged" and split.disagreement and split.edited_ranking is None
    settled = decide(
        [("ann", "accept", None), ("bob", "reject", None), ("cy", "reject", None)], required=2
    )
    assert settled.status == "rejected"
    skipped = decide([("ann", "accept", None), ("bob", "skip", None)], required=2)
    assert skipped.status == "pending" and not skipped.disagreement  # a skip is no verdict


def test_cohens_kappa_by_hand() -> None:
    # agreement 3/4; chance (.5 x .25 + .5 x .75) = .5; kappa (.75 - .5) / (1 - .5) = .5
    assert cohen_kappa(["a", "a", "r", "r"], ["a", "r", "r", "r"]) == pytest.approx(0.5)
    assert cohen_kappa(["a", "r"], ["a", "r"]) == pytest.approx(1.0)
    assert cohen_kappa(["a", "r"], ["r", "a"]) == pytest.approx(-1.0)
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None  # chance agreement is certain
    assert cohen_kappa([], []) is None


def test_agreement_pairs_light_kappa_and_disagreements() -> None:
    labels = [
        (1, (("ann", "accepted"), ("bob", "accepted"), ("cy", "accepted"))),
        (2, (("ann", "accepted"), ("bob", "rejected"))),
        (3, (("ann", "rejected"), ("bob", "rejected"), ("cy", "skipped"))),
        (4, (("ann", "rejected"), ("bob", "rejected"), ("cy", "accepted"))),
    ]
    found = agreement(labels)
    assert found["reviewers"] == ["ann", "bob", "cy"]
    pairs = {tuple(p["reviewers"]): p for p in found["pairs"]}
    assert pairs[("ann", "bob")]["labels"] == 4 and pairs[("ann", "bob")]["percent"] == 75.0
    assert pairs[("ann", "bob")]["kappa"] == pytest.approx(0.5)
    assert pairs[("ann", "cy")]["labels"] == 2 and pairs[("ann", "cy")]["percent"] == 50.0
    assert found["disagreements"] == [2, 4]
    assert found["percent"] == pytest.approx(round(100 * (3 + 1 + 1) / (4 + 2 + 2), 1))
