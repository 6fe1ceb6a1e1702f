"""The oracle study: could any choice of sessions make the LLM's answers worth more than a
random choice? Selections made *knowing* each recorded GPT-4 answer (oracles) and by the cheap
pre-LLM signals a real system could use, against Random, at one budget, on the paper's data.

Every step is a user's command, through the pipeline function it calls (as
`benchmarks/budget_curve.py`, whose database, models and Random / ALKD selections this reuses):

1. `alkd train --dataset D --model fpmc --role teacher|student --seed S`;
2. the whole pool, labelled from the recorded answers and accepted:
   `alkd select --dataset D --strategy random --budget POOL --pool replay:FILE --seed S`,
   `alkd label SEL --teacher replay --file FILE --n 25`, `alkd review accept SEL --rule parsed`;
3. `alkd audit --selection SEL --student M --sessions-dir DIR`: the session ids of each class of
   answer against this seed's student, and of the answers whose top 10 holds the true item;
4. the selections, each `alkd select --dataset D --budget B --seed S` with
   - `--strategy random|alkd|uncertainty|disagreement|popularity --pool replay:FILE` (with
     `--teacher` / `--student` where the strategy needs them), and
   - the oracles, `--strategy random --pool ids:DIR/LIST.txt`: oracle-effective (the answer
     holds the target and the student's top 25 does not: `effective.txt`), oracle-correct@10
     (the answer's top 10 holds it: `hit@10.txt`), oracle-incorrect (the answer misses it:
     `incorrect.txt`);
5. label, accept and `alkd distill --student M --selection SEL --seed S` (the defaults).

Results: test and validation Recall@10 (own items excluded), mean ± std over the seeds, and the
paired difference to Random with a 95% t interval; what each selection holds (the answers'
hit@10 and effective share against the student).

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/oracle_study.py --datasets ml,games --seeds-for ml=1-10
    .venv/bin/python benchmarks/oracle_study.py --seeds 1 --budget 50 --quick   # smoke test

Needs ../shared/data/alkdrec-{ml,games}.
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
from budget_curve import (
    DATASETS,
    PAPER_LABELS,
    ci95,
    ensure_selection,
    log,
    prepare_dataset,
    test_r10,
)

from alkd_tui.pipeline.audit import audit
from alkd_tui.pipeline.distill import distill_student
from alkd_tui.pipeline.labels import label_selection
from alkd_tui.pipeline.models import get_model, train_recommender
from alkd_tui.pipeline.review import accept_by_rule
from alkd_tui.pipeline.selection import get_selection
from alkd_tui.rec.settings import TrainSettings
from alkd_tui.store import Store, open_store

#: Selection -> (strategy, the models it needs, the session list of its pool or None: replay).
SELECTIONS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "random": ("random", (), None),
    "alkd": ("alkd", ("teacher",), None),
    "uncertainty": ("uncertainty", ("student",), None),
    "disagreement": ("disagreement", ("teacher", "student"), None),
    "popularity": ("popularity", (), None),
    "oracle-effective": ("random", (), "effective.txt"),
    "oracle-correct@10": ("random", (), "hit@10.txt"),
    "oracle-incorrect": ("random", (), "incorrect.txt"),
}
LABELS = {
    "random": "Random",
    "alkd": "ALKD (the paper's policy)",
    "uncertainty": "signal: student entropy",
    "disagreement": "signal: teacher-student disagreement",
    "popularity": "signal: rare items first",
    "oracle-effective": "oracle: effective answers",
    "oracle-correct@10": "oracle: correct@10 answers",
    "oracle-incorrect": "oracle: incorrect answers",
}


def seed_list(spec: str) -> list[int]:
    """"1,2,3" or "1-5" (or both: "1-3,7") as a list of seeds."""
    seeds: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        seeds += list(range(int(first), int(last or first) + 1))
    return seeds


def labelled(store: Store, name: str, answers: Path) -> None:
    """`alkd label NAME --teacher replay --file FILE --n 25` and accept what parsed."""
    label_selection(store, name, "replay", PAPER_LABELS, file=answers)
    sel = get_selection(store, name)
    accept_by_rule(store, sel.id, "parsed", reviewer="oracle_study")  # type: ignore[arg-type]


def run_cell(store: Store, d: str, arch: str, seed: int, answers: Path, pool_size: int,
             budget: int, chosen: list[str], quick: bool, lists_root: Path) -> list[dict[str, Any]]:  # fmt: skip
    """Every row of one dataset, student architecture and seed."""
    given: dict[str, Any] = {"architecture": arch, "seed": seed}
    if quick:
        given["epochs"] = 3
    models = {
        role: train_recommender(store, d, role, TrainSettings(**given)).name
        for role in ("teacher", "student")
    }
    student = models["student"]
    test, valid = test_r10(get_model(store, student).metrics)
    rows = [{"selection": "student", "test": test, "valid": valid, "labels": 0}]
    # The whole pool, labelled: what the oracles know (the budget curve's "all" selection).
    everything = f"bc-{d}-{arch}-s{seed}-random-all"
    ensure_selection(store, everything, dataset=d, settings="random", budget=pool_size,
                     seed=seed, pool=f"replay:{answers}")  # fmt: skip
    labelled(store, everything, answers)
    lists = lists_root / f"{d}-{arch}-s{seed}"
    audit(store, selection=everything, student=student, sessions_dir=lists)
    for key in chosen:
        strategy, needs, listed = SELECTIONS[key]
        pool = f"replay:{answers}" if listed is None else f"ids:{lists / listed}"
        # Random and ALKD share the budget curve's names (and so its selections and students).
        name = (f"bc-{d}-{arch}-s{seed}-{key}-{budget}" if key in ("random", "alkd")
                else f"os-{d}-{arch}-s{seed}-{key.replace('@', 'at')}-{budget}")  # fmt: skip
        ensure_selection(store, name, dataset=d, settings=strategy, budget=budget, seed=seed, pool=pool,
                         teacher_model=models["teacher"] if "teacher" in needs else None,
                         student_model=student if "student" in needs else None)  # fmt: skip
        labelled(store, name, answers)
        made = distill_student(store, student, name, {"seed": seed, **({"epochs": 10} if quick else {})})
        test, valid = test_r10(made.metrics)
        held = audit(store, selection=name, student=student)
        rows.append({"selection": key, "test": test, "valid": valid, "labels": made.labels,
                     "hit@10": held["hit@10"], "effective": held.get("effective")})  # fmt: skip
    for row in rows:
        row.update(dataset=d, arch=arch, seed=seed, budget=budget)
    return rows


def table(rows: list[dict[str, Any]], test_sessions: dict[str, int]) -> str:
    out = []
    for d, arch in sorted({(r["dataset"], r["arch"]) for r in rows}):
        cell = [r for r in rows if r["dataset"] == d and r["arch"] == arch]
        seeds = sorted({r["seed"] for r in cell})
        base = {(r["seed"], split): r[split] for r in cell if r["selection"] == "random"
                for split in ("test", "valid")}  # fmt: skip
        out.append(f"\n**{DATASETS[d]}, {arch.upper()} student, budget {cell[0]['budget']}** "
                   f"({len(seeds)} seeds; one test hit = {1 / test_sessions[d]:.5f})\n")  # fmt: skip
        out.append("| selection | answers' hit@10 | effective | test R@10 | − Random, 95% CI "
                   "| valid R@10 | − Random, 95% CI |")  # fmt: skip
        out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for key in ["student", *SELECTIONS]:
            group = [r for r in cell if r["selection"] == key]
            if not group:
                continue
            figures = []
            for split in ("test", "valid"):
                values = [r[split] for r in group]
                sd = statistics.stdev(values) if len(values) > 1 else 0.0
                figures.append(f"{statistics.fmean(values):.4f} ± {sd:.4f}")
                if key == "random":
                    figures.append("-")
                else:
                    m, h = ci95([r[split] - base[(r["seed"], split)] for r in group])
                    figures.append(f"{m:+.4f} ± {h:.4f}")
            held = [
                f"{statistics.fmean(r[k] for r in group):.3f}" if group[0].get(k) is not None else "-"
                for k in ("hit@10", "effective")
            ]
            out.append(f"| {LABELS.get(key, 'Student (no distillation)')} | {' | '.join(held)} | "
                       f"{' | '.join(figures)} |")  # fmt: skip
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--datasets", default="ml")
    parser.add_argument("--students", default="fpmc")
    parser.add_argument("--seeds", default="1-5", help="seeds: 1,2,3 or 1-5")
    parser.add_argument(
        "--seeds-for", action="append", default=[], metavar="DATASET=SEEDS",
        help="other seeds for one dataset (ml=1-10: more seeds where the gaps are small)",
    )  # fmt: skip
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--selections", default=",".join(SELECTIONS))
    parser.add_argument("--db", type=Path, default=BENCH_DIR / "budget_curve.db")
    parser.add_argument("--md", type=Path, default=None, help="also write the tables here")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--quick", action="store_true", help="3 training epochs, 10 distillation epochs")
    args = parser.parse_args()
    chosen = [s for s in args.selections.split(",") if s]
    unknown = set(chosen) - set(SELECTIONS)
    if unknown:
        parser.error(f"unknown selections {sorted(unknown)}; known: {', '.join(SELECTIONS)}")
    if "random" not in chosen:
        chosen.insert(0, "random")  # the baseline of every difference
    torch.set_num_threads(args.threads)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    test_sessions: dict[str, int] = {}
    started = time.perf_counter()
    with open_store(args.db) as store:
        for d in args.datasets.split(","):
            answers, pool, test_sessions[d] = prepare_dataset(store, args.data, d)
            seeds = dict(item.split("=", 1) for item in args.seeds_for).get(d, args.seeds)
            for arch in args.students.split(","):
                for seed in seed_list(seeds):
                    t0 = time.perf_counter()
                    rows += run_cell(store, d, arch, seed, answers, pool, args.budget, chosen,
                                     args.quick, args.db.with_name(f"{args.db.stem}.oracle_lists"))  # fmt: skip
                    log(f"{d} {arch} seed {seed}: {time.perf_counter() - t0:.0f} s")
    text = table(rows, test_sessions)
    text += f"\n\nThis invocation: {(time.perf_counter() - started) / 60:.1f} min; `{' '.join(sys.argv)}`\n"
    print(text)
    if args.md:
        args.md.write_text(text)
    with (BENCH_DIR / "oracle_study.jsonl").open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
