"""The GPU check: `alkd run` on the embedded default, once with `--device cpu` and once with
`--device cuda`, side by side, for a machine that has a CUDA GPU (the test suite never needs one).

Every step that computes with a recommender runs on the device: training the teacher
recommender and the student, the difficulty of the selection, the candidate lists, the
distillation and the evaluation. The teacher is the `tr` teacher (the teacher
recommender's own rankings), so no LLM is needed and the check takes a few minutes.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/gpu_check.py [--epochs 10] [--out DIR]

It fails (exit 1) when the CUDA run fails, when the run does not record the GPU, or when a test
Recall@10 of the two devices differs by more than `--tolerance` (the two devices draw different
random numbers, so the figures match only within noise). It prints each run's wall time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ALKD = [sys.executable, "-m", "alkd_tui.cli.main"]
MODELS = ("teacher_recommender", "student", "distilled")


def run_on(device: str, folder: Path, epochs: int) -> tuple[dict, float]:
    """`alkd --device DEVICE run` in a fresh database; its summary and wall time."""
    settings = [
        "label.teacher=tr", f"teacher_recommender.epochs={epochs}", f"student.epochs={epochs}",
        f"distill.epochs={epochs}",
    ]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    args = [*ALKD, "--db", str(folder / f"{device}.db"), "--device", device, "run", "--json"]
    for setting in settings:
        args += ["--set", setting]
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"--device {device}: alkd run failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    summary = json.loads(done.stdout)
    shown = subprocess.run(  # the run as stored: its environment is completed as it finishes
        [*ALKD, "--db", str(folder / f"{device}.db"), "runs", "show", str(summary["run"]), "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary["env"] = json.loads(shown.stdout)["env"]
    return summary, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--tolerance", type=float, default=0.02, help="largest |R@10 cuda - cpu|")
    parser.add_argument("--out", type=Path, default=None, help="keep the databases here")
    parser.add_argument(
        "--devices", default="cpu,cuda", help="the two devices to compare (cpu,cpu checks this script)"
    )
    args = parser.parse_args()
    first, second = args.devices.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        runs = [run_on(device, folder / f"{n}", args.epochs) for n, device in enumerate((first, second))]
    problems = []
    env = runs[1][0]["env"]
    if env.get("device") != second:
        problems.append(f"the {second} run recorded device {env.get('device')!r}")
    print(f"GPU: {env.get('gpu', '-')}")
    print(f"{'':22}{first:>10}{second:>10}")
    for model in MODELS:
        figures = []
        for summary, _ in runs:
            results = (summary.get("results") or {}).get(model) or {}
            figures.append((results.get("test_excluding_own") or {}).get("recall@10"))
        shown = [f"{f:10.4f}" if f is not None else f"{'-':>10}" for f in figures]
        print(f"{model + ' R@10':22}{shown[0]}{shown[1]}")
        if None not in figures and abs(figures[0] - figures[1]) > args.tolerance:
            problems.append(f"{model}: R@10 {figures[1]:.4f} on {second} against {figures[0]:.4f} on {first}")
    print(f"{'wall seconds':22}{runs[0][1]:10.1f}{runs[1][1]:10.1f}")
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
