"""Run history, exports and imports from the command line: `alkd runs list|show|diff|import`,
`alkd export labels|reviews|runs` (JSONL, CSV, Parquet), `alkd review import` (idempotent),
`alkd review accept --min-confidence`, and replaying the project's own label exports."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from alkd_tui.pipeline.datasets import import_dataset
from alkd_tui.pipeline.review import record_review, selection_labels
from alkd_tui.store import Store, open_store
from alkd_tui.store.queries import run_sql


def member_keys(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return [r[0] for r in run_sql(conn, 'SELECT s.external_id FROM selection_member m JOIN session s ON s.id = m.session_id '
            'WHERE m.selection_id = 1 ORDER BY m."order"')]  # fmt: skip


def copy_db(source: Path, target: Path) -> Path:
    """A consistent copy of a live SQLite database (its WAL included)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def two_label_runs(alkd, labelling_store: Store) -> Store:  # type: ignore[no-untyped-def]
    """Runs 1 (train teacher-rec), 2 and 3 (label `sel` with the teacher recommender, n 5 and 8)."""
    for n in ("5", "8"):
        done = alkd(
            "label",
            "sel",
            "--teacher",
            "tr",
            "--candidates-from",
            "teacher-rec",
            "--n",
            n,
            "--kappa",
            "10",
            "--json",
            db=labelling_store.target,
        )
        assert done.code == 0, done.err
    return labelling_store


def test_runs_list_show_and_diff(alkd, two_label_runs: Store) -> None:  # type: ignore[no-untyped-def]
    db = two_label_runs.target
    listed = json.loads(alkd("runs", "list", "--json", db=db).out)["runs"]
    assert [(r["run"], r["kind"], r["status"]) for r in listed] == [
        (3, "label", "done"), (2, "label", "done"), (1, "train", "done")]  # fmt: skip
    assert [
        r["run"]
        for r in json.loads(alkd("runs", "list", "--kind", "label", "--json", db=db).out)["runs"]
    ] == [3, 2]

    shown = json.loads(alkd("runs", "show", "2", "--json", db=db).out)
    assert shown["config"]["n"] == 5 and shown["config"]["selection"] == "sel"
    assert shown["env"]["torch"] and shown["env"]["alkd"]
    answered = {m["name"]: m["value"] for m in shown["metrics"]}["answered"]
    assert answered == 12

    diff = json.loads(alkd("runs", "diff", "2", "3", "--json", db=db).out)
    assert diff["runs"] == [2, 3] and diff["config"] == {"n": [5, 8]}  # only what differs
    assert diff["metrics"]["label.answered"] == [12, 12]
    human = alkd("runs", "diff", "2", "3", db=db)
    assert human.code == 0 and "settings that differ" in human.out
    setting_rows = human.out.split("metrics")[0]
    assert "│ n " in setting_rows and "selection" not in setting_rows

    missing = alkd("runs", "show", "99", db=db)
    assert missing.code == 2 and "no run '99'" in missing.err


def test_export_runs_then_import_them_elsewhere(
    alkd, two_label_runs: Store, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    db = two_label_runs.target
    jsonl, table = tmp_path / "runs.jsonl", tmp_path / "runs.csv"
    written = json.loads(alkd("export", "runs", jsonl, "--json", db=db).out)
    assert written == {"exported": "runs", "rows": 3, "path": str(jsonl), "format": "jsonl"}
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r["kind"] for r in records] == ["train", "label", "label"]
    assert records[1]["config"]["n"] == 5 and records[1]["metrics"]
    assert alkd("export", "runs", table, db=db).code == 0
    rows = read_csv(table)
    assert [r["run"] for r in rows] == ["1", "2", "3"] and json.loads(rows[2]["config"])["n"] == 8

    other = tmp_path / "other.db"
    imported = alkd("runs", "import", jsonl, "--json", db=other)
    assert imported.code == 0 and json.loads(imported.out) == {"imported": 3, "skipped": 0}
    listed = json.loads(alkd("runs", "list", "--json", db=other).out)["runs"]
    assert sorted(r["kind"] for r in listed) == ["label", "label", "train"]
    shown = json.loads(alkd("runs", "show", str(listed[0]["run"]), "--json", db=other).out)
    assert shown["env"]["imported_from"] == str(jsonl) and shown["env"]["original_run"] == 3
    assert shown["metrics"] == records[2]["metrics"]
    assert json.loads(alkd("runs", "diff", "2", "3", "--json", db=other).out)["config"] == {
        "n": [5, 8]
    }

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "label"}\n')
    refused = alkd("runs", "import", bad, db=other)
    assert refused.code == 2 and "line 1: expected a run with kind and config" in refused.err


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_runs_exported_as_a_table_import_like_the_jsonl(
    alkd, two_label_runs: Store, tmp_path: Path, suffix: str
) -> None:  # type: ignore[no-untyped-def]
    """A CSV or Parquet runs export keeps config, steps and figures (JSON cells), so importing
    it gives the same runs as the JSONL, and the two files name the same runs."""
    db = two_label_runs.target
    jsonl, table = tmp_path / "runs.jsonl", tmp_path / f"runs{suffix}"
    assert alkd("export", "runs", jsonl, db=db).code == 0
    assert alkd("export", "runs", table, db=db).code == 0
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]

    other = tmp_path / "other.db"
    imported = alkd("runs", "import", table, "--json", db=other)
    assert imported.code == 0, imported.err
    assert json.loads(imported.out) == {"imported": 3, "skipped": 0}
    by_original = {r["run"]: r for r in records}
    listed = json.loads(alkd("runs", "list", "--json", db=other).out)["runs"]
    assert len(listed) == 3
    for copy in listed:
        shown = json.loads(alkd("runs", "show", str(copy["run"]), "--json", db=other).out)
        original = by_original.pop(shown["env"]["original_run"])
        assert shown["config"] == original["config"] and shown["steps"] == original["steps"]
        assert shown["metrics"] == original["metrics"] and shown["seed"] == original["seed"]
    again = alkd("runs", "import", jsonl, "--json", db=other)
    assert json.loads(again.out) == {"imported": 0, "skipped": 3}


