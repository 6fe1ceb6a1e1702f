"""How responsive `alkd-tui` stays on a large database.

Builds (synthetically, with plain SQL, in about a minute) a store with `--sessions`
sessions (1,000,000 by default, 60% training), `--items` titled items, a selection of
`--answers` members and one answered teacher request per member (100,000 by default; a mix
of parse statuses, scores on a third), a tenth of them reviewed, and a few runs. Then drives
the app headless with `App.run_test()` and measures:

- the time to open each area until its data is on screen (every worker done),
- moving in the review queue: next label (the card loaded), a page, the last label (the
  table's window refilled), a decision stored, a new sort, a filter,
- the event loop's worst stall while that happens (a timer that should fire every 10 ms;
  a large stall would be a frozen UI).

    .venv/bin/python benchmarks/bench_tui.py                      # 1M sessions, 100k answers
    .venv/bin/python benchmarks/bench_tui.py --sessions 100000 --answers 10000 --db /tmp/b.db
    .venv/bin/python benchmarks/bench_tui.py --db /tmp/b.db --reuse   # skip the build

Figures go to stdout as a table, and with `--json FILE` as JSON. Not run as a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

from alkd_tui.store import open_store
from alkd_tui.tui.app import AlkdApp

LONG_LIVED = {"teacher-poll", "review-decisions", "job-follow", "label-answers", "warm-up"}
PARSE = ["ok"] * 80 + ["repaired"] * 8 + ["short"] * 7 + ["empty"] * 3 + ["not_json"] * 2
NOW = "2026-01-01 00:00:00.000000"


def build(path: Path, sessions: int, items: int, answers: int, seed: int = 0) -> dict[str, float]:
    """Write the synthetic store at `path` (schema by alkd, rows by SQL); returns timings."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    with open_store(path):
        pass  # the schema, at head
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA journal_mode=MEMORY")
    n_train, n_valid = int(sessions * 0.6), int(sessions * 0.2)
    lengths = rng.integers(2, 11, sessions)
    histogram = {str(k): int((lengths == k).sum()) for k in range(2, 20)} | {"20+": 0}
    stats = {
        "sessions": {"train": n_train, "valid": n_valid, "test": sessions - n_train - n_valid, "total": sessions},
        "items": items, "clicks": int(lengths.sum() + sessions), "items_with_titles": items,
        "session_length": {"min": 2, "max": 10, "mean": float(lengths.mean()), "median": float(np.median(lengths)),
                           "p90": float(np.percentile(lengths, 90)), "histogram": histogram},
        "top_items": [{"item": f"i{k}", "title": f"Item {k} (Bench Edition)", "train_clicks": 1000 - k} for k in range(10)],
    }  # fmt: skip
    conn.execute(
        "INSERT INTO dataset (id, name, format, source, description, options, stats, n_items, n_sessions, n_clicks, "
        "alkd_version, created_at) VALUES (1, 'big', 'synthetic', 'bench_tui.py', 'synthetic benchmark data', '{}', ?, ?, ?, ?, "
        "'bench', ?)",
        (json.dumps(stats), items, sessions, stats["clicks"], NOW),
    )
    conn.executemany(
        "INSERT INTO item (id, dataset_id, idx, external_id, title) VALUES (?, 1, ?, ?, ?)",
        ((k + 1, k, f"i{k}", f"Item {k} (Bench Edition)") for k in range(items)),
    )
    split = np.array(
        ["train"] * n_train + ["valid"] * n_valid + ["test"] * (sessions - n_train - n_valid)
    )
    chunk = 100_000
    for start in range(0, sessions, chunk):
        stop = min(start + chunk, sessions)
        rows = []
        for k in range(start, stop):
            seq = rng.integers(0, items, lengths[k], dtype=np.int32)
            rows.append(
                (
                    k + 1,
                    k,
                    f"s{k}",
                    str(split[k]),
                    seq.astype("<i4").tobytes(),
                    int(lengths[k]),
                    int(rng.integers(0, items)),
                )
            )
        conn.executemany(
            "INSERT INTO session (id, dataset_id, idx, external_id, split, items, length, target) VALUES (?, 1, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    conn.execute(
        "INSERT INTO selection (id, name, dataset_id, strategy, budget, params, pool_size, size, k_star, gamma, created_at) "
        "VALUES (1, 'big-alkd', 1, 'alkd', ?, '{}', ?, ?, ?, 1e-30, ?)",
        (answers, n_train, answers, int(n_train * 0.9375), NOW),
    )
    members = rng.choice(n_train, answers, replace=False) + 1
    conn.executemany(
        'INSERT INTO selection_member (selection_id, session_id, "order", probability, gain, difficulty) VALUES (1, ?, ?, ?, ?, ?)',
        (
            (
                int(s),
                n + 1,
                float(rng.random() / answers),
                float(rng.random()),
                float(-rng.random()),
            )
            for n, s in enumerate(members)
        ),
    )
    conn.execute(
        "INSERT INTO run (id, kind, name, status, config, env, steps, started_at, finished_at) VALUES "
        "(1, 'label', 'big-alkd', 'done', '{}', '{}', '{}', ?, ?)",
        (NOW, NOW),
    )
    requests = []
    for n, session_id in enumerate(members):
        ranking = [int(x) for x in rng.integers(0, items, 10)]
        status = PARSE[n % len(PARSE)]
        ranking = (
            [] if status in ("empty", "not_json") else ranking[: 5 if status == "short" else 10]
        )
        scores = (
            json.dumps(sorted((float(x) for x in rng.random(len(ranking))), reverse=True))
            if n % 3 == 0 and ranking
            else None
        )
        raw = json.dumps({"ranking": [f"i{r}" for r in ranking]})
        requests.append((
            n + 1, int(session_id), f"{n:064x}", f"[user]\nbench prompt {n}", json.dumps(ranking), raw, json.dumps(ranking),
            scores, status, float(rng.random()), NOW, NOW, NOW,
        ))  # fmt: skip
    conn.executemany(
        "INSERT INTO teacher_request (id, session_id, selection_id, run_id, backend, model_name, model_digest, template_version, "
        "prompt_hash, prompt, candidates, options, status, raw_response, ranking, scores, parse_status, parse_notes, latency_s, "
        "prompt_tokens, output_tokens, attempts, created_at, sent_at, answered_at) VALUES (?, ?, 1, 1, 'ollama', 'bench-llm', "
        "'sha256:bench', 'rank-v1', ?, ?, ?, '{}', 'answered', ?, ?, ?, ?, '[]', ?, 500, 60, 1, ?, ?, ?)",
        requests,
    )
    conn.execute(
        "INSERT INTO request_use (request_id, session_id, selection_id, created_at, used_at) "
        "SELECT id, session_id, selection_id, created_at, created_at FROM teacher_request"
    )
    conn.executemany(
        "INSERT INTO review_event (request_id, action, note, reviewer, created_at) VALUES (?, ?, '', 'bench', ?)",
        ((n + 1, "accept" if n % 4 else "reject", NOW) for n in range(0, answers, 10)),
    )
    conn.commit()
    conn.close()
    return {"build_s": time.perf_counter() - started, "db_mb": path.stat().st_size / 1e6}


