"""The series the Runs area draws: a model's learning curve and a label curve."""

from __future__ import annotations

from alkd_tui.tui.widgets.runs.curves import label_curve_series, learning_series, preferred_metric


def test_a_learning_curve_has_the_loss_and_the_checked_validation_figure() -> None:
    history = [
        {"epoch": 0, "loss": None, "valid": {"recall@20": 0.10, "mrr@20": 0.05}},  # distil's start
        {"epoch": 1, "loss": 2.0, "valid": {}},
        {"epoch": 2, "loss": 1.5, "valid": {"recall@20": 0.14, "mrr@20": 0.06}},
    ]
    series = learning_series("m", history)
    assert series is not None and series.title == "learning curve: m"
    assert (series.x_left, series.left) == ([1.0, 2.0], [2.0, 1.5])
    assert (series.x_right, series.right) == ([0.0, 2.0], [0.10, 0.14])
    assert series.right_label == "valid recall@20"
    assert learning_series("m", []) is None
    assert preferred_metric({"mrr@10": 1.0, "recall@10": 2.0, "recall@20": 3.0}) == "recall@10"


def test_a_label_curve_has_the_mean_over_seeds_by_labels() -> None:
    metrics = [{"step": "curve", "split": "valid", "name": n, "value": v} for n, v in {
        "student": 0.10, "0.5 labels": 20, "1 labels": 40, "0.5 seed 0": 0.11, "0.5 seed 1": 0.13,
        "1 seed 0": 0.15, "1 seed 1": 0.17}.items()]  # fmt: skip
    run = {"kind": "curve", "name": "sel", "metrics": metrics,
           "config": {"fractions": [0.5, 1.0], "metric": "recall@10"}}  # fmt: skip
    series = label_curve_series(run)
    assert series is not None and series.x_left == [0.0, 20.0, 40.0]
    assert [round(y, 4) for y in series.left] == [0.10, 0.12, 0.16]
    assert label_curve_series({"metrics": [], "config": {}}) is None
