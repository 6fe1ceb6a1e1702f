"""Metrics against hand-computed values, ties and excluded items included."""

from __future__ import annotations

import math

import pytest
import torch

from alkd_tui.rec.metrics import metrics_from_ranks, ranks_near_top, ranks_of_targets, summarize


def metrics(scores: list[list[float]], targets: list[int], exclude: list[list[int]] | None = None, pad: int = -1,
            ks: tuple[int, ...] = (1, 2, 3)) -> dict[str, list[float]]:  # fmt: skip
    s = torch.tensor(scores)
    ex = torch.tensor(exclude) if exclude is not None else None
    g, e = ranks_of_targets(s, torch.tensor(targets), ex, pad)
    per_row = metrics_from_ranks(g, e, s.shape[1], ks)
    return {k: [round(x, 9) for x in v.tolist()] for k, v in per_row.items()}


def test_distinct_scores_by_hand() -> None:
    # Row 0: target (item 2) ranks 1st; row 1: target (item 0) ranks 3rd of 4.
    m = metrics([[0.1, 0.2, 0.9, 0.0], [0.1, 0.5, 0.3, 0.0]], [2, 0])
    assert m["recall@1"] == [1.0, 0.0]
    assert m["recall@2"] == [1.0, 0.0]
    assert m["recall@3"] == [1.0, 1.0]
    assert m["ndcg@3"] == [1.0, round(1 / math.log2(4), 9)]
    assert m["mrr@3"] == [1.0, round(1 / 3, 9)]
    assert m["mrr@2"] == [1.0, 0.0]


def test_ties_are_expected_values_under_random_order() -> None:
    # Target tied with one other item behind one better item: rank 2 or 3, each with p = 1/2.
    m = metrics([[0.9, 0.5, 0.5, 0.1]], [2])
    assert m["recall@1"] == [0.0]
    assert m["recall@2"] == [0.5]
    assert m["recall@3"] == [1.0]
    assert m["ndcg@2"] == [round(0.5 / math.log2(3), 9)]
    assert m["ndcg@3"] == [round(0.5 / math.log2(3) + 0.5 / math.log2(4), 9)]
    assert m["mrr@3"] == [round(0.5 / 2 + 0.5 / 3, 9)]


def test_an_untrained_model_scores_like_chance() -> None:
    n_items = 50
    scores = torch.zeros(7, n_items)
    g, e = ranks_of_targets(scores, torch.arange(7))
    m = summarize(metrics_from_ranks(g, e, n_items, (5, 10)))
    assert m["recall@10"] == pytest.approx(10 / n_items)
    assert m["recall@5"] == pytest.approx(5 / n_items)
    assert m["mrr@10"] == pytest.approx(sum(1 / r for r in range(1, 11)) / n_items, abs=1e-6)
    assert m["sessions"] == 7


def test_excluded_items_leave_the_ranking() -> None:
    # Items 0 and 1 are the session's own: without them the target (item 3) ranks 1st.
    scores = [[0.9, 0.8, 0.1, 0.5]]
    assert metrics(scores, [3])["recall@1"] == [0.0]
    m = metrics(scores, [3], exclude=[[0, 1]])
    assert m["recall@1"] == [1.0] and m["mrr@3"] == [1.0]


def test_padding_in_the_exclusion_list_is_ignored() -> None:
    m = metrics([[0.9, 0.8, 0.1, 0.5]], [3], exclude=[[0, 4]], pad=4)
    assert m["recall@1"] == [0.0] and m["recall@2"] == [1.0]


def test_an_excluded_target_is_a_miss() -> None:
    m = metrics([[0.1, 0.9, 0.2]], [1], exclude=[[1]])
    assert m["recall@3"] == [0.0] and m["ndcg@3"] == [0.0] and m["mrr@3"] == [0.0]


@pytest.mark.parametrize("seed", range(6))
def test_ranks_near_top_agree_with_the_full_comparison(seed: int) -> None:
    # Coarse integer scores make many ties, also at the depth-th place; sessions repeat
    # items, hold padding and sometimes the target itself.
    gen = torch.Generator().manual_seed(seed)
    n_items, rows, length, depth = 40, 300, 6, 5
    scores = torch.randint(0, 8 if seed % 2 else 60, (rows, n_items), generator=gen).float()
    targets = torch.randint(0, n_items, (rows,), generator=gen)
    own = torch.randint(0, n_items + 1, (rows, length), generator=gen)  # n_items = padding
    own[::7, 0] = targets[::7]
    for exclude in (None, own):
        fast = ranks_near_top(scores, targets, depth, exclude, n_items)
        full = ranks_of_targets(scores, targets, exclude, n_items)
        ks = (1, 3, depth)
        a = metrics_from_ranks(*fast, n_items, ks)
        b = metrics_from_ranks(*full, n_items, ks)
        for name in b:
            assert torch.allclose(a[name], b[name], atol=1e-12), name
        # Where the target can reach the top `depth`, the counts themselves are exact.
        near = full[0] < depth
        assert torch.equal(fast[0][near], full[0][near])
        assert torch.equal(fast[1][near], full[1][near])


def test_ranks_near_top_on_a_tiny_catalogue_ranks_everything() -> None:
    scores = torch.tensor([[0.3, 0.1, 0.2]])
    g, e = ranks_near_top(scores, torch.tensor([1]), 5)
    assert (int(g), int(e)) == (2, 1)
