"""`alkd runs export --to mlflow URI` into a real local MLflow store (SQLite-backed, MLflow's
local default), read back with MLflow's own client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alkd_tui.store import Store

mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")


def test_runs_reach_mlflow_with_params_epochs_and_tags(alkd, labelling_store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mlflow.tracking import MlflowClient

    db = labelling_store.target
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = alkd("runs", "export", "--to", "mlflow", uri, "--experiment", "games", "--json", db=db)
    assert done.code == 0, done.err
    result = json.loads(done.out)
    assert result["exported"] == 1 and result["skipped"] == 0  # the fixture's one training run

    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([result["experiment_id"]])
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED" and run.info.run_name == "train teacher-rec"
    assert run.data.tags["alkd.kind"] == "train" and run.data.tags["alkd.name"] == "teacher-rec"
    assert run.data.tags["alkd.env.alkd"] == alkd("--version", db=None).out.split()[-1]
    params = run.data.params
    assert params["train.architecture"] == "fpmc" and params["train.dim"] == "8" and params["seed"] == "0"
    stored = json.loads(alkd("models", "show", "teacher-rec", "--json", db=db).out)
    assert run.data.metrics["train.test.recall_at_10"] == pytest.approx(stored["metrics"]["test"]["recall@10"])
    losses = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in losses] == [row["epoch"] for row in stored["history"]]
    assert [m.value for m in losses] == pytest.approx([row["loss"] for row in stored["history"]])

    again = json.loads(alkd("runs", "export", "--to", "mlflow", uri, "--experiment", "games", "--json", db=db).out)
    assert again["exported"] == 0 and again["skipped"] == 1
    assert len(client.search_runs([result["experiment_id"]])) == 1

    refused = alkd("runs", "export", "--to", "wandb", uri, db=db)
    assert refused.code == 2 and "--to 'wandb'" in refused.err
    missing = alkd("runs", "export", uri, "--run", "99", db=db)
    assert missing.code == 2 and "--run 99" in missing.err


def test_the_export_sends_no_telemetry(alkd, labelling_store: Store, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """MLflow's client starts a telemetry thread unless MLFLOW_DISABLE_TELEMETRY is set."""
    import threading

    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    uri = f"sqlite:///{tmp_path / 'quiet.db'}"
    assert alkd("runs", "export", uri, db=labelling_store.target).code == 0
    assert not [t.name for t in threading.enumerate() if "Telemetry" in t.name]
