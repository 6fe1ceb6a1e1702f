"""The distillation losses against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from alkd_tui.distill.loss import position_weights, ranking_bpr_loss, soft_label_loss
from alkd_tui.rec.batch import SessionBatch
from alkd_tui.rec.models.fpmc import FPMC


def test_the_papers_position_bands() -> None:
    w = position_weights(27).tolist()
    assert (
        w[:5] == [3.0] * 5
        and w[5:15] == [2.0] * 10
        and w[15:25] == [1.0] * 10
        and w[25:] == [0.0, 0.0]
    )


def test_dllm2rec_weights_decay_with_mean_one() -> None:
    w = position_weights(25, "dllm2rec", beta=5.0)
    assert float(w.mean()) == pytest.approx(1.0)
    assert all(a > b for a, b in zip(w[:-1].tolist(), w[1:].tolist(), strict=True))
    assert position_weights(4, "uniform").tolist() == [1.0] * 4


class Fixed(FPMC):
    """An FPMC whose session vectors and item vectors are set by hand (a named test fixture)."""

    def __init__(self, session: torch.Tensor, items: torch.Tensor) -> None:
        super().__init__(items.shape[0], items.shape[1])
        self._session, self._items = session, items

    def encode(self, batch: SessionBatch) -> torch.Tensor:
        return self._session

    def item_vectors(self) -> torch.Tensor:
        return self._items


BATCH = SessionBatch(torch.tensor([[0]]), torch.tensor([1]), 3)


def test_sampled_negative_bpr_by_hand() -> None:
    items = torch.tensor([[1.0], [2.0], [0.5]])
    model = Fixed(torch.tensor([[1.0]]), items)
    ranked = torch.tensor([[1, 0]])  # the teacher ranks item 1, then item 0
    weights = torch.tensor([[3.0, 2.0]])
    torch.manual_seed(0)
    neg = torch.randint(0, 3, (1, 2, 1))  # what the loss will draw with the same seed
    torch.manual_seed(0)
    loss = ranking_bpr_loss(model, BATCH, ranked, weights, negatives="sampled")
    scores = {0: 1.0, 1: 2.0, 2: 0.5}
    terms, mass = 0.0, 0.0
    for k, (pos, w) in enumerate(zip([1, 0], [3.0, 2.0], strict=True)):
        n = int(neg[0, k, 0])
        if n in (1, 0):  # ranked by the teacher for this session: not a negative
            continue
        terms += -w * math.log(1 / (1 + math.exp(-(scores[pos] - scores[n]))))
        mass += w
    expected = terms / mass if mass else 0.0
    assert float(loss) == pytest.approx(expected)


def test_soft_labels_are_a_cross_entropy_over_the_ranked_items() -> None:
    items = torch.tensor([[1.0], [2.0], [0.5]])
    model = Fixed(torch.tensor([[1.0]]), items)
    ranked = torch.tensor([[1, 2, -1]])
    probs = torch.tensor([[0.75, 0.25, 0.0]])
    loss = soft_label_loss(model, BATCH, ranked, probs)
    z = math.exp(2.0) + math.exp(0.5)
    expected = -(0.75 * math.log(math.exp(2.0) / z) + 0.25 * math.log(math.exp(0.5) / z))
    assert float(loss) == pytest.approx(expected, rel=1e-6)
