"""The label curve (`alkd curve`): nested fractions, the verdict, refusals, the stored run."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.curve import label_curve, nested_subsets, summarise
from alkd_tui.pipeline.curve_settings import CurveSettings
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql


def test_fractions_are_nested_for_each_seed_and_differ_between_seeds() -> None:
    small, mid, full = nested_subsets(40, [0.25, 0.5, 1.0], seed=1)
    assert (len(small), len(mid), len(full)) == (10, 20, 40)
    assert set(small) <= set(mid) <= set(full) == set(range(40))
    assert set(nested_subsets(40, [0.25, 1.0], seed=2)[0]) != set(small)


def test_settings_read_comma_separated_fractions_and_name_the_minimum() -> None:
    settings = CurveSettings(fractions=["0.5,0.25", "1"])  # type: ignore[list-item]
    assert settings.fractions == [0.25, 0.5, 1.0] and settings.minimum() == 40
    with pytest.raises(ValueError, match="at least two fractions"):
        CurveSettings(fractions=[1.0])
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        CurveSettings(fractions=[0.5, 1.5])


def test_the_verdict_follows_the_last_step_against_the_seeds_spread() -> None:
    rising = [[0.10, 0.12, 0.14], [0.11, 0.13, 0.15], [0.10, 0.12, 0.145]]
    points, last, se, nxt, verdict = summarise([25, 50, 100], rising, student_value=0.09)
    assert [p.labels for p in points] == [25, 50, 100]
    assert points[-1].gain == pytest.approx(np.mean([0.14, 0.15, 0.145]) - 0.09)
    assert last == pytest.approx(0.0217, abs=1e-3) and se > 0
    assert "more labels will probably help" in verdict and nxt["labels"] == 200 and nxt["gain"] > 0
    flat = [[0.10, 0.120, 0.121], [0.11, 0.125, 0.122], [0.10, 0.118, 0.119]]
    assert "flattened" in summarise([25, 50, 100], flat, 0.09)[4]
    falling = [[0.10, 0.12, 0.10], [0.11, 0.13, 0.11], [0.10, 0.12, 0.101]]
    assert "unlikely to help" in summarise([25, 50, 100], falling, 0.09)[4]
    same = [[0.10, 0.12], [0.10, 0.12]]  # no spread at all: still a verdict, no division by zero
    assert "the seeds agree exactly" in summarise([10, 20], same, 0.09)[4]


@pytest.fixture
def labelled(labelling_store: Store) -> Store:
    """The selection `sel` labelled by the teacher recommender (tr) and accepted; a student."""
    from alkd_tui.pipeline import labels
    from alkd_tui.pipeline.models import train_recommender
    from alkd_tui.pipeline.review import accept_by_rule

    labels.label_selection(labelling_store, "sel", "tr", candidates_from="teacher-rec",
                           options={"n": 5, "kappa": 10})  # fmt: skip
    accept_by_rule(labelling_store, 1, "parsed")
    train_recommender(labelling_store, "games", "student", {"architecture": "fpmc", "dim": 8, "epochs": 2,
                      "loss": "ce", "lr": 1e-2, "batch_size": 64}, name="stu")  # fmt: skip
    return labelling_store


def test_a_curve_is_distilled_evaluated_and_stored_as_a_run(labelled: Store) -> None:
    settings = CurveSettings(fractions=[0.5, 1.0], seeds=2, min_labels=3)
    result = label_curve(labelled, "sel", "stu", settings)
    assert (result.accepted, result.seeds, result.split) == (12, 2, "valid")
    assert [p.labels for p in result.points] == [6, 12]
    assert all(len(p.values) == 2 for p in result.points)
    assert result.points[0].fraction == 0.5 and result.next_step["labels"] == 24
    with labelled.engine.connect() as conn:
        kind, status, config = run_sql(conn, "SELECT kind, status, config FROM run WHERE id = ?", (result.run,)
        ).one()
        metrics = dict(run_sql(conn, "SELECT name, value FROM runmetric WHERE run_id = ?", (result.run,)).all())  # fmt: skip
    assert (kind, status) == ("curve", "done") and json.loads(config)["fractions"] == [0.5, 1.0]
    assert metrics["1 mean"] == pytest.approx(result.points[1].mean)
    assert metrics["0.5 seed 1"] == pytest.approx(result.points[0].values[1])
    again = label_curve(labelled, "sel", "stu", settings)  # seeded: the same curve
    assert [p.values for p in again.points] == [p.values for p in result.points]


def test_too_few_accepted_labels_are_refused_naming_the_minimum(labelled: Store) -> None:
    with pytest.raises(BadInputError, match=r"has 12 accepted labels: fractions 0.25,0.5,0.75,1 need at least 40"):
        label_curve(labelled, "sel", "stu")
    with labelled.engine.connect() as conn:
        assert run_sql(conn, "SELECT count(*) FROM run WHERE kind = 'curve'").scalar() == 0


def test_the_cli_prints_the_curve_and_its_json(labelled: Store, alkd: Any) -> None:
    done = alkd("curve", "sel", "--student", "stu", "--fractions", "0.5,1", "--seeds", "2",
                "--min-labels", "3", "--json", db=labelled.target)  # fmt: skip
    assert done.code == 0, done.err
    data = json.loads(done.out)
    assert {"selection", "student", "points", "verdict", "next_step", "last_gain", "run"} <= set(data)
    human = alkd("curve", "sel", "--student", "stu", "--fractions", "0.5", "--fractions", "1",
                 "--seeds", "2", "--min-labels", "3", db=labelled.target)  # fmt: skip
    assert human.code == 0 and "label curve of sel" in human.out and "next step" in human.err


def test_a_stored_curve_reads_back_with_its_verdict(labelled: Store) -> None:
    from alkd_tui.pipeline.curve import curve_of_run
    from alkd_tui.pipeline.history import show_run

    made = label_curve(labelled, "sel", "stu", CurveSettings(fractions=[0.5, 1.0], seeds=2, min_labels=3))
    read = curve_of_run(show_run(labelled, str(made.run)))
    assert read is not None
    assert read.model_dump(exclude={"points"}) == made.model_dump(exclude={"points"})
    assert [p.values for p in read.points] == [p.values for p in made.points]