def test_a_runs_table_with_a_broken_cell_is_refused_whole(alkd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "runs.csv"
    table.write_text(
        "run,kind,name,started_at,config\n"
        '1,label,a,2026-12-01T10:00:00+00:00,"{""n"": 5}"\n'
        "2,label,b,2026-12-01T11:00:00+00:00,{not json\n"
    )
    other = tmp_path / "other.db"
    refused = alkd("runs", "import", table, db=other)
    assert refused.code == 2 and "line 3: config is not JSON" in refused.err
    assert json.loads(alkd("runs", "list", "--json", db=other).out)["runs"] == []


@pytest.fixture
def replayed(
    alkd, labelling_store: Store, tmp_path: Path
) -> tuple[Store, dict[str, tuple[list[str], list]]]:  # type: ignore[no-untyped-def,type-arg]
    """`sel` labelled from recorded answers with scores (one score missing in each)."""
    answers = {}
    lines = []
    for n, key in enumerate(member_keys(labelling_store)):
        ranking = [f"g{(n + j) % 30}" for j in range(5)]
        scores = [0.5, None, 0.2, 0.15, 0.15] if n % 2 else [0.9, 0.04, None, 0.03, 0.03]
        answers[key] = (ranking, scores)
        lines.append(
            json.dumps(
                {"session_id": key, "model": "recorded-llm", "ranking": ranking, "scores": scores}
            )
        )
    path = tmp_path / "recorded.jsonl"
    path.write_text("\n".join(lines) + "\n")
    done = alkd(
        "label",
        "sel",
        "--teacher",
        "replay",
        "--file",
        path,
        "--n",
        "5",
        "--json",
        db=labelling_store.target,
    )
    assert done.code == 0, done.err
    return labelling_store, answers


def test_export_labels_in_every_format_and_replay_them(alkd, replayed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, answers = replayed
    db = store.target
    exports = {}
    for fmt in ("jsonl", "csv", "parquet"):
        path = tmp_path / f"labels.{fmt}"
        written = json.loads(
            alkd("export", "labels", path, "--selection", "sel", "--json", db=db).out
        )
        assert written["rows"] == 12 and written["format"] == fmt
        exports[fmt] = path
    rows = [json.loads(line) for line in exports["jsonl"].read_text().splitlines()]
    assert {r["session_id"]: (r["ranking"], r["scores"]) for r in rows} == answers
    assert {r["model"] for r in rows} == {"recorded-llm"} and {r["review"] for r in rows} == {
        "pending"
    }
    table = read_csv(exports["csv"])
    assert table[1]["ranking"] == " ".join(answers[table[1]["session_id"]][0])
    assert table[1]["scores"] == "0.5  0.2 0.15 0.15"  # the missing score is an empty value

    # Another database with the same dataset and selection replays each export.
    with open_store(tmp_path / "fresh.db") as fresh:
        import_dataset(fresh, "csv", tmp_path / "clicks.csv", "games", preprocess={"min_item_support": 1},
                       reader={"titles": tmp_path / "items.csv"})  # fmt: skip
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(answers) + "\n")
    fresh_db = tmp_path / "fresh.db"
    assert (
        alkd("select", "--dataset", "games", "--from-file", ids, "--name", "sel", db=fresh_db).code
        == 0
    )
    for fmt, path in exports.items():
        done = alkd(
            "label", "sel", "--teacher", "replay", "--file", path, "--n", "5", "--json", db=fresh_db
        )
        assert done.code == 0, (fmt, done.err)
        result = json.loads(done.out)
        assert result["answered"] == 12 and result["teacher"]["model"] == "recorded-llm", fmt
        again = tmp_path / f"again-{fmt}.jsonl"
        assert alkd("export", "labels", again, "--selection", "sel", db=fresh_db).code == 0
        replayed_rows = [json.loads(line) for line in again.read_text().splitlines()]
        assert {r["session_id"]: (r["ranking"], r["scores"]) for r in replayed_rows} == answers, fmt

    garbage = tmp_path / "garbage.txt"
    garbage.write_text("session_id,ranking\n")
    refused = alkd("label", "sel", "--teacher", "replay", "--file", garbage, db=fresh_db)
    assert refused.code == 2
    assert (
        "line 1: not a JSON object (recorded answers are JSONL (.jsonl), CSV (.csv) or Parquet"
        in refused.err
    )


def test_review_decisions_export_and_import_once(alkd, replayed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, _ = replayed
    db = store.target
    before = copy_db(db, tmp_path / "before.db")  # labelled, nothing decided yet
    labels = selection_labels(store, 1)
    ids = [str(lb.request_id) for lb in labels]
    assert (
        alkd("review", "accept", "sel", "--id", ids[0], "--id", ids[1], "--id", ids[2], db=db).code
        == 0
    )
    assert alkd("review", "reject", "sel", "--id", ids[3], "--note", "off topic", db=db).code == 0
    record_review(
        store, labels[4].request_id, "edit", after={"ranking": [3, 2, 1]}, note="reordered"
    )
    assert alkd("review", "undo", "sel", "--id", ids[0], db=db).code == 0
    statuses = {lb.session_key: (lb.status, lb.ranking) for lb in selection_labels(store, 1)}

    jsonl, table = tmp_path / "reviews.jsonl", tmp_path / "reviews.csv"
    assert json.loads(alkd("export", "reviews", jsonl, "--json", db=db).out)["rows"] == 6
    rows = read_csv(table) if alkd("export", "reviews", table, db=db).code == 0 else []
    assert [r["action"] for r in rows] == ["accept", "accept", "accept", "reject", "edit", "undo"]
    assert rows[4]["ranking"] == "3 2 1" and rows[3]["note"] == "off topic"

    # Back into the database it came from: every decision is already there.
    same = json.loads(alkd("review", "import", jsonl, "--json", db=db).out)
    assert same == {"imported": 0, "skipped": 6}
    # Into a copy from before the review: the same statuses, and a second import adds nothing.
    first = alkd("review", "import", jsonl, "--json", db=before)
    assert first.code == 0 and json.loads(first.out) == {"imported": 6, "skipped": 0}
    second = alkd("review", "import", jsonl, db=before)
    assert second.code == 0 and "imported 0 decisions, skipped 6 already recorded" in second.err
    with open_store(before) as copy:
        assert {
            lb.session_key: (lb.status, lb.ranking) for lb in selection_labels(copy, 1)
        } == statuses
        with copy.engine.connect() as conn:
            assert run_sql(conn, "SELECT COUNT(*) FROM review_event").scalar() == 6

    # A hand-written file without times: imported once, then recognised.
    hand = tmp_path / "hand.jsonl"
    hand.write_text(
        json.dumps({"request": int(ids[5]), "action": "flag", "reviewer": "ann"}) + "\n"
    )
    assert json.loads(alkd("review", "import", hand, "--json", db=db).out) == {
        "imported": 1,
        "skipped": 0,
    }
    assert json.loads(alkd("review", "import", hand, "--json", db=db).out) == {
        "imported": 0,
        "skipped": 1,
    }

    hand.write_text(json.dumps({"request": 999, "action": "accept"}) + "\n")
    missing = alkd("review", "import", hand, db=db)
    assert missing.code == 2 and "request 999 does not exist" in missing.err
    hand.write_text('{"request": 1, "action": "approve"}\n')
    bad = alkd("review", "import", hand, db=db)
    assert bad.code == 2 and "line 1: action 'approve': use accept" in bad.err


def test_accept_by_minimum_confidence_from_the_command_line(alkd, replayed) -> None:  # type: ignore[no-untyped-def]
    store, answers = replayed
    db = store.target
    accepted = alkd("review", "accept", "sel", "--min-confidence", "0.8", "--json", db=db)
    assert accepted.code == 0, accepted.err
    sure = {key for key, (_, scores) in answers.items() if scores[0] >= 0.8}
    assert json.loads(accepted.out) == {
        "accepted": len(sure),
        "not_matching": 12 - len(sure),
        "without_confidence": 0,
    }
    assert {lb.session_key for lb in selection_labels(store, 1) if lb.status == "accepted"} == sure
    both = json.loads(
        alkd(
            "review", "accept", "sel", "--rule", "ok", "--min-confidence", "0.3", "--json", db=db
        ).out
    )
    assert both["accepted"] == 12 - len(sure)
    for args, message in ((["--min-confidence", "2"], "--min-confidence 2.0: Input should be less than or equal to 1"),
                          (["--id", "1", "--min-confidence", "0.5"], "not both")):  # fmt: skip
        refused = alkd("review", "accept", "sel", *args, db=db)
        assert refused.code == 2 and message in refused.err, refused.err


def test_audit_shows_the_ratios_the_selection_assumed(alkd, labelling_store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = labelling_store.target
    made = alkd("select", "--dataset", "games", "--strategy", "alkd", "--budget", "6", "--teacher", "teacher-rec",
                "--ratios", "2:5:3", "--name", "assumed", db=db)  # fmt: skip
    assert made.code == 0, made.err
    assert alkd("label", "assumed", "--teacher", "tr", "--n", "5", "--kappa", "10", db=db).code == 0
    data = json.loads(
        alkd("audit", "--selection", "assumed", "--student", "teacher-rec", "--json", db=db).out
    )
    assert data["answers"] == 6
    assert data["assumed_ratios"] == {"ratios": "2:5:3", "effective": 0.2, "similar": 0.5, "incorrect": 0.3,
                                      "strategy": "alkd"}  # fmt: skip
    human = alkd("audit", "--selection", "assumed", "--student", "teacher-rec", db=db)
    assert human.code == 0
    lines = {line.split()[0]: line for line in human.out.splitlines() if line.strip()}
    assert "(assumed 0.2000)" in lines["effective"] and "(assumed 0.5000)" in lines["similar"]
    assert "2:5:3" in human.out
    lists = tmp_path / "lists"
    written = alkd("audit", "--selection", "assumed", "--student", "teacher-rec", "--sessions-dir", lists, db=db)
    assert written.code == 0 and "session lists in" in written.out and "effective.txt" in written.out
    classes = sum(len((lists / f"{c}.txt").read_text().split()) for c in ("effective", "similar", "incorrect"))
    assert classes == 6
    blocked = tmp_path / "file"
    blocked.write_text("")
    refused = alkd("audit", "--selection", "assumed", "--sessions-dir", blocked / "x", db=db)
    assert refused.code != 0 and "--sessions-dir" in refused.err, refused.err


def test_importing_runs_twice_adds_them_once(alkd, two_label_runs: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A run is known by its kind, name, start time and config: a second import of the same
    export (or an export imported into the database it came from) adds nothing."""
    db = two_label_runs.target
    jsonl = tmp_path / "runs.jsonl"
    assert alkd("export", "runs", jsonl, db=db).code == 0
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]

    home = alkd("runs", "import", jsonl, "--json", db=db)
    assert home.code == 0 and json.loads(home.out) == {"imported": 0, "skipped": 3}

    other = tmp_path / "other.db"
    first = alkd("runs", "import", jsonl, "--json", db=other)
    assert json.loads(first.out) == {"imported": 3, "skipped": 0}
    listed = json.loads(alkd("runs", "list", "--json", db=other).out)["runs"]
    # the imported runs keep their own times, so they still sort and compare as they ran
    assert [r["started_at"][:19] for r in reversed(listed)] == [
        r["started_at"][:19] for r in records
    ]

    # one more run in the file (a changed config): only that one is new
    extra = {**records[1], "run": 99, "parent": 1, "config": {**records[1]["config"], "n": 3}}
    jsonl.write_text(jsonl.read_text() + json.dumps(extra) + "\n")
    second = alkd("runs", "import", jsonl, "--json", db=other)
    assert second.code == 0 and json.loads(second.out) == {"imported": 1, "skipped": 3}
    human = alkd("runs", "import", jsonl, db=other)
    assert human.code == 0 and "imported 0 runs, skipped 4 already present" in human.err
    con = sqlite3.connect(other)
    assert con.execute("SELECT COUNT(*) FROM run").fetchone()[0] == 4
    # its parent (run 1 of the file, imported before) is linked to that run's new record
    (parent,) = con.execute("SELECT parent_id FROM run ORDER BY id DESC LIMIT 1").fetchone()
    assert con.execute("SELECT kind, name FROM run WHERE id = ?", (parent,)).fetchone() == (
        records[0]["kind"], records[0]["name"])  # fmt: skip
    assert con.execute("SELECT COUNT(*) FROM runmetric").fetchone()[0] == sum(
        len(r["metrics"]) for r in [*records, extra]
    )

    bad_time = tmp_path / "bad-time.jsonl"
    bad_time.write_text(json.dumps({**records[0], "started_at": "yesterday"}) + "\n")
    refused = alkd("runs", "import", bad_time, db=other)
    assert refused.code == 2 and "line 1: started_at 'yesterday' is not an ISO time" in refused.err
