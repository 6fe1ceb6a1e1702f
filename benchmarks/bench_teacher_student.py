"""The paper's premise: a teacher recommender (dim 100) beats the student (dim 10) of the
same architecture, on alkdrec-ml and alkdrec-games.

FPMC and STAMP (the paper's students), 3 seeds each, through the CLI (`alkd train --role
student|teacher`): batch 1024, Adam lr 1e-3, the last 10 items, early stopping on validation
Recall@20. Losses (`--losses`): `bpr-inbatch` (BPR against the other targets of the batch:
what the authors' code does, see `loss()` in their FPMC.py / STAMP.py), `bpr` (BPR with one
uniformly sampled negative, alkd's default BPR) and `ce` (full-softmax cross-entropy). Test Recall@5/10 and NDCG@5/10 with the session's own
items excluded (the paper's protocol; the model's stored `test_excluding_own` metrics) and
unmasked, mean ± std over the seeds, beside the paper's Table 1 ("Student Rec" and
"Teacher Rec" columns).

    .venv/bin/python benchmarks/bench_teacher_student.py
    .venv/bin/python benchmarks/bench_teacher_student.py --losses bpr --models fpmc --seeds 1
    .venv/bin/python benchmarks/bench_teacher_student.py --report-from A.json B.json  # tables only
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path
from typing import Any

from _rec_common import (
    DEFAULT_DATA,
    alkd_command,
    fmt_ms,
    import_dataset,
    machine,
    mean_std,
    table,
    train,
    write_json,
)

DATASETS = {"ml": "alkdrec-ml", "games": "alkdrec-games"}
METRICS = ("recall@5", "ndcg@5", "recall@10", "ndcg@10")
ROLES = (("student", 10), ("teacher", 100))

# Table 1 of Du et al., "Active Large Language Model-based Knowledge Distillation for
# Session-based Recommendation" (AAAI 2025, arXiv 2502.15685): the "Student Rec" (dim 10)
# and "Teacher Rec" (dim 100) columns, as (recall@5, ndcg@5, recall@10, ndcg@10), test,
# own items excluded, trained with BPR. Taken from the paper's LaTeX table source.
PAPER: dict[tuple[str, str, str], tuple[float, float, float, float]] = {
    ("ml", "fpmc", "student"): (0.00730, 0.00379, 0.01055, 0.00415),
    ("ml", "fpmc", "teacher"): (0.01339, 0.00781, 0.02191, 0.01002),
    ("ml", "stamp", "student"): (0.00609, 0.00364, 0.01177, 0.00563),
    ("ml", "stamp", "teacher"): (0.00852, 0.00446, 0.01907, 0.00937),
    ("ml", "attenmixer", "student"): (0.00122, 0.00067, 0.00406, 0.00180),
    ("ml", "attenmixer", "teacher"): (0.00527, 0.00361, 0.00933, 0.00419),
    ("games", "fpmc", "student"): (0.03309, 0.01857, 0.05101, 0.02199),
    ("games", "fpmc", "teacher"): (0.05773, 0.03322, 0.08311, 0.03688),
    ("games", "stamp", "student"): (0.03583, 0.02025, 0.04902, 0.02119),
    ("games", "stamp", "teacher"): (0.05375, 0.03091, 0.07066, 0.03104),
    ("games", "attenmixer", "student"): (0.01916, 0.01144, 0.02264, 0.00983),
    ("games", "attenmixer", "teacher"): (0.04379, 0.02546, 0.05200, 0.02315),
}


LOSSES = {"bpr-inbatch": ("bpr", "in-batch"), "bpr": ("bpr", "sampled"), "ce": ("ce", "sampled")}


def options(args: argparse.Namespace, loss: str) -> dict[str, Any]:
    kind, negatives = LOSSES[loss]
    epochs, patience = (
        (args.bpr_epochs, args.bpr_patience)
        if kind == "bpr"
        else (args.ce_epochs, args.ce_patience)
    )
    return {
        "loss": kind,
        "negatives": negatives,
        "batch-size": 1024,
        "lr": 0.001,
        "threads": args.threads,
        "metric": args.metric,
        "epochs": epochs,
        "patience": patience,
    }


def report(
    runs: list[dict[str, Any]], args: argparse.Namespace
) -> tuple[str, list[dict[str, Any]]]:
    """Markdown tables (own items excluded, unmasked, verdicts) and the verdicts."""
    tables = []
    keys = [
        (d, m, loss)
        for d in args.datasets.split(",")
        for m in args.models.split(",")
        for loss in args.losses.split(",")
    ]
    for field, title in (("test_excluding_own", "own items excluded"), ("test", "unmasked")):
        rows = []
        for d, m, loss in keys:
            for role, dim in ROLES:
                chosen = [
                    r
                    for r in runs
                    if (r["dataset"], r["model"], r["loss"], r["role"]) == (d, m, loss, role)
                ]
                if not chosen:
                    continue
                row = [
                    d,
                    m,
                    loss,
                    f"{role} ({dim})",
                    f"{sum(r['epochs_run'] for r in chosen) / len(chosen):.0f}",
                ]
                row += [fmt_ms([r[field][k] for r in chosen]) for k in METRICS]
                paper = PAPER.get((d, m, role))
                if field == "test_excluding_own" and paper:
                    row.append(" / ".join(f"{v:.4f}" for v in paper))
                elif field == "test_excluding_own":
                    row.append("-")
                rows.append(row)
        header = ["dataset", "model", "loss", "role (dim)", "epochs"] + [
            f"{k} ({title})" for k in ("R@5", "N@5", "R@10", "N@10")
        ]
        if field == "test_excluding_own":
            header.append("paper R@5 / N@5 / R@10 / N@10")
        tables.append(table(header, rows, "llll" + "r" * (len(header) - 4)))
    verdicts = []
    rows = []
    for d, m, loss in keys:
        per = {
            role: [
                r
                for r in runs
                if (r["dataset"], r["model"], r["loss"], r["role"]) == (d, m, loss, role)
            ]
            for role, _ in ROLES
        }
        if not per["student"] or not per["teacher"]:
            continue
        cells = []
        ok = True
        for k in ("recall@10", "ndcg@10"):
            (mt, st), (ms, ss) = (
                mean_std([r["test_excluding_own"][k] for r in per[role]])
                for role in ("teacher", "student")
            )
            noise = 2 * math.sqrt(st**2 / len(per["teacher"]) + ss**2 / len(per["student"]))
            better = mt - ms > noise
            ok = ok and better
            cells.append(f"{mt / ms:.2f}x" if ms else "inf")
            verdicts.append(
                {
                    "dataset": d,
                    "model": m,
                    "loss": loss,
                    "metric": k,
                    "teacher": mt,
                    "student": ms,
                    "noise": noise,
                    "teacher_better": better,
                }
            )
        paper = [PAPER.get((d, m, "teacher")), PAPER.get((d, m, "student"))]
        paper_cells = [
            f"{paper[0][i] / paper[1][i]:.2f}x" if paper[0] and paper[1] else "-" for i in (2, 3)
        ]
        rows.append([d, m, loss, *cells, *paper_cells, "pass" if ok else "**FAIL**"])
    tables.append(
        table(
            [
                "dataset",
                "model",
                "loss",
                "teacher / student R@10",
                "teacher / student N@10",
                "paper R@10",
                "paper N@10",
                "teacher better beyond noise",
            ],
            rows,
            "lllrrrrl",
        )
    )
    return "\n\n".join(tables), verdicts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--datasets", default="ml,games")
    parser.add_argument("--models", default="fpmc,stamp")
    parser.add_argument("--losses", default="bpr-inbatch,bpr,ce", help="of " + ", ".join(LOSSES))
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument(
        "--metric", default="recall@20", help="validation metric for early stopping"
    )
    parser.add_argument("--bpr-epochs", type=int, default=300)
    parser.add_argument("--bpr-patience", type=int, default=20)
    parser.add_argument("--ce-epochs", type=int, default=100)
    parser.add_argument("--ce-patience", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--out", type=Path, help="JSON results (default .bench/teacher_student.json)"
    )
    parser.add_argument(
        "--report-from", type=Path, nargs="+", help="only print the tables of these results"
    )
    args = parser.parse_args()
    if args.report_from:
        runs = [r for path in args.report_from for r in json.loads(path.read_text())["runs"]]
        print(report(runs, args)[0])
        return
    if any(loss not in LOSSES for loss in args.losses.split(",")):
        raise SystemExit(f"--losses: use {', '.join(LOSSES)}")
    for d in args.datasets.split(","):
        if not (args.data / DATASETS[d]).is_dir():
            raise SystemExit(f"no {args.data / DATASETS[d]}: this benchmark needs the shared data")
    alkd = alkd_command()
    info = machine()
    runs: list[dict[str, Any]] = []
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-ts-") as tmp:
        db = Path(tmp) / "bench.db"
        for d in args.datasets.split(","):
            import_dataset(alkd, db, args.data / DATASETS[d], d)
        plan = [
            (d, m, loss, role, dim, seed)
            for loss in args.losses.split(",")
            for d in args.datasets.split(",")
            for m in args.models.split(",")
            for seed in seeds
            for role, dim in ROLES
        ]
        for i, (d, m, loss, role, dim, seed) in enumerate(plan, start=1):
            summary, wall = train(alkd, db, d, m, dim, seed, {"role": role, **options(args, loss)})
            metrics = summary["metrics"]
            run = {
                "dataset": d,
                "model": m,
                "loss": loss,
                "role": role,
                "dim": dim,
                "seed": seed,
                "epochs_run": metrics["training"]["epochs"],
                "best_epoch": metrics["training"]["best_epoch"],
                "test": {k: metrics["test"][k] for k in METRICS},
                "test_excluding_own": {k: metrics["test_excluding_own"][k] for k in METRICS},
                "wall_s": round(wall, 1),
            }
            runs.append(run)
            print(
                f"[{i}/{len(plan)}] {d} {m} {loss} {role} d{dim} seed {seed}: {run['epochs_run']} epochs "
                f"(best {run['best_epoch']}), excl. own {run['test_excluding_own']} ({wall:.0f} s)",
                flush=True,
            )
            write_json("teacher_student", {"machine": info, "runs": runs}, args.out)
    markdown, verdicts = report(runs, args)
    info["loadavg_end"] = __import__("os").getloadavg()[0]
    path = write_json(
        "teacher_student",
        {
            "machine": info,
            "args": {k: str(v) for k, v in vars(args).items()},
            "runs": runs,
            "verdicts": verdicts,
        },
        args.out,
    )
    print()
    print(markdown)
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
