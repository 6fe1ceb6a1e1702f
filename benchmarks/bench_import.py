"""Benchmark `alkd data import` end to end: wall time and peak RSS of the real CLI.

Each run is a fresh subprocess `alkd --db <tmp>/x.db data import ... --jsonl` on a fresh
database; its peak RSS comes from `os.wait4` (the child's own `ru_maxrss`). The progress
events' `time` fields split a run into phases (startup, read, preprocess, stats, store,
commit + exit). Cases: the shared real datasets (skipped, with a message, when absent) and
a generated 1M-session / 5M-click CSV, plus `alkd data show NAME --json` on the big DB.

    .venv/bin/python benchmarks/bench_import.py            # all cases, results in .bench/
    .venv/bin/python benchmarks/bench_import.py --skip-big --repeat-small 5
    .venv/bin/python benchmarks/bench_import.py --postgres postgresql://USER@HOST/postgres

With `--postgres` (a server's URL; its maintenance database) each import goes into a fresh
PostgreSQL database (`alkd_bench`, dropped and created again before every run) instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
MB = 1024 * 1024
STARTUP, READ, COMMIT = "startup (imports, open DB)", "read files", "commit, show, exit"
PHASES = [STARTUP, READ, "preprocess", "validate + stats", "store items", "store sessions", COMMIT]


@dataclass
class Case:
    """One import to benchmark, with its targets."""

    name: str
    format: str
    path: Path
    repeat: int
    max_seconds: float
    max_rss_mb: float | None = None
    extra: list[str] = field(default_factory=list)


@dataclass
class Run:
    """One measured child process."""

    wall_s: float
    rss_mb: float
    rc: int
    phases: dict[str, float] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    db_mb: float = 0.0


def alkd_executable() -> str:
    """The `alkd` next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).with_name("alkd")
    if beside.exists():
        return str(beside)
    found = shutil.which("alkd")
    if found is None:
        sys.exit("bench_import: no `alkd` executable (install the project first)")
    return found


def child_env() -> dict[str, str]:
    """The environment for children: no busy-waiting OpenMP threads on a shared machine."""
    return {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}


def run_child(args: list[str], stdout_path: Path) -> tuple[float, float, int, float, float]:
    """Run `args`; returns (wall s, peak RSS MB, exit code, start epoch, end epoch)."""
    with stdout_path.open("wb") as out, (stdout_path.with_suffix(".err")).open("wb") as err:
        start_epoch = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=child_env())
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        end_epoch = time.time()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, tell Popen
    return wall, usage.ru_maxrss / 1024, proc.returncode, start_epoch, end_epoch  # KiB on Linux


def phases_from_events(lines: list[str], start: float, end: float) -> dict[str, float]:
    """Seconds per phase from `--jsonl` progress events (gaps between tasks get names too)."""
    events = [json.loads(line) for line in lines if line.startswith("{")]
    spans: dict[str, list[float]] = {}
    for ev in events:
        if ev.get("event") in ("start", "end") and "time" in ev:
            task = READ if ev["task"].startswith("read ") else ev["task"]
            spans.setdefault(task, []).append(ev["time"])
    stamps = [ev["time"] for ev in events if "time" in ev]
    if not stamps:
        return {}
    phases = {STARTUP: stamps[0] - start}
    previous_end = None
    for task, (t_start, t_end, *_) in spans.items():
        if previous_end is not None and t_start - previous_end > 0.005:
            gap_name = "validate + stats" if task == "store items" else f"before {task}"
            phases[gap_name] = t_start - previous_end
        phases[task] = t_end - t_start
        previous_end = t_end
    phases[COMMIT] = end - stamps[-1]
    return {k: round(v, 3) for k, v in phases.items()}


#: A PostgreSQL server (`--postgres`), else None: SQLite files under the scratch folder.
POSTGRES: str | None = None
BENCH_DB = "alkd_bench"


def fresh_db(workdir: Path) -> str:
    """A fresh, empty database: what `--db` gets."""
    if POSTGRES is None:
        for leftover in workdir.glob("x.db*"):
            leftover.unlink()
        return str(workdir / "x.db")
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    return f"{POSTGRES.rsplit('/', 1)[0]}/{BENCH_DB}"


