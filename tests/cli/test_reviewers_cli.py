"""Two reviewers at once: two real `alkd review` processes deciding the same labels of one
database, then a selection that needs both, the queue of each, and their agreement."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from alkd_tui.pipeline.labels import label_selection
from alkd_tui.store import Store


def test_two_reviewers_deciding_at_once_lose_nothing_and_agree_by_kappa(  # type: ignore[no-untyped-def]
    alkd, labelling_store: Store
) -> None:
    db = labelling_store.target
    label_selection(
        labelling_store, "sel", "tr", candidates_from="teacher-rec", options={"n": 5, "kappa": 10}
    )
    requests = [r["request"] for r in json.loads(alkd("review", "list", "sel", "--json", db=db).out)["labels"]]
    assert len(requests) == 12
    # ann accepts all 12; bob (named by $ALKD_REVIEWER) accepts the first 8 and rejects 4,
    # each decision its own event, both processes writing at the same time.
    ann_ids = [a for r in requests for a in ("--id", str(r))]
    bob_accepts = [a for r in requests[:8] for a in ("--id", str(r))]
    bob_rejects = [a for r in requests[8:] for a in ("--id", str(r))]
    cli = [sys.executable, "-m", "alkd_tui.cli.main", "--db", str(db), "review"]
    ann = subprocess.Popen([*cli, "accept", "sel", *ann_ids, "--reviewer", "ann", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    bob_env = {**os.environ, "ALKD_REVIEWER": "bob"}
    bob = subprocess.Popen(
        f"{' '.join(cli)} accept sel {' '.join(bob_accepts)} --json && "
        f"{' '.join(cli)} reject sel {' '.join(bob_rejects)} --json",
        shell=True, env=bob_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for proc in (ann, bob):
        _, errors = proc.communicate(timeout=120)
        assert proc.returncode == 0, errors

    listed = json.loads(alkd("review", "list", "sel", "--json", db=db).out)["labels"]
    verdicts = {r["request"]: r["verdicts"] for r in listed}
    assert all(set(v) == {"ann", "bob"} for v in verdicts.values())  # all 24 decisions kept
    # One decision required (the default): the latest stands, whoever made it.
    assert {r["status"] for r in listed if r["request"] in requests[:8]} == {"accepted"}

    assert json.loads(alkd("review", "require", "sel", "2", "--json", db=db).out) == {
        "selection": "sel", "reviews_required": 2,
    }  # fmt: skip
    by_status = json.loads(alkd("review", "list", "sel", "--json", db=db).out)["counts"]
    assert by_status == {"accepted": 8, "flagged": 4}  # 1 to 1 has no majority: flagged
    split = json.loads(alkd("review", "list", "sel", "--disagreements", "--json", db=db).out)
    assert sorted(r["request"] for r in split["labels"]) == sorted(requests[8:])

    # A third reviewer's queue holds everything; they settle the disagreements.
    queue = json.loads(alkd("review", "list", "sel", "--undecided-by", "cy", "--json", db=db).out)
    assert len(queue["labels"]) == 12
    settle = [a for r in requests[8:10] for a in ("--id", str(r))]
    assert alkd("review", "reject", "sel", *settle, "--reviewer", "cy", db=db).code == 0
    by_status = json.loads(alkd("review", "list", "sel", "--json", db=db).out)["counts"]
    assert by_status == {"accepted": 8, "rejected": 2, "flagged": 2}
    mine = json.loads(alkd("review", "list", "sel", "--undecided-by", "cy", "--json", db=db).out)
    assert len(mine["labels"]) == 10

    audit = json.loads(alkd("audit", "--selection", "sel", "--json", db=db).out)["agreement"]
    pair = next(p for p in audit["pairs"] if p["reviewers"] == ["ann", "bob"])
    # ann always accepted: chance agreement is 8/12, observed 8/12, so kappa is 0
    assert pair["labels"] == 12 and pair["percent"] == round(100 * 8 / 12, 1)
    assert pair["kappa"] == 0.0
    assert sorted(audit["disagreements"]) == sorted(requests[8:])
    human = alkd("audit", "--selection", "sel", db=db)
    assert "review agreement" in human.out and "Cohen's kappa" in human.out

    refused = alkd("review", "require", "sel", "0", db=db)
    assert refused.code != 0 and "1 or more" in refused.err
