"""Generate a large, realistic click CSV (session_id,item_id,timestamp) for import benchmarks.

Deterministic for a given seed. Shape: session lengths 2 + geometric (mean 5 by default, the
total adjusted to exactly `--clicks`); ~50,000 items with Zipf-like popularity (exponent
0.9, so nearly all survive a min-support-5 filter); sessions start uniformly over ~30 days
in increasing order, clicks within a session a few seconds to minutes apart, so unix
timestamps increase with the session id and a time split works.

    python benchmarks/make_big_csv.py --sessions 1000000 --out /tmp/big.csv
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

START = 1_700_000_000  # 2023-11-14, unix seconds
DAYS = 30.0
MIN_LENGTH = 2


def session_lengths(rng: np.random.Generator, n_sessions: int, n_clicks: int) -> np.ndarray:
    """Lengths >= MIN_LENGTH with a geometric tail, summing to exactly `n_clicks`."""
    if n_clicks < MIN_LENGTH * n_sessions:
        raise ValueError(f"{n_clicks} clicks cannot fill {n_sessions} sessions of >= {MIN_LENGTH}")
    mean_extra = n_clicks / n_sessions - MIN_LENGTH
    if mean_extra == 0:
        return np.full(n_sessions, MIN_LENGTH, dtype=np.int64)
    lengths = MIN_LENGTH - 1 + rng.geometric(1.0 / (mean_extra + 1.0), size=n_sessions)
    diff = n_clicks - int(lengths.sum())
    while diff != 0:  # a few passes at most: nudge random sessions by one click
        picks = rng.integers(0, n_sessions, size=abs(diff))
        if diff > 0:
            np.add.at(lengths, picks, 1)
        else:
            picks = np.unique(picks[lengths[picks] > MIN_LENGTH])
            lengths[picks] -= 1
        diff = n_clicks - int(lengths.sum())
    return lengths


def zipf_items(
    rng: np.random.Generator, n_clicks: int, n_items: int, exponent: float
) -> np.ndarray:
    """`n_clicks` item ids drawn with popularity ~ 1 / rank**exponent (ids shuffled vs. rank)."""
    weights = 1.0 / np.arange(1, n_items + 1, dtype=np.float64) ** exponent
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    ranks = np.searchsorted(cdf, rng.random(n_clicks), side="right")
    ranks = np.minimum(ranks, n_items - 1)
    ids = 100_000 + rng.permutation(n_items)  # external ids unrelated to popularity
    return ids[ranks].astype(np.int64)


def make_table(
    n_sessions: int, n_clicks: int, n_items: int, exponent: float, seed: int
) -> pa.Table:
    """The clicks as an Arrow table, ordered by session (and time within a session)."""
    rng = np.random.default_rng(seed)
    lengths = session_lengths(rng, n_sessions, n_clicks)
    starts = np.sort(rng.uniform(0, DAYS * 86_400, size=n_sessions))
    session = np.repeat(np.arange(1, n_sessions + 1, dtype=np.int64), lengths)
    first = np.r_[0, np.cumsum(lengths)[:-1]]
    gaps = rng.exponential(60.0, size=n_clicks)  # mean one minute between clicks
    gaps[first] = 0.0
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[first], lengths)  # seconds since the session's first click
    stamps = START + np.floor(np.repeat(starts, lengths) + elapsed).astype(np.int64)
    items = zipf_items(rng, n_clicks, n_items, exponent)
    return pa.table({"session_id": session, "item_id": items, "timestamp": stamps})


def write_csv(table: pa.Table, out: Path) -> None:
    """Write `table` as a plain comma-separated file with an unquoted header."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        fh.write((",".join(table.column_names) + "\n").encode())
        pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, batch_size=1 << 16))


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--clicks", type=int, default=None, help="default: 5 x sessions")
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--zipf", type=float, default=0.9, help="popularity exponent")
    parser.add_argument("--seed", type=int, default=20250)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    t0 = time.perf_counter()
    clicks = args.clicks if args.clicks is not None else 5 * args.sessions
    table = make_table(args.sessions, clicks, args.items, args.zipf, args.seed)
    write_csv(table, args.out)
    size = args.out.stat().st_size / 1e6
    print(
        f"wrote {args.out}: {args.sessions:,} sessions, {table.num_rows:,} clicks, "
        f"{size:.0f} MB in {time.perf_counter() - t0:.1f} s"
    )


if __name__ == "__main__":
    main()
