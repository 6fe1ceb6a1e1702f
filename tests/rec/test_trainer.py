"""Training: losses learn, a seed reproduces, an interrupted run resumes to the same result."""

from __future__ import annotations

import pytest
import torch

from alkd_tui.data.canonical import SessionDataset
from alkd_tui.errors import BadInputError
from alkd_tui.rec.evaluate import evaluate
from alkd_tui.rec.instances import Instances
from alkd_tui.rec.trainer import TrainState, train_model
from tests.conftest import train_settings

FAST = {"dim": 16, "epochs": 6, "batch_size": 64, "lr": 0.01, "patience": 10}


def test_cross_entropy_learns_the_successor_rule(successor: SessionDataset) -> None:
    result = train_model(successor, train_settings(architecture="gru4rec", **FAST))
    test = evaluate(result.model, Instances.of_split(successor, "test", 10))
    assert test["recall@5"] > 0.8  # chance is 5/30
    assert [h["epoch"] for h in result.history] == list(range(1, 7))


@pytest.mark.parametrize("negatives", ["sampled", "in-batch"])
def test_bpr_learns_the_successor_rule(successor: SessionDataset, negatives: str) -> None:
    cfg = train_settings(
        architecture="stamp",
        loss="bpr",
        negatives=negatives,
        n_negatives=4,
        **{**FAST, "epochs": 15},
    )
    result = train_model(successor, cfg)
    test = evaluate(result.model, Instances.of_split(successor, "test", 10))
    assert test["recall@10"] > 0.6  # chance is 10/30
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def _figures(history: list[dict]) -> list[tuple[float, dict]]:  # type: ignore[type-arg]
    return [(h["loss"], h["valid"]) for h in history]


def test_the_same_seed_gives_identical_metrics_twice(successor: SessionDataset) -> None:
    runs = []
    for _ in range(2):
        result = train_model(
            successor, train_settings(architecture="narm", seed=7, **{**FAST, "epochs": 3})
        )
        runs.append(
            (
                _figures(result.history),
                evaluate(result.model, Instances.of_split(successor, "test", 10)),
            )
        )
    assert runs[0] == runs[1]
    other = train_model(
        successor, train_settings(architecture="narm", seed=8, **{**FAST, "epochs": 3})
    )
    assert _figures(other.history) != runs[0][0]


class Stop(Exception):
    pass