def db_size_mb(workdir: Path) -> float:
    """The size of the benchmark's database."""
    if POSTGRES is None:
        return sum(p.stat().st_size for p in workdir.glob("x.db*")) / MB
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        row = admin.execute("SELECT pg_database_size(%s)", (BENCH_DB,)).fetchone()
    return (row[0] if row else 0) / MB


def import_once(alkd: str, case: Case, workdir: Path) -> Run:
    """Import `case` once into a fresh database."""
    db = fresh_db(workdir)
    args = [alkd, "--db", db, "data", "import", case.format, str(case.path)]
    args += ["--name", case.name, "--jsonl", *case.extra]
    out = workdir / f"{case.name}.jsonl"
    wall, rss, rc, start, end = run_child(args, out)
    lines = out.read_text().splitlines()
    if rc != 0:
        err = out.with_suffix(".err").read_text().strip()
        print(f"  {case.name}: exit code {rc}: {err[-500:]}", file=sys.stderr)
        return Run(wall, rss, rc)
    result = next((json.loads(x)["data"] for x in lines if '"event": "result"' in x), {})
    db_mb = db_size_mb(workdir)
    return Run(wall, rss, rc, phases_from_events(lines, start, end), result, round(db_mb, 1))


def time_command(alkd: str, args: list[str], repeat: int, workdir: Path) -> list[Run]:
    """Run `alkd ARGS` `repeat` times (output discarded)."""
    runs = []
    for _ in range(repeat):
        wall, rss, rc, _, _ = run_child([alkd, *args], workdir / "cmd.out")
        runs.append(Run(wall, rss, rc))
    return runs


def summarize(
    name: str, runs: list[Run], max_s: float | None, max_mb: float | None
) -> dict[str, Any]:
    """Median figures of `runs` and pass/fail against the targets."""
    ok = [r for r in runs if r.rc == 0]
    if not ok:
        return {"case": name, "runs": len(runs), "failed": True, "pass": False}
    wall = statistics.median(r.wall_s for r in ok)
    rss = statistics.median(r.rss_mb for r in ok)
    passed = (
        len(ok) == len(runs)
        and (max_s is None or wall < max_s)
        and (max_mb is None or rss < max_mb)
    )
    phases: dict[str, float] = {}
    for key in ok[0].phases:
        values = [r.phases[key] for r in ok if key in r.phases]
        phases[key] = round(statistics.median(values), 3)
    return {
        "case": name,
        "runs": len(runs),
        "wall_s": [round(r.wall_s, 3) for r in runs],
        "median_wall_s": round(wall, 3),
        "peak_rss_mb": [round(r.rss_mb, 1) for r in runs],
        "median_peak_rss_mb": round(rss, 1),
        "target_s": max_s,
        "target_rss_mb": max_mb,
        "pass": passed,
        "phases_median_s": phases,
        "db_mb": ok[0].db_mb or None,
        "result": {k: ok[0].result.get(k) for k in ("sessions", "items", "clicks")}
        if ok[0].result
        else None,
    }


def fmt_target(row: dict[str, Any]) -> str:
    parts = []
    if row.get("target_s") is not None:
        parts.append(f"< {row['target_s']:g} s")
    if row.get("target_rss_mb") is not None:
        parts.append(f"< {row['target_rss_mb'] / 1024:g} GB RSS")
    return ", ".join(parts) or "-"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The results as a Markdown table, then each import's phases."""
    lines = [
        "| case | runs | median wall (s) | all runs (s) | median peak RSS (MB) | target | result |",
        "|---|---:|---:|---|---:|---|---|",
    ]
    for row in rows:
        if row.get("failed"):
            lines.append(
                f"| {row['case']} | {row['runs']} | failed | | | {fmt_target(row)} | FAIL |"
            )
            continue
        verdict = "-" if row["target_s"] is None else ("pass" if row["pass"] else "**FAIL**")
        runs = ", ".join(f"{w:.2f}" for w in row["wall_s"])
        lines.append(
            f"| {row['case']} | {row['runs']} | {row['median_wall_s']:.2f} | {runs} | "
            f"{row['median_peak_rss_mb']:.0f} | {fmt_target(row)} | {verdict} |"
        )
    with_phases = [row for row in rows if row.get("phases_median_s")]
    if with_phases:
        names = list(PHASES)
        for row in with_phases:
            names += [k for k in row["phases_median_s"] if k not in names]
        names = [n for n in names if any(n in row["phases_median_s"] for row in with_phases)]
        lines += ["", "Phases (median s, from the `--jsonl` events' times):", ""]
        lines.append("| phase | " + " | ".join(row["case"] for row in with_phases) + " |")
        lines.append("|---|" + "---:|" * len(with_phases))
        for name in names:
            cells = [row["phases_median_s"].get(name) for row in with_phases]
            lines.append(
                f"| {name} | " + " | ".join("" if c is None else f"{c:.2f}" for c in cells) + " |"
            )
    return "\n".join(lines)


