"""What torch's deterministic kernels cost in training (`alkd_tui.rec.loop.deterministic_kernels`,
on in every training and distillation), and that they make two runs of one seed identical.

On alkdrec-games, GRU4Rec, STAMP and SASRec at dim 64 (the RecBole comparison's setting:
full-softmax cross-entropy, batch 1024, lr 1e-3) and FPMC and STAMP as the reproduction trains
its teacher recommenders (dim 100, BPR with in-batch negatives, lr 1e-2), `--epochs` epochs
each, with the kernels on and off in turn (`--repeats` times, in one process, so both see the same load); the figure is
the median training time of an epoch (validation excluded). A hash of each run's weights
shows whether runs of one seed agree.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/bench_deterministic.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import contextlib
import hashlib
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

import alkd_tui.rec.loop as loop
from alkd_tui.pipeline.datasets import import_dataset
from alkd_tui.pipeline.models import get_model, load_trained, train_recommender
from alkd_tui.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_recbole import HPARAMS  # the models' settings of the RecBole comparison

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "alkdrec-games"
KERNELS = loop.deterministic_kernels


CASES: dict[str, dict[str, Any]] = {
    # the RecBole comparison's setting
    "gru4rec-ce": {"architecture": "gru4rec", "dim": 64, "loss": "ce", "lr": 1e-3,
                   "hparams": HPARAMS["gru4rec"]},
    "stamp-ce": {"architecture": "stamp", "dim": 64, "loss": "ce", "lr": 1e-3},
    "sasrec-ce": {"architecture": "sasrec", "dim": 64, "loss": "ce", "lr": 1e-3,
                  "hparams": HPARAMS["sasrec"]},
    # the reproduction's teacher recommenders: BPR with in-batch negatives, dim 100
    "fpmc-bpr": {"architecture": "fpmc", "dim": 100, "loss": "bpr", "negatives": "in-batch",
                 "lr": 1e-2},
    "stamp-bpr": {"architecture": "stamp", "dim": 100, "loss": "bpr", "negatives": "in-batch",
                  "lr": 1e-2},
}  # fmt: skip


def run(store: Any, case: str, epochs: int, deterministic: bool, n: int) -> dict[str, Any]:
    """One training run; the kernels on or off."""
    loop.deterministic_kernels = KERNELS if deterministic else contextlib.nullcontext  # type: ignore[assignment]
    try:
        cfg = {**CASES[case], "batch_size": 1024, "epochs": epochs, "patience": 100,
               "metric": "ndcg@10", "seed": 1}  # fmt: skip
        summary = train_recommender(
            store,
            "games",
            "teacher",
            cfg,
            name=f"{case}-{int(deterministic)}-{n}",
            threads=2,
            force=True,
        )
    finally:
        loop.deterministic_kernels = KERNELS  # type: ignore[assignment]
    weights = load_trained(store, get_model(store, summary.name)).state_dict()
    digest = hashlib.sha256(b"".join(t.numpy().tobytes() for t in weights.values()))
    sha = digest.hexdigest()  # of the weights (a checkpoint file also holds the model's name)
    epochs_s = [h["train_seconds"] for h in summary.history]
    return {"case": case, "deterministic": deterministic, "epoch_seconds": epochs_s, "sha": sha}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / ".bench" / "deterministic.json"))
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"no {DATA} (this benchmark needs the shared data)")
    torch.set_num_threads(2)
    runs = []
    with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "bench.db") as store:
        import_dataset(store, "alkdrec", DATA, "games")
        for case in args.cases.split(","):
            for n in range(args.repeats):
                for deterministic in (n % 2 == 0, n % 2 == 1):  # alternate which goes first
                    runs.append(run(store, case, args.epochs, deterministic, n))
                    r = runs[-1]
                    print(f"{case} deterministic={deterministic} run {n}: "
                          f"{statistics.median(r['epoch_seconds']):.2f} s/epoch, {r['sha'][:12]}",
                          file=sys.stderr)  # fmt: skip
    print(
        "| case | s/epoch, deterministic | s/epoch, default | ratio | distinct weights over the runs (deterministic / default) |"
    )
    print("|---|---:|---:|---:|---:|")
    for case in args.cases.split(","):
        on = [r for r in runs if r["case"] == case and r["deterministic"]]
        off = [r for r in runs if r["case"] == case and not r["deterministic"]]
        a = statistics.median(s for r in on for s in r["epoch_seconds"])
        b = statistics.median(s for r in off for s in r["epoch_seconds"])
        print(f"| {case} | {a:.2f} | {b:.2f} | {a / b:.2f} | "
              f"{len({r['sha'] for r in on})} / {len({r['sha'] for r in off})} |")  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
