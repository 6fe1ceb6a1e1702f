"""Full-ranking evaluation speed: `alkd_tui.rec.evaluate.evaluate` in-process.

The alkdrec-games test split (4,019 sessions) ranked against all 26,138 items by a dim-100
model of each architecture, unmasked, with the session's own items excluded, and both from
one scoring pass (`evaluate_both`, what training stores); the median
of `--repeat` timed calls after one warm-up call. The models are trained for
`--train-epochs` epochs first (full-softmax CE, batch 1024; 0 = freshly initialised), so
their scores look like a real model's rather than an initialisation's.

    .venv/bin/python benchmarks/bench_eval.py
    .venv/bin/python benchmarks/bench_eval.py --models fpmc,gru4rec --train-epochs 0
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from _rec_common import DEFAULT_DATA, alkd_command, import_dataset, machine, table, write_json

from alkd_tui.data import load_dataset
from alkd_tui.rec.evaluate import evaluate, evaluate_both
from alkd_tui.rec.instances import Instances
from alkd_tui.rec.trainer import TrainConfig, make_recommender, train_model
from alkd_tui.store import open_store

TARGET_S = 1.0


def timed(fn: Any, repeat: int) -> tuple[float, list[float], Any]:
    """(median seconds, all seconds, last result) of `repeat` calls after a warm-up call."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--models", default="fpmc,stamp,gru4rec,narm,sasrec,srgnn,attenmixer")
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train-epochs", type=int, default=2, help="0: freshly initialised models")
    parser.add_argument("--out", type=Path, help="JSON results (default .bench/eval.json)")
    args = parser.parse_args()
    if not (args.data / "alkdrec-games").is_dir():
        raise SystemExit(f"no {args.data / 'alkdrec-games'}: this benchmark needs the shared data")
    torch.set_num_threads(args.threads)
    info = machine()
    results: list[dict[str, Any]] = []
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        db = Path(tmp) / "bench.db"
        import_dataset(alkd_command(), db, args.data / "alkdrec-games", "games")
        store = open_store(db)
        ds = load_dataset(store, "games")
        store.close()
    test = Instances.of_split(ds, "test", 10)
    for arch in args.models.split(","):
        cfg = TrainConfig(
            architecture=arch,
            dim=args.dim,
            batch_size=1024,
            epochs=max(args.train_epochs, 1),
            seed=0,
        )
        if args.train_epochs:
            model = train_model(ds, cfg.model_copy(update={"patience": 100})).model
        else:
            torch.manual_seed(0)
            model = make_recommender(cfg, ds.n_items)
        entry: dict[str, Any] = {
            "model": arch,
            "dim": args.dim,
            "sessions": len(test),
            "items": ds.n_items,
        }
        for label, exclude in (("unmasked", False), ("own items excluded", True)):
            med, times, metrics = timed(
                lambda m=model, ex=exclude: evaluate(m, test, exclude_own=ex), args.repeat
            )
            entry[label] = {
                "median_s": round(med, 4),
                "runs_s": [round(t, 4) for t in times],
                "recall@10": metrics["recall@10"],
            }
        med, times, _ = timed(lambda m=model: evaluate_both(m, test), args.repeat)
        entry["both views, one pass"] = {
            "median_s": round(med, 4),
            "runs_s": [round(t, 4) for t in times],
        }
        results.append(entry)
        rows.append(
            [
                arch,
                f"{entry['unmasked']['median_s']:.3f}",
                ", ".join(f"{t:.2f}" for t in entry["unmasked"]["runs_s"]),
                f"{entry['own items excluded']['median_s']:.3f}",
                ", ".join(f"{t:.2f}" for t in entry["own items excluded"]["runs_s"]),
                f"{entry['both views, one pass']['median_s']:.3f}",
                f"{entry['unmasked']['recall@10']:.4f}",
                "pass"
                if max(entry["unmasked"]["median_s"], entry["own items excluded"]["median_s"])
                < TARGET_S
                else "**FAIL**",
            ]
        )
        print(f"{arch}: {entry}", flush=True)
    info["loadavg_end"] = __import__("os").getloadavg()[0]
    path = write_json(
        "eval",
        {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}, "results": results},
        args.out,
    )
    print()
    print(
        table(
            [
                f"model (dim {args.dim})",
                "unmasked median (s)",
                "runs (s)",
                "own excluded median (s)",
                "runs (s)",
                "both views, one pass (s)",
                "test R@10",
                "target < 1 s",
            ],
            rows,
            "lrlrlrrl",
        )
    )
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
