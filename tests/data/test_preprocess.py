"""The SR-GNN preprocessing on hand-made click logs."""

from __future__ import annotations

import numpy as np
import pytest

from alkd_tui.data.canonical import ClickLog, SessionDataset
from alkd_tui.data.preprocess import DAY, PreprocessOptions, sessionize_by_gap, sessions_from_clicks
from alkd_tui.errors import BadInputError


def log(rows: list[tuple[str, str, float]]) -> ClickLog:
    """A click log from (session, item, time) rows."""
    s_keys: dict[str, int] = {}
    i_keys: dict[str, int] = {}
    s = np.array([s_keys.setdefault(r[0], len(s_keys)) for r in rows])
    i = np.array([i_keys.setdefault(r[1], len(i_keys)) for r in rows])
    return ClickLog(
        "test", s, i, np.array([r[2] for r in rows], dtype=float), list(s_keys), list(i_keys)
    )


def seqs(ds: SessionDataset) -> list[list[str]]:
    return [
        [ds.item_ids[i] for i in ds.inputs(k)] + [ds.item_ids[ds.targets[k]]]
        for k in range(ds.n_sessions)
    ]


def test_rare_items_and_short_sessions_are_dropped_until_stable() -> None:
    # With support >= 2: "z" (once) goes; then session 3 has one click left and goes;
    # that leaves "y" with one click, so "y" goes too, and session 2 shrinks to [a, b].
    rows = [("1", "a", 1), ("1", "b", 2), ("2", "a", 3), ("2", "b", 4), ("2", "y", 5),
            ("3", "y", 6), ("3", "z", 7), ("4", "a", 8), ("4", "b", 9)]  # fmt: skip
    ds = sessions_from_clicks(
        log(rows), PreprocessOptions(min_item_support=2, valid_fraction=0, test_fraction=0.34)
    )
    assert seqs(ds) == [["a", "b"], ["a", "b"], ["a", "b"]]
    assert ds.notes["dropped_clicks"] == 3


def test_test_days_split_by_session_end_time() -> None:
    rows = [("1", "a", 0), ("1", "b", 10), ("2", "b", 5 * DAY), ("2", "a", 5 * DAY + 1),
            ("3", "a", 9 * DAY), ("3", "b", 9.5 * DAY)]  # fmt: skip
    ds = sessions_from_clicks(
        log(rows), PreprocessOptions(min_item_support=1, valid_fraction=0, test_days=1)
    )
    assert ds.split_counts() == {"train": 2, "valid": 0, "test": 1}
    assert ds.session_ids[-1] == "3"


def test_validation_is_the_latest_share_of_training() -> None:
    rows = [(str(k), item, k * 10 + j) for k in range(10) for j, item in enumerate("ab")]
    ds = sessions_from_clicks(
        log(rows), PreprocessOptions(min_item_support=1, valid_fraction=0.25, test_fraction=0.2)
    )
    assert ds.split_counts() == {"train": 6, "valid": 2, "test": 2}
    assert ds.session_ids == [str(k) for k in range(10)]  # train, then valid, then test, by time
    assert list(ds.split) == [0] * 6 + [1] * 2 + [2] * 2


def test_test_items_unseen_in_training_are_removed() -> None:
    rows = [("1", "a", 1), ("1", "b", 2), ("2", "a", 100), ("2", "new", 101), ("2", "b", 102)]
    ds = sessions_from_clicks(
        log(rows), PreprocessOptions(min_item_support=1, valid_fraction=0, test_fraction=0.5)
    )
    assert seqs(ds) == [["a", "b"], ["a", "b"]]
    assert "new" not in ds.item_ids


def test_prefix_augmentation_and_max_length() -> None:
    rows = [("1", x, t) for t, x in enumerate("abcd")] + [
        ("2", x, 10 + t) for t, x in enumerate("abcd")
    ]
    opts = PreprocessOptions(
        min_item_support=1, valid_fraction=0, test_fraction=0.5, augment_prefixes=True, max_length=2
    )
    ds = sessions_from_clicks(log(rows), opts)
    assert ds.session_ids == ["1:1", "1:2", "1:3", "2:1", "2:2", "2:3"]
    assert seqs(ds)[:3] == [["a", "b"], ["a", "b", "c"], ["b", "c", "d"]]
    assert list(ds.split) == [0, 0, 0, 2, 2, 2]


def test_max_length_without_augmentation_keeps_the_last_inputs() -> None:
    rows = [("1", x, t) for t, x in enumerate("abcde")] + [
        ("2", x, 10 + t) for t, x in enumerate("ab")
    ]
    ds = sessions_from_clicks(
        log(rows),
        PreprocessOptions(min_item_support=1, valid_fraction=0, test_fraction=0.5, max_length=3),
    )
    assert seqs(ds) == [["b", "c", "d", "e"], ["a", "b"]]


def test_items_are_indexed_by_first_appearance_in_training() -> None:
    rows = [
        ("2", "q", 1),
        ("2", "p", 2),
        ("1", "p", 3),
        ("1", "q", 4),
        ("3", "p", 50),
        ("3", "q", 51),
    ]
    ds = sessions_from_clicks(
        log(rows), PreprocessOptions(min_item_support=1, valid_fraction=0, test_fraction=0.34)
    )
    assert ds.item_ids == ["q", "p"]


def test_gap_sessions_keep_file_order_on_tied_times() -> None:
    user = np.array([0, 0, 0, 1, 0])
    time = np.array([5.0, 5.0, 1.0, 0.0, 5000.0])
    codes = sessionize_by_gap(user, time, gap=100)
    assert codes.tolist() == [0, 0, 0, 2, 1]


def test_nothing_left_after_filtering_is_a_clear_error() -> None:
    rows = [("1", "a", 1), ("1", "b", 2)]
    with pytest.raises(BadInputError, match="no session is left"):
        sessions_from_clicks(log(rows), PreprocessOptions())


def test_test_days_needs_times() -> None:
    lg = log([("1", "a", 0), ("1", "b", 1)])
    lg.has_time = False
    with pytest.raises(BadInputError, match="needs a time column"):
        sessions_from_clicks(lg, PreprocessOptions(test_days=1, min_item_support=1))


def test_options_refuse_both_test_rules() -> None:
    with pytest.raises(ValueError, match="not both"):
        PreprocessOptions(test_days=1, test_fraction=0.2)
