"""Cross-fitted candidates: a teacher recommender that memorised its training sessions puts
their (unpredictable) targets in its candidate lists; the fold models, which never saw them,
do not."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alkd_tui.data import load_dataset
from alkd_tui.data.canonical import TRAIN, VALID
from alkd_tui.pipeline.candidate_leak import hit_rates, leak_warning, validation_hit_rates
from alkd_tui.pipeline.cross_fit import cross_fitted_candidates, training_folds
from alkd_tui.pipeline.datasets import import_dataset
from alkd_tui.pipeline.models import get_model, load_trained, train_recommender
from alkd_tui.store import Store
from alkd_tui.teacher.candidates import top_candidates
from tests.conftest import successor_dataset


def test_training_folds_deal_every_training_instance_once() -> None:
    ds = successor_dataset(n_sessions=103)
    fold = training_folds(ds, 5, seed=3)
    train = ds.split == TRAIN
    assert set(fold[~train].tolist()) == {-1}
    counts = np.bincount(fold[train], minlength=5)
    assert counts.sum() == train.sum() and counts.max() - counts.min() <= 1
    assert (training_folds(ds, 5, seed=3) == fold).all()
    assert not (training_folds(ds, 5, seed=4) == fold).all()


def test_cross_fitted_lists_do_not_hold_memorised_targets(store: Store, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lines = ["session_id,item_id,timestamp"]
    for s in range(400):  # 4 random clicks: the last (the target) cannot be predicted
        lines += [f"{s},i{int(x)},{s * 10 + j}" for j, x in enumerate(rng.integers(0, 40, 4))]
    (tmp_path / "clicks.csv").write_text("\n".join(lines) + "\n")
    import_dataset(store, "csv", tmp_path / "clicks.csv", "noise",
                   preprocess={"min_item_support": 1, "min_session_length": 2})  # fmt: skip
    train_recommender(store, "noise", "teacher", {"architecture": "fpmc", "dim": 64, "epochs": 80,
                      "loss": "ce", "lr": 1e-2, "batch_size": 32, "patience": 80}, name="memo")  # fmt: skip
    ds = load_dataset(store, "noise")
    rows = np.flatnonzero(ds.split == TRAIN)
    full, _ = top_candidates(load_trained(store, get_model(store, "memo")), ds, rows, 10)
    crossed = cross_fitted_candidates(store, "memo", ds, rows, 10, folds=4)
    targets = ds.targets[rows].tolist()
    memorised = hit_rates(full.tolist(), targets)
    fair = hit_rates(crossed.tolist(), targets)
    valid = validation_hit_rates(store, "memo", ds, 10)
    assert valid["sessions"] == int((ds.split == VALID).sum())
    assert memorised["hit@10"] > 0.6  # the teacher memorised its training sessions
    assert fair["hit@10"] < 0.5 and abs(fair["hit@10"] - valid["hit@10"]) < 0.15
    assert leak_warning(memorised, valid, k=10) is not None
    assert leak_warning(fair, valid, k=10) is None


def test_a_fold_model_whose_process_has_not_attached_its_run_yet_is_waited_for(
    labelling_store: Store,
) -> None:
    """Another labelling job created the fold model's row a moment ago and is about to attach
    its run: this job waits for that model instead of training the same row at the same time
    (two processes writing one checkpoint was a failure seen in CI)."""
    import threading
    import time

    from alkd_tui.pipeline.cross_fit import wait_for_elsewhere
    from alkd_tui.store import RecModel

    with labelling_store.session() as orm:
        row = RecModel(name="fold", dataset_id=1, architecture="fpmc", role="fold", dim=8,
                       status="training", config={"hash": "fold-digest"})  # fmt: skip
        orm.add(row)
        orm.flush()
        row_id = row.id

    def finish() -> None:
        time.sleep(0.5)
        with labelling_store.session() as orm:
            found = orm.get(RecModel, row_id)
            assert found is not None
            found.status = "done"
            orm.add(found)

    threading.Thread(target=finish).start()
    made = wait_for_elsewhere(labelling_store, "fold-digest", poll_s=0.1)
    assert made is not None and made.id == row_id and made.status == "done"
