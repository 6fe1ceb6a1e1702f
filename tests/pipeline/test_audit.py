"""`audit` against hand-computed figures on a small stored set of answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from alkd_tui.data import load_dataset
from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.audit import audit
from alkd_tui.pipeline.export import label_rows
from alkd_tui.pipeline.labels import label_selection, label_summary
from alkd_tui.pipeline.models import get_model, load_trained
from alkd_tui.pipeline.review import record_review, selection_labels
from alkd_tui.pipeline.selection import create_selection, import_selection, show_selection
from alkd_tui.rec.instances import Instances
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql


def members(store: Store) -> list[tuple[str, int, int]]:
    """(session external id, instance index, target item index) of selection 1, in order."""
    with store.engine.connect() as conn:
        return [tuple(r) for r in run_sql(conn, # type: ignore[misc]
            'SELECT s.external_id, s.idx, s.target FROM selection_member m JOIN session s ON s.id = m.session_id '
            'WHERE m.selection_id = 1 ORDER BY m."order"')]  # fmt: skip


@pytest.fixture
def answered(labelling_store: Store, tmp_path: Path) -> tuple[Store, list[list[int]], list[int]]:
    """Recorded answers whose hits we choose: answer k puts the target at position k (k = 1..12),
    or leaves it out for k = 12; two answers repeat an id; one holds an id that is not an item."""
    ds = load_dataset(labelling_store, "games")
    rankings, targets = [], []
    lines = []
    for k, (key, _idx, target) in enumerate(members(labelling_store), start=1):
        others = [i for i in range(ds.n_items) if i != target][:30]
        ranking = [*others[: k - 1], target, *others[k - 1 : 24]] if k < 12 else others[:25]
        raw = [ds.item_ids[i] for i in ranking]
        if k in (3, 4):
            raw = [*raw[:5], raw[0], *raw[5:]]  # a duplicate id
        if k == 5:
            raw = [*raw, "not-an-item"]
        lines.append(json.dumps({"session_id": key, "model": "recorded", "ranking": raw}))
        rankings.append(ranking[:25])
        targets.append(target)
    path = tmp_path / "answers.jsonl"
    path.write_text("\n".join(lines) + "\n")
    label_selection(labelling_store, "sel", "replay", file=path, options={"n": 25})
    return labelling_store, rankings, targets


def test_hits_duplicates_and_unknown_ids(answered) -> None:  # type: ignore[no-untyped-def]
    store, _rankings, _targets = answered
    report = audit(store, selection="sel")
    assert report["answers"] == 12 and report["requests"] == 12
    # The target sits at position k for answer k (k = 1..11) and is missing from answer 12.
    assert report["hit@1"] == pytest.approx(1 / 12, abs=1e-6)
    assert report["hit@5"] == pytest.approx(5 / 12, abs=1e-6)
    assert report["hit@10"] == pytest.approx(10 / 12, abs=1e-6)
    assert report["hit@25"] == pytest.approx(11 / 12, abs=1e-6)
    assert report["duplicates"] == 2 and report["answers_with_duplicates"] == 2
    assert report["unknown_ids"] == 1
    assert report["by_model"]["recorded"]["answers"] == 12


def test_classes_against_a_student_by_hand(answered) -> None:  # type: ignore[no-untyped-def]
    store, rankings, _targets = answered
    row = get_model(store, "teacher-rec")
    model = load_trained(store, row)
    ds = load_dataset(store, "games")
    expected = {"effective": 0, "similar": 0, "incorrect": 0}
    for (_key, idx, target), ranking in zip(members(store), rankings, strict=True):
        batch = Instances.of_rows(ds, torch.tensor([idx]).numpy(), model.max_len).batch(slice(None))
        with torch.no_grad():
            scores = model.score_all(batch)[0]
        scores[batch.items[0][batch.items[0] != batch.pad]] = float("-inf")
        top = scores.argsort(descending=True)[:25].tolist()
        overlap = len(set(ranking) & set(top)) / 25
        if overlap >= 0.5 or (target in ranking and target in top):
            expected["similar"] += 1
        elif target in ranking:
            expected["effective"] += 1
        else:
            expected["incorrect"] += 1
    report = audit(store, selection="sel", student="teacher-rec")
    assert report["classes"] == expected
    assert report["effective"] == pytest.approx(expected["effective"] / 12, abs=1e-6)


def test_session_lists_hold_each_class_and_hit_and_make_an_oracle_pool(answered, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, _rankings, _targets = answered
    keys = [key for key, _idx, _target in members(store)]
    folder = tmp_path / "lists"
    report = audit(store, selection="sel", student="teacher-rec", sessions_dir=folder)

    def ids(name: str) -> list[str]:
        return (folder / f"{name}.txt").read_text().split()

    # Answer k holds the target at position k (k = 1..11); answer 12 misses it.
    assert ids("hit@1") == keys[:1] and ids("hit@5") == keys[:5]
    assert ids("hit@10") == keys[:10] and ids("hit@25") == keys[:11]
    assert ids("miss") == keys[11:]
    for name in ("effective", "similar", "incorrect"):
        assert len(ids(name)) == report["classes"][name], name
    assert sorted(ids("effective") + ids("similar") + ids("incorrect")) == sorted(keys)
    assert report["session_lists"]["files"]["hit@10.txt"] == 10
    # A list is a pool: the oracle-correct@10 selection is a random draw from it.
    oracle = create_selection(
        store, "games", "random", 4, seed=1, pool=f"ids:{folder / 'hit@10.txt'}", name="oracle"
    )
    drawn = {m["session"] for m in show_selection(store, oracle.name).members}
    assert len(drawn) == 4 and drawn <= set(keys[:10])
    without_student = audit(store, selection="sel", sessions_dir=tmp_path / "plain")
    assert sorted(p.name for p in (tmp_path / "plain").iterdir()) == [
        "hit@1.txt", "hit@10.txt", "hit@25.txt", "hit@5.txt", "miss.txt",
    ]  # fmt: skip
    assert without_student["session_lists"]["files"]["miss.txt"] == 1


def test_review_decisions_are_counted(answered) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = answered
    labels = selection_labels(store, 1)
    record_review(store, labels[0].request_id, "accept")
    record_review(store, labels[1].request_id, "accept")
    record_review(store, labels[2].request_id, "reject")
    report = audit(store, selection="sel")
    assert report["review"] == {"accepted": 2, "pending": 9, "rejected": 1}
    assert report["acceptance_rate"] == pytest.approx(2 / 3, abs=1e-6)


def test_measured_ratios_feed_the_next_selection(answered) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = answered
    with pytest.raises(BadInputError, match="no ratios measured"):
        create_selection(store, "games", "alkd", 5, teacher_model="teacher-rec", ratios="from:sel")
    report = audit(store, selection="sel", student="teacher-rec", overlap_threshold=0.99)
    if "estimated_ratios" not in report:
        pytest.fail(f"every class should occur here: {report['classes']}")
    saved = audit(
        store, selection="sel", student="teacher-rec", overlap_threshold=0.99, save_ratios=True
    )
    assert saved["saved_ratios"] == report["estimated_ratios"]
    made = create_selection(
        store, "games", "alkd", 5, teacher_model="teacher-rec", ratios="from:sel", name="next"
    )
    assert made.size == 5


def test_an_empty_audit(store: Store) -> None:
    report = audit(store)
    assert report["answers"] == 0 and report["hit@25"] is None


def test_overlapping_selections_count_each_session_once(
    labelling_store: Store, tmp_path: Path
) -> None:
    """A session labelled for two selections (two questions, so two answers from the same
    model) counts once in each selection's audit and export: its latest answer, the one
    review and distillation use."""
    store = labelling_store
    label_selection(
        store, "sel", "tr", candidates_from="teacher-rec", options={"n": 5, "kappa": 10}
    )
    keys = [key for key, _, _ in members(store)]
    with store.engine.connect() as conn:
        more = [r[0] for r in run_sql(conn, "SELECT external_id FROM session WHERE split = 'train' ORDER BY idx LIMIT 4 OFFSET 12")]  # fmt: skip
    ids = tmp_path / "other.txt"
    ids.write_text("\n".join([*keys[:6], *more]) + "\n")
    import_selection(store, "games", ids, "other")
    # Another question (8 items, not 5) about six of `sel`'s sessions: new answers, same model.
    label_selection(
        store, "other", "tr", candidates_from="teacher-rec", options={"n": 8, "kappa": 10}
    )
    with store.engine.connect() as conn:
        assert run_sql(conn, "SELECT COUNT(*) FROM teacher_request").scalar() == 12 + 10

    report = audit(store, selection="sel")
    assert report["answers"] == 12 and report["requests"] == 12
    assert report["by_model"]["tr:teacher-rec"]["answers"] == 12
    labels = selection_labels(store, 1)
    assert {lb.request_id for lb in labels} == {
        r["request"] for r in label_rows(store, selection="sel")
    }
    # The latest answer wins: the six shared sessions now have 8-item rankings.
    assert sorted(len(lb.ranking) for lb in labels) == [5] * 6 + [8] * 6
    assert audit(store, selection="other")["answers"] == 10
    assert label_summary(store, 1, "tr:teacher-rec")["answered"] == 12
    assert audit(store)["answers"] == 22  # without a selection, every stored answer


def test_the_ratios_a_selection_assumed_stand_beside_the_measured_ones(
    labelling_store: Store,
) -> None:
    store = labelling_store
    create_selection(
        store, "games", "alkd", 6, teacher_model="teacher-rec", ratios="2:5:3", name="assumed"
    )
    label_selection(
        store, "assumed", "tr", candidates_from="teacher-rec", options={"n": 5, "kappa": 10}
    )
    report = audit(store, selection="assumed", student="teacher-rec")
    assert report["assumed_ratios"] == {
        "ratios": "2:5:3", "effective": 0.2, "similar": 0.5, "incorrect": 0.3, "strategy": "alkd"}  # fmt: skip
    assert sum(report["classes"].values()) == 6
    # A selection whose strategy assumes no ratios (here: a list of sessions) has none.
    assert audit(store, selection="sel")["assumed_ratios"] is None
    assert "assumed_ratios" not in audit(store)


def test_a_repeated_audit_rereads_only_new_answers(answered, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Re-read answers are kept between audits (by their text, per catalogue): the same
    figures again, and a later job's answers (other text) are read afresh."""
    store, _rankings, _targets = answered
    first = audit(store, selection="sel")
    assert audit(store, selection="sel") == first
    ds = load_dataset(store, "games")
    lines = []
    for key, _idx, _target in members(store):
        raw = [ds.item_ids[i] for i in (1, 2, 2, 3)]  # every answer repeats an id
        lines.append(json.dumps({"session_id": key, "model": "recorded", "ranking": raw}))
    path = tmp_path / "again.jsonl"
    path.write_text("\n".join(lines) + "\n")
    label_selection(store, "sel", "replay", file=path)  # the latest job's answers are the labels
    again = audit(store, selection="sel")
    assert first["duplicates"] == 2 and again["duplicates"] == 12
    assert again["answers_with_duplicates"] == 12 and again["unknown_ids"] == 0


def test_kept_rereads_follow_the_catalogue(store: Store) -> None:
    from alkd_tui.pipeline.audit import _rereads

    kept = _rereads(store, 1, {"a": 0})
    kept[b"digest"] = (1, 0)
    assert _rereads(store, 1, {"a": 0}) is kept
    assert _rereads(store, 1, {"a": 1}) == {}  # another catalogue: nothing kept applies
