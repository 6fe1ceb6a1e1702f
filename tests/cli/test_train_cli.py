"""`alkd train`, `alkd eval`, `alkd models` on a small dataset, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alkd_tui.rec import checkpoint as checkpoints

FAST = ["--dim", "8", "--epochs", "3", "--batch-size", "64", "--lr", "0.01"]


@pytest.fixture
def toy(alkd, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """A dataset where each session walks items in order; returns its name."""
    lines = ["session_id,item_id,timestamp"]
    for s in range(300):
        start = (s * 7) % 20
        lines += [f"{s},item{(start + k) % 20},{s * 100 + k}" for k in range(2 + s % 4)]
    path = tmp_path / "walk.csv"
    path.write_text("\n".join(lines) + "\n")
    assert (
        alkd("data", "import", "csv", path, "--name", "walk", "--min-item-support", "1").code == 0
    )
    return "walk"


def test_train_json_eval_and_list(alkd, toy: str, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = alkd(
        "train", "--dataset", toy, "--model", "gru4rec", "--role", "student", *FAST, "--json"
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["name"] == "walk-gru4rec-student-d8-s0"
    assert data["status"] == "done" and data["role"] == "student" and data["dim"] == 8
    assert set(data["metrics"]) >= {"valid", "test", "test_excluding_own", "training"}
    assert (
        data["metrics"]["test"]["recall@10"] > 10 / 20 * 1.2
    )  # better than chance (10 of 20 items)
    checkpoint = db_path.parent / data["checkpoint"]
    assert checkpoint.is_file()

    evaluated = json.loads(alkd("eval", data["name"], "--split", "test", "--json").out)
    for key in ("recall@5", "recall@10", "recall@20", "ndcg@5", "ndcg@10", "ndcg@20", "mrr@10"):
        assert evaluated[key] == data["metrics"]["test"][key]
    own = json.loads(alkd("eval", str(data["model"]), "--exclude-own", "--json").out)
    assert own["recall@10"] == data["metrics"]["test_excluding_own"]["recall@10"]

    listed = json.loads(alkd("models", "list", "--json").out)["models"]
    assert [m["name"] for m in listed] == [data["name"]]
    runs = json.loads(alkd("db", "info", "--json").out)["rows"]
    assert runs["run"] == 1 and runs["model"] == 1


def test_an_identical_model_is_reused_not_retrained(alkd, toy: str) -> None:  # type: ignore[no-untyped-def]
    first = json.loads(alkd("train", "--dataset", toy, "--model", "fpmc", *FAST, "--json").out)
    second = json.loads(alkd("train", "--dataset", toy, "--model", "fpmc", *FAST, "--json").out)
    assert second["model"] == first["model"] and second.get("reused") is True
    forced = json.loads(
        alkd("train", "--dataset", toy, "--model", "fpmc", *FAST, "--force", "--json").out
    )
    assert forced["model"] != first["model"]
    assert forced["metrics"]["test"] == first["metrics"]["test"]  # same seed, same result


def test_an_interrupted_training_resumes_where_it_stopped(
    alkd, toy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    real_save = checkpoints.save_state

    def save_then_interrupt(state: dict, path: Path) -> None:  # type: ignore[type-arg]
        real_save(state, path)
        if state["epoch"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints, "save_state", save_then_interrupt)
    interrupted = alkd("train", "--dataset", toy, "--model", "narm", *FAST)
    assert interrupted.code == 130 and "interrupted" in interrupted.err
    shown = json.loads(alkd("models", "show", "walk-narm-student-d8-s0", "--json").out)
    assert shown["status"] == "interrupted"

    monkeypatch.setattr(checkpoints, "save_state", real_save)
    resumed = json.loads(alkd("train", "--dataset", toy, "--model", "narm", *FAST, "--json").out)
    assert resumed["model"] == shown["model"] and resumed["status"] == "done"
    assert [h["epoch"] for h in resumed["history"]] == [1, 2, 3]

    fresh = json.loads(
        alkd("train", "--dataset", toy, "--model", "narm", *FAST, "--force", "--json").out
    )
    assert fresh["metrics"]["test"] == resumed["metrics"]["test"]
    assert [h["valid"] for h in fresh["history"]] == [h["valid"] for h in resumed["history"]]


def test_bad_training_options_are_exit_2(alkd, toy: str) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (["--model", "bert4rec"], "--model 'bert4rec'"),
        (["--model", "fpmc", "--role", "oracle"], "--role 'oracle'"),
        (["--model", "fpmc", "--loss", "hinge"], "--loss"),
        (["--model", "fpmc", "--dim", "0"], "--dim"),
        (["--model", "gru4rec", "--hparam", "layers"], "--hparam 'layers': expected KEY=VALUE"),
        (["--model", "gru4rec", "--hparam", "colour=3"], "unknown hyper-parameters ['colour']"),
    ]
    for args, message in cases:
        result = alkd("train", "--dataset", toy, *args)
        assert result.code == 2, (args, result.err)
        assert message in result.err, (args, result.err)
    missing = alkd("train", "--dataset", "nope", "--model", "fpmc")
    assert missing.code == 2 and "no dataset 'nope'" in missing.err


def test_baselines_train_from_the_cli(alkd, toy: str) -> None:  # type: ignore[no-untyped-def]
    pop = json.loads(
        alkd("train", "--dataset", toy, "--model", "pop", "--role", "baseline", "--json").out
    )
    knn = json.loads(
        alkd("train", "--dataset", toy, "--model", "sknn", "--role", "baseline", "--json").out
    )
    assert knn["metrics"]["test"]["mrr@20"] > pop["metrics"]["test"]["mrr@20"]
    again = json.loads(alkd("eval", knn["name"], "--json").out)
    assert (
        again["recall@5"] == knn["metrics"]["test"]["recall@5"]
    )  # the checkpoint restores the fit


SUMMARY_KEYS = {"model", "name", "dataset_id", "architecture", "role", "dim", "status", "metrics",
                "config", "checkpoint", "parent", "run", "created_at"}  # fmt: skip


def test_the_json_keys_are_kept(alkd, toy: str) -> None:  # type: ignore[no-untyped-def]
    """The typed results print the keys the dicts did: trained adds `history`, reused adds
    `reused`, a shown model `history` (kept with the model: its learning curve), a listed one
    neither."""
    trained = json.loads(alkd("train", "--dataset", toy, "--model", "fpmc", *FAST, "--json").out)
    assert set(trained) == SUMMARY_KEYS | {"history"}
    reused = json.loads(alkd("train", "--dataset", toy, "--model", "fpmc", *FAST, "--json").out)
    assert set(reused) == SUMMARY_KEYS | {"reused"}
    (listed,) = json.loads(alkd("models", "list", "--json").out)["models"]
    assert set(listed) == SUMMARY_KEYS
    shown_model = json.loads(alkd("models", "show", trained["name"], "--json").out)
    assert set(shown_model) == SUMMARY_KEYS | {"history"}
    assert [h["epoch"] for h in shown_model["history"]] == [h["epoch"] for h in trained["history"]]
    assert shown_model["history"][-1]["loss"] == pytest.approx(trained["history"][-1]["loss"])
    human = alkd("models", "show", trained["name"])
    assert f"learning curve: {len(trained['history'])} epochs" in human.out + human.err
    shown = json.loads(alkd("data", "show", toy, "--json").out)
    assert {"id", "name", "format", "sessions", "items", "clicks", "items_with_titles",
            "description", "created_at", "source", "options", "top_items"} <= set(shown)  # fmt: skip
    (brief,) = json.loads(alkd("data", "list", "--json").out)["datasets"]
    assert "source" not in brief and "top_items" not in brief  # a list stays brief
