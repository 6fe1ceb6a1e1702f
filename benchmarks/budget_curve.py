"""The budget curve: how test Recall@10 of the distilled student grows with the number of
recorded GPT-4 answers it learns from (the paper's Figure of performance against |B|), for
Random and ALKD selections, on the paper's data.

Every step is a user's command, through the pipeline functions those commands call:

1. `alkd train --dataset D --model ARCH --role teacher|student --seed S` (`train_recommender`
   with nothing but the architecture and the seed: the recipe);
2. `alkd select --dataset D --strategy random|alkd --budget B --teacher T --pool replay:FILE
   --seed S` (`create_selection`);
3. `alkd label SEL --teacher replay --file FILE --n 25` (`label_selection`: the recorded answers,
   asked once for the whole pool and answered from the store after that);
4. `alkd review accept SEL --rule parsed` (`accept_by_rule`);
5. `alkd distill --student M --selection SEL --seed S` (`distill_student`, the default
   distillation settings).

"all" distils every recorded answer (one selection per seed: the whole pool). Student and
teacher rows are the undistilled models. Results: mean ± std over the seeds, the paired
difference to the student with a 95% confidence interval (t over the seeds), and one hit's
size on the test split (1 / test sessions). The reproduction's controls (shuffled answers,
popular items, the true item) are at budget 500 in docs/results.md.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/budget_curve.py                 # ml, FPMC, 5 seeds
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/budget_curve.py --datasets ml,games
    .venv/bin/python benchmarks/budget_curve.py --budgets 50,100 --seeds 1 --quick      # smoke test

Needs ../shared/data/alkdrec-{ml,games}. The database is .bench/budget_curve.db (a re-run
reuses every model and selection it holds); finished rows go to .bench/budget_curve.jsonl and
the tables to stdout (and --md FILE).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from _rec_common import BENCH_DIR, DEFAULT_DATA
from scipy import stats

from alkd_tui.data import load_dataset
from alkd_tui.data.canonical import TEST
from alkd_tui.errors import NotFoundError
from alkd_tui.pipeline.datasets import get_dataset, import_dataset
from alkd_tui.pipeline.distill import distill_student
from alkd_tui.pipeline.labels import label_selection
from alkd_tui.pipeline.models import get_model, train_recommender
from alkd_tui.pipeline.review import accept_by_rule
from alkd_tui.pipeline.selection import create_selection, get_selection
from alkd_tui.rec.settings import TrainSettings
from alkd_tui.store import Store, open_store
from alkd_tui.teacher.settings import LabelSettings

DATASETS = {"ml": "alkdrec-ml", "games": "alkdrec-games"}
ANSWERS = "teacher_gpt-4-turbo.jsonl"
#: `alkd label SEL --teacher replay --file FILE --n 25`: the recorded answers rank 25 items.
PAPER_LABELS = LabelSettings(n=25)
METRIC = "recall@10"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def test_r10(metrics: dict[str, Any]) -> tuple[float, float]:
    """(test Recall@10 own items excluded, valid Recall@10) of a model's stored metrics."""
    return float(metrics["test_excluding_own"][METRIC]), float(metrics["valid"][METRIC])


def ensure_selection(store: Store, name: str, **how: Any) -> str:
    try:
        get_selection(store, name)
    except NotFoundError:
        create_selection(store, name=name, **how)
    return name


def run_cell(store: Store, d: str, arch: str, seed: int, budgets: list[str], answers: Path,
             pool_size: int, quick: bool) -> list[dict[str, Any]]:  # fmt: skip
    """Every row of one dataset, student architecture and seed."""
    given: dict[str, Any] = {"architecture": arch, "seed": seed}
    if quick:
        given["epochs"] = 3
    teacher = train_recommender(store, d, "teacher", TrainSettings(**given)).name
    student = train_recommender(store, d, "student", TrainSettings(**given)).name
    rows = []
    for role, name in (("teacher", teacher), ("student", student)):
        test, valid = test_r10(get_model(store, name).metrics)
        rows.append({"strategy": role, "budget": "-", "test": test, "valid": valid, "labels": 0})
    for budget in budgets:
        strategies = ["random"] if budget == "all" else ["random", "alkd"]
        for strategy in strategies:
            size = pool_size if budget == "all" else int(budget)
            name = f"bc-{d}-{arch}-s{seed}-{strategy}-{budget}"
            ensure_selection(store, name, dataset=d, settings=strategy, budget=size, seed=seed,
                             teacher_model=teacher, pool=f"replay:{answers}")  # fmt: skip
            label_selection(store, name, "replay", PAPER_LABELS, file=answers)
            sel = get_selection(store, name)
            accept_by_rule(store, sel.id, "parsed", reviewer="budget_curve")  # type: ignore[arg-type]
            settings = {"seed": seed, **({"epochs": 10} if quick else {})}
            made = distill_student(store, student, name, settings)
            test, valid = test_r10(made.metrics)
            rows.append({"strategy": "all" if budget == "all" else strategy, "budget": budget,
                         "test": test, "valid": valid, "labels": made.labels})  # fmt: skip
    for row in rows:
        row.update(dataset=d, arch=arch, seed=seed)
    return rows


