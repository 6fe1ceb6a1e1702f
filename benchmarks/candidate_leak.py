"""The candidate leak on alkdrec-ml: how often the teacher recommender's candidate list holds
the true next item, on training sessions (which it memorised) and on validation sessions
(which it never saw), with the full teacher (the paper's lists, `--candidates full`) and
cross-fitted (`--candidates cross-fit`, the default).

Built from what `alkd label` and `alkd audit` use: the teacher is `alkd train --dataset ml
--model ARCH --role teacher --seed S` (`train_recommender` with nothing but the architecture
and the seed: the recipe), the lists are `top_candidates` and `cross_fitted_candidates` (what
`alkd label` shows an LLM), and the hit rates are `hit_rates` / `validation_hit_rates` (what
`alkd audit` reports as `candidate_leak`).

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/candidate_leak.py            # FPMC, seed 1
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/candidate_leak.py --arch stamp --seeds 1,2

Needs ../shared/data/alkdrec-ml. The database (with the fold models) is kept in
.bench/candidate_leak.db; the table goes to stdout and .bench/candidate_leak.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from _rec_common import BENCH_DIR, DEFAULT_DATA

from alkd_tui.data import load_dataset
from alkd_tui.data.canonical import TRAIN
from alkd_tui.errors import NotFoundError
from alkd_tui.pipeline.candidate_leak import hit_rates, validation_hit_rates
from alkd_tui.pipeline.cross_fit import cross_fitted_candidates
from alkd_tui.pipeline.datasets import get_dataset, import_dataset
from alkd_tui.pipeline.models import get_model, load_trained, train_recommender
from alkd_tui.rec.settings import TrainSettings
from alkd_tui.store import open_store
from alkd_tui.teacher.candidates import top_candidates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA / "alkdrec-ml")
    parser.add_argument("--arch", default="fpmc")
    parser.add_argument("--seeds", default="1", help="comma-separated teacher seeds")
    parser.add_argument("--kappa", type=int, default=50, help="candidate list length (the paper: 50)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sample", type=int, default=1000, help="sessions per split")
    parser.add_argument("--db", type=Path, default=BENCH_DIR / "candidate_leak.db")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"{args.data} is absent")
    args.db.parent.mkdir(parents=True, exist_ok=True)
    rows_out = []
    with open_store(args.db) as store:
        try:
            get_dataset(store, "ml")
        except NotFoundError:
            import_dataset(store, "alkdrec", args.data, "ml")
        ds = load_dataset(store, "ml")
        train_rows = np.flatnonzero(ds.split == TRAIN)
        for seed in (int(s) for s in args.seeds.split(",")):
            started = time.perf_counter()
            teacher = train_recommender(
                store, "ml", "teacher", TrainSettings(architecture=args.arch, seed=seed)
            )
            rows = np.sort(np.random.default_rng(seed).choice(train_rows, args.sample, replace=False))
            targets = ds.targets[rows].tolist()
            full, _ = top_candidates(load_trained(store, get_model(store, teacher.name)), ds, rows, args.kappa)
            crossed = cross_fitted_candidates(store, teacher.name, ds, rows, args.kappa, folds=args.folds)
            valid = validation_hit_rates(store, teacher.name, ds, args.kappa, args.sample, seed)
            for lists, split in ((full, "train, full teacher"), (crossed, f"train, cross-fitted ({args.folds} folds)")):
                rows_out.append({"seed": seed, "lists": split, **hit_rates(lists.tolist(), targets)})
            rows_out.append({"seed": seed, "lists": "valid (the teacher never saw them)", **valid})
            print(f"seed {seed}: {teacher.name}, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(f"| seed | candidate lists (kappa {args.kappa}, {args.arch}) | sessions | hit@1 | hit@10 | hit@25 |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for r in rows_out:
        cells = [f"{r[f'hit@{k}']:.3f} ± {r[f'hit@{k}_se']:.3f}" for k in (1, 10, 25)]
        print(f"| {r['seed']} | {r['lists']} | {r['sessions']} | " + " | ".join(cells) + " |")
    (BENCH_DIR / "candidate_leak.json").write_text(json.dumps(rows_out, indent=1))


if __name__ == "__main__":
    main()