class Stalls:
    """The event loop's worst stall: a 10 ms timer's largest lateness."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, loop.time() - before - 0.01)

    def start(self) -> None:
        self.worst = 0.0
        self._task = asyncio.get_running_loop().create_task(self._tick())

    def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
        return self.worst


async def settle(app: AlkdApp, pilot: Any, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    await pilot.pause()
    while time.monotonic() < deadline:
        await pilot.pause(0.005)
        if all(w.is_finished or w.group in LONG_LIVED for w in app.workers):
            break
    await pilot.pause()


async def measure(path: Path, moves: int) -> list[tuple[str, float, float]]:
    """(what, seconds, worst event-loop stall) for each step."""
    figures: list[tuple[str, float, float]] = []
    stalls = Stalls()

    async def step(name: str, action: Callable[[], Awaitable[None]]) -> None:
        stalls.start()
        started = time.perf_counter()
        await action()
        await settle(app, pilot)
        figures.append((name, time.perf_counter() - started, stalls.stop()))
        if os.environ.get("BENCH_VERBOSE"):
            print(figures[-1], type(app.screen).__name__, app.last_error, file=sys.stderr)

    store = open_store(path)
    app = AlkdApp(store, db_label=path.name, host="127.0.0.1:9", poll_teacher=False, warm_up=False)
    started = time.perf_counter()
    async with app.run_test(size=(160, 48)) as pilot:
        stalls.start()
        await settle(app, pilot)
        figures.append(("open: datasets (app start)", time.perf_counter() - started, stalls.stop()))

        async def press(*keys: str) -> None:
            await pilot.press(*keys)

        for key, name in (
            ("2", "select"),
            ("3", "label"),
            ("4", "review"),
            ("5", "runs"),
            ("6", "audit"),
        ):
            await step(f"open: {name}", lambda key=key: press(key))
        await step("open: review again (mode kept)", lambda: press("4"))
        screen: Any = app.screen
        table = screen.query_one("#queue")
        per_move = []
        worst = 0.0
        for _ in range(moves):
            stalls.start()
            t0 = time.perf_counter()
            await pilot.press("n")
            await settle(app, pilot)
            per_move.append(time.perf_counter() - t0)
            worst = max(worst, stalls.stop())
        figures.append(
            (f"review: next label x{moves} (median)", statistics.median(per_move), worst)
        )
        await step("review: page down", lambda: press("pagedown"))
        await step("review: last label (window refill)", lambda: press("ctrl+end"))
        await step("review: first label", lambda: press("ctrl+home"))
        before = len(table.source)

        async def accept() -> None:
            index = table.index
            before_entry = screen.view[index]
            await pilot.press("a")
            deadline = time.monotonic() + 60
            while screen.view[index] is before_entry and time.monotonic() < deadline:
                await pilot.pause(0.005)

        await step("review: accept (event stored, row updated)", accept)

        async def choose(selector: str, value: str) -> None:
            screen.query_one(selector).value = value
            await pilot.pause()

        await step("review: sort by difficulty", lambda: choose("#rev-sort", "difficulty"))
        await step("review: filter parse problems", lambda: choose("#rev-filter", "parse"))
        await step("review: filter all, sort by confidence", lambda: choose("#rev-filter", "all"))
        figures.append((f"review: queue length {before:,}", 0.0, 0.0))
    store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--moves", type=int, default=20, help="next-label presses to time")
    parser.add_argument(
        "--db", type=Path, default=None, help="where to build the store (default: a temp dir)"
    )
    parser.add_argument("--reuse", action="store_true", help="use --db as it is (no build)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory()
        args.db = Path(tmp.name) / "bench.db"
    built: dict[str, float] = {}
    if not args.reuse:
        if args.db.exists():
            args.db.unlink()
        built = build(args.db, args.sessions, args.items, args.answers)
        print(f"built {args.db}: {args.sessions:,} sessions, {args.answers:,} answers, "
              f"{built['db_mb']:.0f} MB in {built['build_s']:.1f} s", file=sys.stderr)  # fmt: skip
    random.seed(0)
    figures = asyncio.run(measure(args.db, args.moves))
    width = max(len(name) for name, _, _ in figures)
    print(f"{'step':<{width}}  {'seconds':>8}  {'worst stall ms':>14}")
    for name, seconds, stall in figures:
        print(f"{name:<{width}}  {seconds:>8.3f}  {stall * 1000:>14.0f}")
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"\nmachine: {machine}")
    if args.json:
        args.json.write_text(json.dumps({
            "sessions": args.sessions, "answers": args.answers, "machine": machine, **built,
            "steps": [{"step": n, "seconds": s, "worst_stall_s": w} for n, s, w in figures],
        }, indent=1))  # fmt: skip
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