def prepare_dataset(store: Store, data: Path, d: str) -> tuple[Path, int, int]:
    """Import alkdrec-`d` if the store lacks it; (its recorded answers file, the sessions they
    answer (the pool), its test sessions). Exits naming the folder when the data is absent."""
    folder = data / DATASETS[d]
    if not folder.is_dir():
        sys.exit(f"{folder} is absent")
    try:
        get_dataset(store, d)
    except NotFoundError:
        import_dataset(store, "alkdrec", folder, d)
    test_sessions = int((load_dataset(store, d).split == TEST).sum())
    answers = folder / ANSWERS
    with answers.open() as fh:
        pool = len({json.loads(line)["session_id"] for line in fh if line.strip()})
    return answers, pool, test_sessions


def ci95(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of the 95% t confidence interval."""
    if len(values) < 2:
        return statistics.fmean(values), float("nan")
    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5
    return statistics.fmean(values), float(half)


def tables(rows: list[dict[str, Any]], test_sessions: dict[str, int]) -> str:
    out = []
    for d, arch in sorted({(r["dataset"], r["arch"]) for r in rows}):
        cell = [r for r in rows if r["dataset"] == d and r["arch"] == arch]
        seeds = sorted({r["seed"] for r in cell})
        student = {r["seed"]: r["test"] for r in cell if r["strategy"] == "student"}
        hit = 1 / test_sessions[d]
        out.append(
            f"\n**{DATASETS[d]}, {arch.upper()} student** ({len(seeds)} seeds; one test hit = {hit:.5f})\n"
        )
        out.append(
            "| rows | budget | labels | test R@10 (own excl.) | − student, 95% CI | valid R@10 |"
        )
        out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
        keys = list(dict.fromkeys((r["strategy"], r["budget"]) for r in cell))
        for strategy, budget in keys:
            group = [r for r in cell if (r["strategy"], r["budget"]) == (strategy, budget)]
            tests = [r["test"] for r in group]
            valids = [r["valid"] for r in group]
            diff = ""
            if strategy not in ("student",):
                m, h = ci95([r["test"] - student[r["seed"]] for r in group])
                diff = f"{m:+.4f} ± {h:.4f}"
            sd = statistics.stdev(tests) if len(tests) > 1 else 0.0
            labels = statistics.fmean(r["labels"] for r in group)
            out.append(f"| {strategy} | {budget} | {labels:.0f} | {statistics.fmean(tests):.4f} ± {sd:.4f} | "
                       f"{diff} | {statistics.fmean(valids):.4f} |")  # fmt: skip
        for budget in [b for s, b in keys if s == "alkd"]:
            pairs = {
                r["seed"]: r["test"]
                for r in cell
                if r["strategy"] == "random" and r["budget"] == budget
            }
            diffs = [r["test"] - pairs[r["seed"]] for r in cell
                     if r["strategy"] == "alkd" and r["budget"] == budget and r["seed"] in pairs]  # fmt: skip
            if diffs:
                m, h = ci95(diffs)
                out.append(
                    f"\nALKD − Random at {budget}: {m:+.4f} ± {h:.4f} (95% CI, {len(diffs)} seeds)"
                )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--datasets", default="ml")
    parser.add_argument("--students", default="fpmc")
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--budgets", default="50,100,250,500,1000,2000,all")
    parser.add_argument("--db", type=Path, default=BENCH_DIR / "budget_curve.db")
    parser.add_argument("--md", type=Path, default=None, help="also write the tables here")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument(
        "--quick", action="store_true", help="3 training epochs, 10 distillation epochs"
    )
    args = parser.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    budgets = args.budgets.split(",")
    rows: list[dict[str, Any]] = []
    test_sessions: dict[str, int] = {}
    started = time.perf_counter()
    with open_store(args.db) as store:
        for d in args.datasets.split(","):
            answers, pool, test_sessions[d] = prepare_dataset(store, args.data, d)
            for arch in args.students.split(","):
                for seed in (int(s) for s in args.seeds.split(",")):
                    t0 = time.perf_counter()
                    rows += run_cell(store, d, arch, seed, budgets, answers, pool, args.quick)
                    log(f"{d} {arch} seed {seed}: {time.perf_counter() - t0:.0f} s")
    text = tables(rows, test_sessions)
    text += f"\n\nThis invocation: {(time.perf_counter() - started) / 60:.1f} min; `{' '.join(sys.argv)}`\n"
    print(text)
    if args.md:
        args.md.write_text(text)
    with (BENCH_DIR / "budget_curve.jsonl").open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
