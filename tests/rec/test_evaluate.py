"""Full-ranking evaluation equals the metrics' definition, on catalogues large enough for the
top-k path, with ties, with and without the session's own items."""

from __future__ import annotations

import pytest
import torch

from alkd_tui.rec.evaluate import evaluate, evaluate_both, paired_difference
from alkd_tui.rec.instances import Instances
from alkd_tui.rec.metrics import metrics_from_ranks, ranks_of_targets, summarize
from alkd_tui.rec.models import build_model
from alkd_tui.rec.models.base import SessionRecommender
from alkd_tui.rec.trainer import train_model
from tests.conftest import successor_dataset, train_settings

KS = (5, 10, 20)


def by_definition(
    model: SessionRecommender, inst: Instances, exclude_own: bool
) -> dict[str, float]:
    """Every item compared with the target, in one batch: the slow, obvious way."""
    model.eval()
    with torch.no_grad():
        batch = inst.batch(torch.arange(len(inst)).numpy())
        scores = model.score_all(batch)
        assert batch.targets is not None
        g, e = ranks_of_targets(
            scores, batch.targets, batch.items if exclude_own else None, inst.pad
        )
    return summarize(metrics_from_ranks(g, e, model.n_items, KS))


@pytest.fixture(scope="module")
def big() -> tuple[SessionRecommender, SessionRecommender, Instances]:
    ds = successor_dataset(n_items=300, n_sessions=900)
    trained = train_model(
        ds, train_settings(architecture="gru4rec", dim=16, epochs=3, batch_size=64, lr=0.01)
    ).model
    torch.manual_seed(0)
    fresh = build_model("stamp", ds.n_items, 8, 10)
    return trained, fresh, Instances.of_split(ds, "test", 10)


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("exclude_own", [False, True])
def test_evaluate_equals_the_definition(big, which: int, exclude_own: bool) -> None:  # type: ignore[no-untyped-def]
    model, inst = big[which], big[2]
    got = evaluate(model, inst, exclude_own=exclude_own, batch_size=50)
    want = by_definition(model, inst, exclude_own)
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-6), key


def test_evaluate_both_is_the_two_views(big) -> None:  # type: ignore[no-untyped-def]
    model, _, inst = big
    every, own = evaluate_both(model, inst, batch_size=64)
    assert every == evaluate(model, inst)
    assert own == evaluate(model, inst, exclude_own=True)
    assert own != every  # the view matters: the successor task repeats the session's items


def test_a_model_that_scores_all_items_alike_gets_chance(big) -> None:  # type: ignore[no-untyped-def]
    _, fresh, inst = big
    flat = build_model("fpmc", fresh.n_items, 4, 10)
    for p in flat.parameters():
        torch.nn.init.zeros_(p)
    result = evaluate(flat, inst)
    assert result["recall@10"] == pytest.approx(10 / fresh.n_items, abs=1e-6)
    assert result["recall@20"] == pytest.approx(20 / fresh.n_items, abs=1e-6)


def test_the_paired_difference_is_the_per_session_mean_and_its_standard_error(big) -> None:  # type: ignore[no-untyped-def]
    trained, fresh, inst = big
    same = paired_difference(trained, trained, inst)
    assert same == {"difference": 0.0, "standard_error": 0.0, "sessions": len(inst)}
    found = paired_difference(fresh, trained, inst)
    before = by_definition(fresh, inst, True)["recall@10"]
    after = by_definition(trained, inst, True)["recall@10"]
    assert found["difference"] == pytest.approx(after - before, abs=1e-6)
    # by hand: the per-session recall@10 of each, their differences' spread over sqrt(n)
    per_session = []
    for model in (fresh, trained):
        model.eval()
        with torch.no_grad():
            batch = inst.batch(torch.arange(len(inst)).numpy())
            assert batch.targets is not None
            g, e = ranks_of_targets(model.score_all(batch), batch.targets, batch.items, inst.pad)
        per_session.append(metrics_from_ranks(g, e, model.n_items, (10,))["recall@10"].double())
    delta = per_session[1] - per_session[0]
    assert found["standard_error"] == pytest.approx(
        float(delta.std() / len(delta) ** 0.5), rel=1e-9
    )
    assert found["standard_error"] > 0 and found["difference"] > 2 * found["standard_error"]
