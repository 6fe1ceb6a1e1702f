"""The loop from the command line: label (replay and TR), review, distill."""

from __future__ import annotations

import json
from pathlib import Path

from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql


def test_replay_review_and_distill(alkd, labelling_store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with labelling_store.engine.connect() as conn:
        keys = [r[0] for r in run_sql(conn, 'SELECT s.external_id FROM selection_member m JOIN session s ON s.id = m.session_id ORDER BY m."order"')]  # fmt: skip
    recorded = tmp_path / "answers.jsonl"
    recorded.write_text("".join(
        json.dumps({"session_id": k, "model": "recorded-llm", "ranking": [f"g{(n + j) % 30}" for j in range(5)] + ["g0", "nope"]}) + "\n"
        for n, k in enumerate(keys[:10])))  # fmt: skip
    db = labelling_store.target
    labelled = alkd(
        "label", "sel", "--teacher", "replay", "--file", recorded, "--n", "5", "--json", db=db
    )
    assert labelled.code == 0, labelled.err
    result = json.loads(labelled.out)
    assert result["answered"] == 10 and result["unanswerable"] == 2
    assert result["teacher"]["model"] == "recorded-llm" and result["teacher"]["backend"] == "replay"

    refused = alkd("distill", "--student", "teacher-rec", "--selection", "sel", db=db)
    assert (
        refused.code == 2
        and "none of the 10 labels" in refused.err
        and "alkd review accept sel --rule parsed" in refused.err
    )

    accepted = json.loads(alkd("review", "accept", "sel", "--rule", "parsed", "--json", db=db).out)
    assert accepted == {"accepted": 10, "not_matching": 0}
    listed = json.loads(alkd("review", "list", "sel", "--json", db=db).out)
    assert listed["counts"] == {"accepted": 10}

    distilled = alkd(
        "distill",
        "--student",
        "teacher-rec",
        "--selection",
        "sel",
        "--epochs",
        "2",
        "--json",
        db=db,
    )
    assert distilled.code == 0, distilled.err
    model = json.loads(distilled.out)
    assert (
        model["role"] == "distilled"
        and model["labels"] == 10
        and model["teacher"] == "recorded-llm"
    )
    assert set(model["metrics"]) >= {"valid", "test", "test_excluding_own", "training"}
    shown = json.loads(alkd("models", "show", model["name"], "--json", db=db).out)
    assert shown["parent"] is not None and shown["status"] == "done"
    again = json.loads(
        alkd(
            "distill",
            "--student",
            "teacher-rec",
            "--selection",
            "sel",
            "--epochs",
            "2",
            "--json",
            db=db,
        ).out
    )
    assert again["model"] == model["model"] and again["reused"] is True
    forced = [  # each forced run is a new model under a free name (no UNIQUE violation)
        json.loads(alkd("distill", "--student", "teacher-rec", "--selection", "sel", "--epochs", "2",
                        "--force", "--json", db=db).out)["name"]
        for _ in range(3)
    ]  # fmt: skip
    assert len({model["name"], *forced}) == 4
    # A distillation not below the student on validation gives no warning (one below does: the
    # test below).
    assert model["metrics"]["valid"]["recall@10"] >= model["student_metrics"]["valid"]["recall@10"]
    human = alkd("distill", "--student", "teacher-rec", "--selection", "sel", "--epochs", "2", db=db)
    assert human.code == 0 and "reused" in human.err and "below the undistilled" not in human.err

    # A learning rate too small to move the student: no check beats it (they tie), so the
    # default keeps the student unchanged and says so; --no-keep-student keeps the best check.
    still = ("distill", "--student", "teacher-rec", "--selection", "sel", "--epochs", "2",
             "--lr", "1e-12", "--stop", "patience", "--force")  # fmt: skip
    kept = alkd(*still, db=db)
    assert kept.code == 0 and "the student unchanged" in kept.err, kept.err
    kept_json = json.loads(alkd(*still, "--json", db=db).out)
    assert kept_json["metrics"]["training"]["best_epoch"] == 0
    assert kept_json["metrics"]["valid"] == kept_json["student_metrics"]["valid"]
    checked = json.loads(alkd(*still, "--no-keep-student", "--json", db=db).out)
    assert checked["metrics"]["training"]["best_epoch"] >= 1

    bad_edits = tmp_path / "edits.jsonl"  # review import: every row checked before any lands
    for ranking, problem in (
        ([99999999], "item 99999999 is not an item of the dataset"),
        (["x", None], "'x' is not an item index"),
        ([1, 1], "an item is listed twice"),
        ([True], "True is not an item index"),
    ):
        bad_edits.write_text(
            json.dumps({"request": 1, "action": "accept"})
            + "\n"
            + json.dumps({"request": 2, "action": "edit", "ranking": ranking})
            + "\n"
        )
        refused = alkd("review", "import", bad_edits, db=db)
        assert refused.code == 2 and f"line 2: the edited ranking: {problem}" in refused.err, (
            refused.err
        )
    assert json.loads(alkd("review", "list", "sel", "--json", db=db).out)["counts"] == {
        "accepted": 10
    }


def test_label_bad_options(alkd, labelling_store: Store) -> None:  # type: ignore[no-untyped-def]
    db = labelling_store.target
    cases = [
        (["--teacher", "gpt"], "--teacher 'gpt'"),
        (["--teacher", "chatgpt"], "--teacher 'chatgpt': use 'auto', 'local', 'ollama'"),
        (["--teacher", "replay"], "--file is required"),
    ]
    for args, message in cases:
        result = alkd("label", "sel", *args, db=db)
        assert result.code == 2 and message in result.err, (args, result.err)
    missing = alkd("label", "sel", "--teacher", "replay", "--file", "/nonexistent.jsonl", db=db)
    assert missing.code == 3 and "no recorded answers at /nonexistent.jsonl" in missing.err
    down = alkd(
        "label", "sel", "--teacher", "ollama", "--model", "m", "--host", "127.0.0.1:9", db=db
    )
    assert down.code == 3 and "no Ollama server answers at http://127.0.0.1:9" in down.err
    assert alkd("label", "nosuch", "--teacher", "tr", db=db).code == 2


def test_a_replay_with_another_n_reads_the_recorded_rankings_again(alkd, labelling_store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with labelling_store.engine.connect() as conn:
        keys = [r[0] for r in run_sql(conn, 'SELECT s.external_id FROM selection_member m JOIN session s ON s.id = m.session_id ORDER BY m."order"')]  # fmt: skip
    recorded = tmp_path / "answers.jsonl"
    recorded.write_text("".join(json.dumps({"session_id": k, "model": "recorded-llm",
                        "ranking": [f"g{(n + j) % 30}" for j in range(8)]}) + "\n" for n, k in enumerate(keys)))  # fmt: skip
    db = labelling_store.target
    for n in ("3", "8", "3"):
        done = alkd("label", "sel", "--teacher", "replay", "--file", recorded, "--n", n, "--json", db=db)
        assert done.code == 0, done.err
    with labelling_store.engine.connect() as conn:
        lengths = sorted({len(json.loads(r[0])) for r in run_sql(conn, "SELECT ranking FROM teacher_request WHERE status = 'answered'")})  # fmt: skip
    assert lengths == [3, 8]  # the --n 8 job read the whole rankings, not the --n 3 answers
    assert json.loads(done.out)["cached"] == 12  # --n 3 again: answered before


def test_a_distilled_copy_below_the_student_on_validation_is_flagged() -> None:
    from alkd_tui.pipeline.results import DistilledModel

    base = {"model": 1, "name": "d", "dataset_id": 1, "architecture": "fpmc", "role": "distilled",
            "dim": 10, "status": "done", "config": {}, "checkpoint": None, "parent": 1, "run": 1,
            "created_at": "2026-01-01T00:00:00", "labels": 5, "teacher": "t", "student": "s"}  # fmt: skip
    worse = DistilledModel(**base, metrics={"valid": {"recall@10": 0.1}},
                           student_metrics={"valid": {"recall@10": 0.2}})  # fmt: skip
    better = DistilledModel(**base, metrics={"valid": {"recall@10": 0.3}},
                            student_metrics={"valid": {"recall@10": 0.2}})  # fmt: skip
    unknown = DistilledModel(**base, metrics={}, student_metrics={"valid": {"recall@10": 0.2}})
    assert worse.below_student() and not better.below_student() and not unknown.below_student()
    assert "below the undistilled one" in (worse.caution() or "") and better.caution() is None
