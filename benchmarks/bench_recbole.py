"""Peer comparison with RecBole 1.2.1: training throughput and test accuracy on alkdrec-games.

GRU4Rec, STAMP and SASRec at dim 64, full-softmax cross-entropy, batch 1024, Adam lr 1e-3,
the last 10 items, the same split, 2 threads; alkd through its CLI (`alkd train`), RecBole
through the shared peer runner (`../shared/bench/recbole/run_peer.sh`, which builds its own
virtualenv on first use). Runs alternate between the two systems (alkd, RecBole, alkd, ...)
so that both see the same machine load.

- Timing runs (`--timing-epochs`, default 3): alkd `--epochs 3 --patience 100`, RecBole
  `--epochs 3 --no-valid`; the training time of each epoch (validation excluded in both).
- Full runs (`--full`): up to 50 epochs, early stopping after 10 epochs without a better
  validation NDCG@10; test Recall@10 / NDCG@10 of the best epoch, unmasked and with the
  session's own items removed ("masked"). Their epoch times are reported too.

Architecture hyper-parameters follow RecBole's defaults where alkd has the same knob:
GRU4Rec hidden 128 and dropout 0.3, SASRec 2 layers, 2 heads and dropout 0.5 (alkd's SASRec
has a fixed FFN width = dim and ReLU, RecBole's 256 and GELU).

    .venv/bin/python benchmarks/bench_recbole.py                    # timing + full runs
    .venv/bin/python benchmarks/bench_recbole.py --no-full --seeds 1   # a quick timing check
    .venv/bin/python benchmarks/bench_recbole.py --report-from .bench/recbole.json  # tables only
    .venv/bin/python benchmarks/bench_recbole.py --systems alkd,alkd-bf16,recbole  # bf16 too

`alkd-bf16` is `alkd train --precision bf16` (the training step's matrix products in bfloat16):
its throughput against fp32 and RecBole, and its accuracy against fp32 (within 2 SE).
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
    ROOT,
    alkd_command,
    child_env,
    fmt_ms,
    import_dataset,
    machine,
    mean_std,
    median,
    run_json,
    table,
    train,
    write_json,
)

DEFAULT_RUNNER = ROOT.parent / "shared" / "bench" / "recbole" / "run_peer.sh"
RECBOLE_NAMES = {"gru4rec": "GRU4Rec", "stamp": "STAMP", "sasrec": "SASRec"}
HPARAMS: dict[str, dict[str, Any]] = {
    "gru4rec": {"hidden": 128, "dropout": 0.3},
    "stamp": {},
    "sasrec": {"layers": 2, "heads": 2, "dropout": 0.5},
}
METRICS = ("recall@10", "ndcg@10")
N_TRAIN_GAMES = 12054  # training sessions of alkdrec-games (one instance each)


def alkd_run(
    args: argparse.Namespace, alkd: list[str], db: Path, model: str, seed: int, timing: bool,
    precision: str = "fp32",
) -> dict[str, Any]:
    epochs, patience = (args.timing_epochs, 100) if timing else (args.epochs, args.patience)
    options = {
        "precision": precision,
        "loss": "ce",
        "batch-size": 1024,
        "lr": 0.001,
        "threads": args.threads,
        "metric": "ndcg@10",
        "epochs": epochs,
        "patience": patience,
    }
    summary, wall = train(alkd, db, "games", model, args.dim, seed, options, HPARAMS[model])
    history = summary["history"]
    metrics = summary["metrics"]
    return {
        "system": "alkd" if precision == "fp32" else f"alkd-{precision}",
        "model": model,
        "seed": seed,
        "timing": timing,
        "epoch_seconds": [h["train_seconds"] for h in history],
        "epochs_run": len(history),
        "best_epoch": metrics["training"]["best_epoch"],
        "test": {k: metrics["test"][k] for k in METRICS},
        "test_masked": {k: metrics["test_excluding_own"][k] for k in METRICS},
        "wall_s": round(wall, 2),
    }


def recbole_run(
    args: argparse.Namespace, work: Path, model: str, seed: int, timing: bool
) -> dict[str, Any]:
    cmd = [str(args.runner), RECBOLE_NAMES[model], "alkdrec-games", "--dim", str(args.dim)]
    cmd += ["--seed", str(seed), "--threads", str(args.threads)]
    if timing:
        cmd += ["--epochs", str(args.timing_epochs), "--no-valid"]
    else:
        cmd += ["--epochs", str(args.epochs), "--patience", str(args.patience)]
    env = child_env(RB_WORK=str(work / "recbole"), ALKD_SHARED=str(args.data))
    result, wall = run_json(cmd, env=env)
    if "error" in result:
        raise SystemExit(f"RecBole failed: {result}")
    return {
        "system": "recbole",
        "model": model,
        "seed": seed,
        "timing": timing,
        "epoch_seconds": result["time_s"]["train_epochs"],
        "epochs_run": result["epochs_run"],
        "best_epoch": result["best_epoch"],
        "test": {k: result["test_unmasked_check"][k] for k in METRICS},
        "test_masked": {k: result["test_masked"][k] for k in METRICS},
        "wall_s": round(wall, 2),
        "peak_rss_mb": result.get("peak_rss_mb"),
        "versions": result.get("versions"),
    }


def report(
    runs: list[dict[str, Any]], n_train: int, models: list[str]
) -> tuple[str, dict[str, Any]]:
    """The Markdown tables and a summary of `runs`."""
    summary: dict[str, Any] = {}
    speed_rows, acc_rows = [], []
    for model in models:
        for kind, timing in (("timing", True), ("full", False)):
            per = {}
            for system in ("alkd", "recbole"):
                chosen = [
                    r
                    for r in runs
                    if r["model"] == model and r["system"] == system and r["timing"] is timing
                ]
                epochs = [s for r in chosen for s in r["epoch_seconds"]]
                per[system] = (
                    median(epochs),
                    len(epochs),
                    [round(median(r["epoch_seconds"]), 2) for r in chosen],
                )
            if not per["alkd"][1] or not per["recbole"][1]:
                continue
            ratio = per["recbole"][0] / per["alkd"][0]
            summary.setdefault(model, {})[f"{kind}_epoch_median_s"] = {
                s: round(v[0], 3) for s, v in per.items()
            }
            summary[model][f"{kind}_throughput_ratio"] = round(ratio, 2)
            speed_rows.append(
                [
                    f"{model} ({kind} runs)",
                    f"{per['alkd'][0]:.2f} ({per['alkd'][1]})",
                    f"{per['recbole'][0]:.2f} ({per['recbole'][1]})",
                    f"{n_train / per['alkd'][0]:,.0f}",
                    f"{n_train / per['recbole'][0]:,.0f}",
                    f"**{ratio:.2f}x**",
                    "pass" if ratio >= 2 else "**FAIL**",
                    ", ".join(map(str, per["alkd"][2]))
                    + " / "
                    + ", ".join(map(str, per["recbole"][2])),
                ]
            )
        full = {
            s: [r for r in runs if r["model"] == model and r["system"] == s and not r["timing"]]
            for s in ("alkd", "recbole")
        }
        if not full["alkd"] or not full["recbole"]:
            continue
        verdicts = []
        for system in ("alkd", "recbole"):
            chosen = full[system]
            row = [
                model,
                system,
                f"{median([r['epochs_run'] for r in chosen]):g} / {median([r['best_epoch'] for r in chosen]):g}",
            ]
            for field in ("test", "test_masked"):
                for metric in METRICS:
                    row.append(fmt_ms([r[field][metric] for r in chosen]))
            acc_rows.append(row)
        for field in ("test", "test_masked"):
            for metric in METRICS:
                a = [r[field][metric] for r in full["alkd"]]
                b = [r[field][metric] for r in full["recbole"]]
                (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
                margin = 2 * math.sqrt(sa**2 / len(a) + sb**2 / len(b))
                verdicts.append(
                    {
                        "field": field,
                        "metric": metric,
                        "alkd": ma,
                        "recbole": mb,
                        "margin": margin,
                        "ok": ma >= mb - margin,
                    }
                )
        summary.setdefault(model, {})["accuracy"] = verdicts
        ok = all(v["ok"] for v in verdicts)
        acc_rows.append(
            [model, "**result**", "", *["" for _ in range(3)], "pass" if ok else "**FAIL**"]
        )
    speed = table(
        [
            "model",
            "alkd s/epoch (n epochs)",
            "RecBole s/epoch (n epochs)",
            "alkd inst/s",
            "RecBole inst/s",
            "throughput alkd / RecBole",
            "target >= 2x",
            "per-run medians alkd / RecBole (s)",
        ],
        speed_rows,
        "lrrrrrll",
    )
    acc = table(
        [
            "model",
            "system",
            "epochs run / best (median)",
            "Recall@10",
            "NDCG@10",
            "Recall@10 masked",
            "NDCG@10 masked",
        ],
        acc_rows,
        "lllrrrr",
    )
    return speed + "\n\n" + acc, summary


def precision_report(runs: list[dict[str, Any]], models: list[str]) -> str:
    """bf16 against fp32 and RecBole: throughput (median epoch time) in timing and full runs,
    and test Recall@10 / NDCG@10 of the full runs against fp32's, within 2 SE."""
    rows = []
    for model in models:
        for kind, timing in (("timing", True), ("full", False)):
            epochs = {
                system: [s for r in runs if r["model"] == model and r["system"] == system
                         and r["timing"] is timing for s in r["epoch_seconds"]]
                for system in ("alkd", "alkd-bf16", "recbole")
            }  # fmt: skip
            if not epochs["alkd-bf16"] or not epochs["alkd"]:
                continue
            bf16, fp32 = median(epochs["alkd-bf16"]), median(epochs["alkd"])
            recbole = median(epochs["recbole"]) if epochs["recbole"] else None
            verdict = ""
            if not timing:
                checks = []
                for metric in METRICS:
                    a = [r["test"][metric] for r in runs if r["model"] == model and r["system"] == "alkd-bf16" and not r["timing"]]
                    b = [r["test"][metric] for r in runs if r["model"] == model and r["system"] == "alkd" and not r["timing"]]
                    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
                    margin = 2 * math.sqrt(sa**2 / len(a) + sb**2 / len(b))
                    checks.append(f"{metric} {ma:.4f} vs {mb:.4f} (2 SE {margin:.4f}): "
                                  + ("within" if abs(ma - mb) <= margin else "**outside**"))  # fmt: skip
                verdict = "; ".join(checks)
            rows.append([
                f"{model} ({kind} runs)", f"{fp32:.2f}", f"{bf16:.2f}",
                "-" if recbole is None else f"{recbole:.2f}", f"**{fp32 / bf16:.2f}x**",
                "-" if recbole is None else f"**{recbole / bf16:.2f}x**", verdict,
            ])  # fmt: skip
    return table(
        ["model", "fp32 s/epoch", "bf16 s/epoch", "RecBole s/epoch", "bf16 / fp32 speed",
         "bf16 / RecBole speed", "test accuracy, bf16 vs fp32"],
        rows, "lrrrrrl",
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--runner", type=Path, default=DEFAULT_RUNNER, help="RecBole's run_peer.sh")
    parser.add_argument("--models", default="gru4rec,stamp,sasrec")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timing-epochs", type=int, default=3, help="0: no timing runs")
    parser.add_argument(
        "--full", action=argparse.BooleanOptionalAction, default=True, help="full runs for accuracy"
    )
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--alkd", help="command that runs alkd (default: the venv's alkd)")
    parser.add_argument(
        "--systems", default="alkd,recbole", help="alkd, alkd-bf16 (--precision bf16), recbole"
    )
    parser.add_argument("--out", type=Path, help="JSON results (default .bench/recbole.json)")
    parser.add_argument("--report-from", type=Path, help="only print the tables of these results")
    args = parser.parse_args()
    models = args.models.split(",")
    if args.report_from:
        saved = json.loads(args.report_from.read_text())
        print(report(saved["runs"], N_TRAIN_GAMES, models)[0])
        if any(r["system"] == "alkd-bf16" for r in saved["runs"]):
            print("\n" + precision_report(saved["runs"], models))
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    if not (args.data / "alkdrec-games").is_dir():
        raise SystemExit(f"no {args.data / 'alkdrec-games'}: this benchmark needs the shared data")
    if not args.runner.is_file():
        raise SystemExit(f"no RecBole runner at {args.runner}")
    alkd = alkd_command(args.alkd)
    info = machine()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-recbole-") as tmp:
        work = Path(tmp)
        db = work / "bench.db"
        games = import_dataset(alkd, db, args.data / "alkdrec-games", "games")
        n_train = games["sessions"]["train"]
        plan = [(m, s, True) for m in models for s in seeds] if args.timing_epochs else []
        plan += [(m, s, False) for m in models for s in seeds] if args.full else []
        systems = args.systems.split(",")
        for i, (model, seed, timing) in enumerate(plan):
            kind = "timing" if timing else "full"
            order = systems if i % 2 == 0 else systems[::-1]  # A B, B A, ...
            for system in order:
                if system.startswith("alkd"):
                    precision = system.removeprefix("alkd").removeprefix("-") or "fp32"
                    run = alkd_run(args, alkd, db, model, seed, timing, precision)
                else:
                    run = recbole_run(args, work, model, seed, timing)
                runs.append(run)
                print(
                    f"[{len(runs)}/{len(systems) * len(plan)}] {system:9s} {model:8s} seed {seed} {kind:6s}: "
                    f"median epoch {median(run['epoch_seconds']):.2f} s, {run['epochs_run']} epochs, "
                    f"test {run['test']}, masked {run['test_masked']} ({run['wall_s']:.0f} s)",
                    flush=True,
                )
                write_json("recbole", {"machine": info, "runs": runs}, args.out)
    markdown, summary = report(runs, n_train, models)
    info["loadavg_end"] = __import__("os").getloadavg()[0]
    path = write_json(
        "recbole",
        {
            "machine": info,
            "args": {k: str(v) for k, v in vars(args).items()},
            "runs": runs,
            "summary": summary,
        },
        args.out,
    )
    print()
    print(markdown)
    if "alkd-bf16" in systems:
        print("\n" + precision_report(runs, models))
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
