"""Shared helpers of the recommender benchmarks (bench_recbole, bench_eval, bench_teacher_student).

Not a benchmark itself: running `alkd` as a child process on a temporary database, the
machine description, mean/std/median formatting, and writing results to `.bench/`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
BENCH_DIR = ROOT / ".bench"


def alkd_command(override: str | None = None) -> list[str]:
    """The command that runs `alkd`: `override` (split like a shell), else the `alkd` next
    to this interpreter, else the one on PATH."""
    if override:
        return shlex.split(override)
    beside = Path(sys.executable).with_name("alkd")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("alkd")
    if found is None:
        sys.exit("no `alkd` executable (install the project first)")
    return [found]


def child_env(**extra: str) -> dict[str, str]:
    """The environment for children: no busy-waiting OpenMP threads on a shared machine."""
    return {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", **extra}


def run_json(args: list[str], *, env: dict[str, str] | None = None) -> tuple[dict[str, Any], float]:
    """Run a command that prints JSON on stdout (a document, or JSON lines: the last one is
    taken); returns (the parsed result, wall seconds). Exits with its stderr on failure."""
    started = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env or child_env())
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        sys.exit(f"failed (rc={proc.returncode}): {shlex.join(args)}")
    text = proc.stdout.strip()
    try:
        return json.loads(text), wall
    except json.JSONDecodeError:
        return json.loads(text.splitlines()[-1]), wall


def import_dataset(alkd: list[str], db: Path, path: Path, name: str) -> dict[str, Any]:
    """`alkd data import alkdrec PATH --name NAME` into `db`; returns its summary."""
    result, _ = run_json(
        [*alkd, "--db", str(db), "data", "import", "alkdrec", str(path), "--name", name, "--json"]
    )
    return result


def train(
    alkd: list[str],
    db: Path,
    dataset: str,
    model: str,
    dim: int,
    seed: int,
    options: dict[str, Any],
    hparams: dict[str, Any] | None = None,
    name: str | None = None,
) -> tuple[dict[str, Any], float]:
    """`alkd train ... --json --force` (options as `--key value`); returns (summary, wall s)."""
    args = [*alkd, "--db", str(db), "train", "--dataset", dataset, "--model", model]
    args += ["--dim", str(dim), "--seed", str(seed), "--json", "--force"]
    for key, value in options.items():
        args += [f"--{key}", str(value)]
    for key, value in (hparams or {}).items():
        args += ["--hparam", f"{key}={value}"]
    if name:
        args += ["--name", name]
    return run_json(args)


def machine() -> dict[str, Any]:
    """Where the figures come from."""
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "date": dt.date.today().isoformat(),
        "loadavg_start": os.getloadavg()[0],
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:  # pragma: no cover - the project depends on torch
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    if not values:
        return float("nan"), float("nan")
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def fmt_ms(values: list[float], digits: int = 4) -> str:
    """`mean ± std` of `values`."""
    mean, std = mean_std(values)
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def write_json(name: str, payload: dict[str, Any], out: Path | None = None) -> Path:
    """Write `payload` to `out` (default `.bench/<name>.json`); returns the path."""
    path = out or BENCH_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    """A Markdown table; `align` has one of l/r per column (default: first l, rest r)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
