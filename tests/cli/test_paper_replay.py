"""The paper's recorded GPT-4 answers, replayed: the first 500 of its own ALKDRec selection on
alkdrec-ml, and an audit of all 4,992 answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


@pytest.fixture
def ml(alkd, shared_data: Path) -> Path:  # type: ignore[no-untyped-def]
    assert alkd("data", "import", "alkdrec", shared_data / "alkdrec-ml", "--name", "ml").code == 0
    return shared_data / "alkdrec-ml"


def recorded_hits(folder: Path, keys: list[str] | None, k: int = 25) -> tuple[float, int]:
    targets = {}
    for line in (folder / "sessions.tsv").read_text().splitlines()[1:]:
        session_id, _, _, target = line.split("\t")
        targets[session_id] = target
    answers = {}
    for line in (folder / "teacher_gpt-4-turbo.jsonl").read_text().splitlines():
        record = json.loads(line)
        answers[str(record["session_id"])] = [str(i) for i in record["ranking"]]
    keys = keys if keys is not None else list(answers)
    hits = sum(targets[key] in answers[key][:k] for key in keys)
    return hits / len(keys), len(keys)


def test_the_papers_first_500_selections_replay(alkd, ml: Path) -> None:  # type: ignore[no-untyped-def]
    made = alkd(
        "select",
        "--dataset",
        "ml",
        "--from-file",
        ml / "selections" / "alkdrec.txt",
        "--name",
        "paper",
        "--limit",
        "500",
        "--json",
    )
    assert made.code == 0, made.err
    labelled = json.loads(
        alkd(
            "label",
            "paper",
            "--teacher",
            "replay",
            "--file",
            ml / "teacher_gpt-4-turbo.jsonl",
            "--n",  # the recorded answers rank 25 items
            "25",
            "--json",
        ).out
    )
    assert labelled["answered"] == 500 and labelled["failed"] == 0 and labelled["unanswerable"] == 0
    assert sum(v for k, v in labelled["parse"].items() if k in ("ok", "repaired", "short")) == 500
    audit = json.loads(alkd("audit", "--selection", "paper", "--json").out)
    keys = [
        line.strip() for line in (ml / "selections" / "alkdrec.txt").read_text().splitlines()[:500]
    ]
    expected, n = recorded_hits(ml, keys)
    assert n == 500
    assert audit["hit@25"] == pytest.approx(expected, abs=1e-6)


def test_audit_of_all_4992_recorded_answers(alkd, ml: Path) -> None:  # type: ignore[no-untyped-def]
    answers = ml / "teacher_gpt-4-turbo.jsonl"
    made = json.loads(alkd("select", "--dataset", "ml", "--strategy", "random", "--budget", "4992", "--pool", f"replay:{answers}",
                           "--name", "all", "--json").out)  # fmt: skip
    assert made["size"] == 4992
    assert (
        json.loads(
            alkd(
                "label", "all", "--teacher", "replay", "--file", answers, "--n", "25", "--json"
            ).out
        )["answered"]
        == 4992
    )
    audit = json.loads(alkd("audit", "--selection", "all", "--json").out)
    expected, n = recorded_hits(ml, None)
    assert audit["answers"] == n == 4992
    assert audit["hit@25"] == pytest.approx(expected, abs=1e-6)
    assert 0.50 < audit["hit@25"] < 0.56  # "about 0.53"
    assert audit["answers_with_duplicates"] == 509  # as the data's README counts them
    assert audit["unknown_ids"] == 1  # the one `null`