def shared_cases(data: Path, repeat: int) -> list[Case]:
    """The real-data cases that exist under `data` (a message for each one that does not)."""
    wanted = [
        Case("alkdrec-games", "alkdrec", data / "alkdrec-games", repeat, 2.0),
        Case("yoochoose-100k", "yoochoose", data / "yoochoose-100k", repeat, 2.0),
    ]
    cases = []
    for case in wanted:
        if case.path.exists():
            cases.append(case)
        else:
            print(f"skipping {case.name}: {case.path} is absent", file=sys.stderr)
    return cases


def make_big_csv(sessions: int, out: Path) -> float:
    """Generate the big CSV with make_big_csv.py; returns the seconds it took."""
    t0 = time.perf_counter()
    script = Path(__file__).with_name("make_big_csv.py")
    cmd = [sys.executable, str(script), "--sessions", str(sessions), "--out", str(out)]
    subprocess.run(cmd, check=True, env=child_env())
    return time.perf_counter() - t0


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared real data")
    parser.add_argument("--repeat-small", type=int, default=3)
    parser.add_argument("--repeat-big", type=int, default=1)
    parser.add_argument("--repeat-show", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=1_000_000, help="sessions in the big CSV")
    parser.add_argument("--big-csv", type=Path, help="reuse this CSV instead of generating one")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--tmp", type=Path, help="scratch folder (default: a new temp folder)")
    parser.add_argument("--out", type=Path, default=ROOT / ".bench" / "import.json")
    parser.add_argument("--postgres", help="a PostgreSQL server's URL: import into it instead")
    args = parser.parse_args()
    global POSTGRES
    POSTGRES = args.postgres

    alkd = alkd_executable()
    scratch = Path(tempfile.mkdtemp(prefix="alkd-bench-", dir=args.tmp))
    rows: list[dict[str, Any]] = []
    generated_s = None
    try:
        startup = time_command(alkd, ["--help"], args.repeat_show, scratch)
        rows.append(summarize("`alkd --help` (startup only)", startup, None, None))
        for case in shared_cases(args.data, args.repeat_small):
            print(f"import {case.name} x{case.repeat} ...", file=sys.stderr)
            runs = [import_once(alkd, case, scratch) for _ in range(case.repeat)]
            rows.append(summarize(f"import {case.name}", runs, case.max_seconds, case.max_rss_mb))
        if not args.skip_big:
            csv_path = args.big_csv
            if csv_path is None:
                csv_path = scratch / "big.csv"
                print(f"generating {args.sessions:,} sessions ...", file=sys.stderr)
                generated_s = round(make_big_csv(args.sessions, csv_path), 2)
            label = (
                f"big-{args.sessions // 1000}k"
                if args.sessions < 1_000_000
                else f"big-{args.sessions // 1_000_000}M"
            )
            case = Case(label, "csv", csv_path, args.repeat_big, 60.0, 2048.0)
            print(f"import {case.name} x{case.repeat} ...", file=sys.stderr)
            runs = [import_once(alkd, case, scratch) for _ in range(case.repeat)]
            rows.append(
                summarize(f"import {case.name} (csv)", runs, case.max_seconds, case.max_rss_mb)
            )
            if runs[-1].rc == 0:  # the last run's DB is still there
                last = str(scratch / "x.db") if POSTGRES is None else f"{POSTGRES.rsplit('/', 1)[0]}/{BENCH_DB}"
                show = ["--db", last, "data", "show", case.name, "--json"]
                print(f"show {case.name} x{args.repeat_show} ...", file=sys.stderr)
                runs_show = time_command(alkd, show, args.repeat_show, scratch)
                rows.append(summarize(f"`data show {case.name} --json`", runs_show, 1.0, None))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    table = markdown(rows)
    print(table)
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "big_csv_sessions": None if args.skip_big else args.sessions,
        "big_csv_generate_s": generated_s,
        "rows": rows,
        "markdown": table,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults: {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
