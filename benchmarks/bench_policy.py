"""Benchmark the max-min policy and its sampling: wall time per pool size.

Each case draws a fresh pool of random difficulties and times, in-process, one complete
`draw_policy(difficulty, budget, seed)`: the sort by difficulty, gains, the closed form (k*,
Gamma, p*) and the one-shot draw of the budget without replacement. The policy alone
(`policy_by_rank`) and the sequential variant (the authors' loop, policy recomputed after
every draw) are timed too. Target: a 1,000,000-session pool in < 2 s including sampling.

    .venv/bin/python benchmarks/bench_policy.py                 # results in .bench/policy.json
    .venv/bin/python benchmarks/bench_policy.py --repeat 7 --big   # adds a 10M-session pool
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alkd_tui.active.policy import policy_by_rank  # noqa: E402
from alkd_tui.active.sampling import draw_policy  # noqa: E402

TARGET_1M_S = 2.0


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Wall times of `repeat` calls (after one untimed warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--big", action="store_true", help="also a 10,000,000-session pool")
    parser.add_argument("--out", type=Path, default=ROOT / ".bench" / "policy.json")
    args = parser.parse_args()

    sizes = [10_000, 100_000, 1_000_000] + ([10_000_000] if args.big else [])
    rows: list[dict[str, Any]] = []
    for n in sizes:
        difficulty = np.random.default_rng(n).random(n)
        draw = timed(lambda d=difficulty: draw_policy(d, args.budget, 0), args.repeat)
        policy = timed(lambda n=n: policy_by_rank(n), args.repeat)
        result = draw_policy(difficulty, args.budget, 0)
        rows.append(
            {
                "case": f"one-shot, pool {n:,}",
                "pool": n,
                "budget": args.budget,
                "k_star": result.policy.k_star,
                "draw_policy_s": draw,
                "policy_by_rank_s": policy,
            }
        )
    for n in (7_393, 100_000):  # the paper's ML training pool, and a larger one
        difficulty = np.random.default_rng(n).random(n)
        seq = timed(lambda d=difficulty: draw_policy(d, args.budget, 0, sequential=True), 1)
        rows.append(
            {
                "case": f"sequential, pool {n:,}",
                "pool": n,
                "budget": args.budget,
                "draw_policy_s": seq,
            }
        )

    print(f"budget {args.budget}, {args.repeat} runs each (median; all runs in the JSON)\n")
    print(f"| {'case':<28} | {'draw (s)':>9} | {'policy only (s)':>15} | {'k*/pool':>8} |")
    print(f"|{'-' * 30}|{'-' * 10}:|{'-' * 16}:|{'-' * 9}:|")
    for row in rows:
        draw_med = statistics.median(row["draw_policy_s"])
        pol = row.get("policy_by_rank_s")
        share = f"{row['k_star'] / row['pool']:.4f}" if "k_star" in row else "-"
        pol_text = f"{statistics.median(pol):.3f}" if pol else "-"
        print(f"| {row['case']:<28} | {draw_med:>9.3f} | {pol_text:>15} | {share:>8} |")
    one_m = next(r for r in rows if r["pool"] == 1_000_000 and "k_star" in r)
    median_1m = statistics.median(one_m["draw_policy_s"])
    verdict = "pass" if median_1m < TARGET_1M_S else "FAIL"
    print(
        f"\n1M-session pool incl. sampling: {median_1m:.3f} s (target < {TARGET_1M_S} s): {verdict}"
    )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": {
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                    "numpy": np.__version__,
                },
                "target_1m_s": TARGET_1M_S,
                "median_1m_s": median_1m,
                "result": verdict,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"saved {args.out.relative_to(ROOT)}")
    return 0 if verdict == "pass" else 1


if __name__ == "__main__":
    sys.exit(main())