def test_an_interrupted_run_resumes_to_the_same_model(successor: SessionDataset) -> None:
    cfg = train_settings(architecture="sasrec", seed=3, **{**FAST, "epochs": 4})
    straight = train_model(successor, cfg)

    saved: list[TrainState] = []

    def stop_after_two(state: TrainState) -> None:
        saved.append(
            TrainState(
                **{k: (v.copy() if isinstance(v, list) else v) for k, v in state.__dict__.items()}
            )
        )
        if state.epoch == 2:
            raise Stop

    with pytest.raises(Stop):
        train_model(successor, cfg, on_epoch=stop_after_two)
    resumed = train_model(successor, cfg, resume=saved[-1])
    assert [h["valid"] for h in resumed.history] == [h["valid"] for h in straight.history]
    for (name, a), b in zip(
        straight.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


def test_early_stopping_keeps_the_best_epoch(successor: SessionDataset) -> None:
    # A learning rate this high makes validation worse after a while; the best epoch is kept.
    result = train_model(
        successor, train_settings(architecture="fpmc", **{**FAST, "epochs": 30, "patience": 2})
    )
    best = max(h["valid"]["recall@10"] for h in result.history)
    assert result.history[result.best_epoch - 1]["valid"]["recall@10"] == best
    assert len(result.history) <= 30
    final = evaluate(result.model, Instances.of_split(successor, "valid", 10))
    assert final["recall@10"] == best


def test_baselines_fit_without_gradients(successor: SessionDataset) -> None:
    pop = train_model(successor, train_settings(architecture="pop", dim=1))
    knn = train_model(successor, train_settings(architecture="sknn", dim=1, hparams={"k": 20}))
    test = Instances.of_split(successor, "test", 10)
    assert evaluate(knn.model, test)["recall@5"] > evaluate(pop.model, test)["recall@5"]


def test_bad_config_is_a_clear_error(successor: SessionDataset) -> None:
    from alkd_tui.config import build
    from alkd_tui.rec.settings import TrainSettings

    with pytest.raises(BadInputError, match="--model 'transformerxl': use 'fpmc'"):
        build(TrainSettings, {"architecture": "transformerxl", "dim": 8})
    with pytest.raises(BadInputError, match="--metric 'auc': use 'recall@5'"):
        build(TrainSettings, {"architecture": "fpmc", "dim": 8, "metric": "auc"})
    with pytest.raises(ValueError, match="resolved settings"):
        train_model(successor, TrainSettings(architecture="fpmc", dim=8))


@pytest.mark.parametrize("reuse_buffer", [False, True])
def test_fused_cross_entropy_equals_torch_in_value_and_gradients(reuse_buffer: bool) -> None:
    from torch.nn import functional as F

    from alkd_tui.rec.trainer import full_softmax_cross_entropy

    gen = torch.Generator().manual_seed(3)
    session = (torch.randn(7, 5, generator=gen) * 4).requires_grad_()
    items = (torch.randn(40, 5, generator=gen) * 4).requires_grad_()
    targets = torch.randint(0, 40, (7,), generator=gen)
    ref_session = session.detach().clone().requires_grad_()
    ref_items = items.detach().clone().requires_grad_()
    out = torch.full((7, 40), float("nan")) if reuse_buffer else None
    for _ in range(2):  # a reused buffer holds the last batch's gradients: it must not matter
        loss = full_softmax_cross_entropy(session, items, targets, out)
        (loss * 3).backward()
    ref = F.cross_entropy(ref_session @ ref_items.T, targets)
    (ref * 3).backward()
    assert float(loss.detach()) == pytest.approx(float(ref.detach()), rel=1e-6)
    assert session.grad is not None and items.grad is not None
    assert torch.allclose(session.grad / 2, ref_session.grad, atol=1e-5)  # type: ignore[arg-type]
    assert torch.allclose(items.grad / 2, ref_items.grad, atol=1e-5)  # type: ignore[arg-type]


def test_the_same_seed_gives_identical_weights_with_two_threads() -> None:
    """Not only the same metrics: the same weights, bit for bit. With two threads, the backward
    pass of `vectors[targets]` (BPR with in-batch negatives, as the paper's teachers train)
    accumulates repeated rows in a varying order unless torch's deterministic kernels are on,
    which the epoch loop sees to."""
    from alkd_tui.data.synthetic import synthetic_games

    ds = synthetic_games(seed=3, n_sessions=3_000)
    cfg = train_settings(architecture="fpmc", dim=100, loss="bpr", negatives="in-batch",
                      batch_size=1024, lr=1e-2, epochs=2, patience=5, seed=1)  # fmt: skip
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        weights = [train_model(ds, cfg).model.state_dict() for _ in range(2)]
    finally:
        torch.set_num_threads(threads)
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert not torch.are_deterministic_algorithms_enabled()  # the loop restores the setting


@pytest.mark.parametrize("architecture", ["gru4rec", "stamp", "sasrec"])
def test_bf16_training_learns_too_and_computes_in_bfloat16(
    successor: SessionDataset, architecture: str
) -> None:
    """precision=bf16 runs the training step's matrix products in bfloat16 (the weights stay
    fp32), so the weights differ from fp32's, and the model learns the rule as well."""
    seen: list[torch.dtype] = []
    hook = torch.nn.modules.module.register_module_forward_hook(
        lambda _m, _i, out: seen.append(out.dtype) if isinstance(out, torch.Tensor) else None
    )
    try:
        bf16 = train_model(successor, train_settings(architecture=architecture, precision="bf16", **FAST))
    finally:
        hook.remove()
    assert torch.bfloat16 in seen
    fp32 = train_model(successor, train_settings(architecture=architecture, **FAST))
    assert all(p.dtype == torch.float32 for p in bf16.model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(bf16.model.parameters(), fp32.model.parameters(), strict=True))
    test = Instances.of_split(successor, "test", 10)
    low, full = evaluate(bf16.model, test)["recall@5"], evaluate(fp32.model, test)["recall@5"]
    assert abs(low - full) <= 0.1 and low > 0.3  # chance is 5/30


def test_fp32_keeps_the_identity_of_models_trained_before_precision_existed() -> None:
    from alkd_tui.pipeline.models import ModelJob

    def job(config: dict) -> ModelJob:  # type: ignore[type-arg]
        return ModelJob(kind="train", dataset=type("D", (), {"id": 1})(), role="student",  # type: ignore[arg-type]
                        architecture="fpmc", dim=10, config=config, rebuild={}, max_len=10, seed=0,
                        default_name="x")  # fmt: skip

    before = job({"train": {"architecture": "fpmc", "dim": 10}})  # as train_recommender nests it
    same = job({"train": {"architecture": "fpmc", "dim": 10, "precision": "fp32"}})
    assert same.digest() == before.digest()
    assert job({"train": {"architecture": "fpmc", "dim": 10, "precision": "bf16"}}).digest() != before.digest()
