"""Make the screenshots of docs/tui.md: one SVG per area of `alkd-tui`, over a copy of the
example database taken through the whole loop.

    .venv/bin/python scripts/tui_screenshots.py              # writes docs/screenshots/tui-*.svg
    .venv/bin/python scripts/tui_screenshots.py --out /tmp/shots
    .venv/bin/python scripts/tui_screenshots.py --out /tmp/shots --size 100x30   # a small terminal

On a copy of alkd.db.example (the example is never opened in place: opening migrates): the
Train dialog as a new user first sees it (no model yet), then `alkd run` with the teacher recommender as the teacher and manual review (it stops awaiting
review), a few decisions, a labelling job started as the TUI starts it, then the rest
accepted by rule and the run resumed (distil, evaluate). About a minute on two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZE = (150, 44)


def alkd(db: Path, *args: str) -> None:
    """Run `alkd --db DB ARGS` (progress hidden), failing loudly."""
    command = [sys.executable, "-m", "alkd_tui.cli.main", "--db", str(db), *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode not in (0,):
        raise SystemExit(f"{' '.join(args)}: exit {done.returncode}: {done.stderr.strip()}")


def prepare(db: Path) -> None:
    """The example database through select, label and part of the review."""
    from alkd_tui.pipeline.review import record_review
    from alkd_tui.pipeline.selection import list_selections
    from alkd_tui.pipeline.views import review_queue
    from alkd_tui.store import open_store
    from alkd_tui.tui.background_jobs import start_job, wait

    if not db.exists():
        shutil.copy(ROOT / "alkd.db.example", db)
    alkd(
        db,
        "select",
        "--dataset",
        "synthetic-games",
        "--strategy",
        "random",
        "--budget",
        "30",
        "--name",
        "random-30",
        "--json",
    )
    print("alkd run (teacher recommender as the teacher, manual review)…", file=sys.stderr)
    alkd(db, "run", "--set", "label.teacher=tr", "--set", "review.policy=manual", "--json")
    with open_store(db) as store:
        selection = list_selections(store)[-1].name
        entries = review_queue(store, selection)["entries"]
        for entry, action in zip(
            entries, ("accept", "accept", "reject", "accept", "flag"), strict=False
        ):
            record_review(store, entry.request_id, action, reviewer="docs")
    models = ["--candidates-from", "synthetic-games-fpmc-teacher-d100-s0"]
    job = start_job(db, "label", ["label", "random-30", "--teacher", "tr", *models], title="label random-30 with tr",
                    params={"selection": "random-30", "backend": "tr", "candidates": models[1]})  # fmt: skip
    wait(job, 300)


def finish(db: Path) -> None:
    """Accept the rest by rule and let the run distil and evaluate."""
    from alkd_tui.pipeline.history import list_runs, show_run
    from alkd_tui.pipeline.review import accept_by_rule
    from alkd_tui.pipeline.selection import get_selection
    from alkd_tui.store import open_store

    with open_store(db) as store:
        run = list_runs(store, "pipeline")[0]["run"]
        selection = get_selection(store, show_run(store, str(run))["selection"])
        accept_by_rule(store, int(selection.id), "parsed")  # type: ignore[arg-type]
    print("alkd run --resume (distil, evaluate)…", file=sys.stderr)
    alkd(db, "run", "--resume", str(run), "--json")


async def shoot(
    db: Path, out: Path, shots: list[tuple[str, str]], extra: Any = None, size: tuple[int, int] = SIZE
) -> None:
    """Open the app on `db` and save one SVG per (name, key)."""
    from alkd_tui.store import open_store
    from alkd_tui.tui.app import AlkdApp

    long_lived = {"teacher-poll", "review-decisions", "job-follow", "label-answers"}
    with open_store(db) as store:
        app = AlkdApp(store, db_label="example.db", host="127.0.0.1:9", poll_seconds=3600)
        async with app.run_test(size=size) as pilot:

            async def settle() -> None:
                for _ in range(600):
                    await pilot.pause(0.05)
                    if all(w.is_finished or w.group in long_lived for w in app.workers):
                        break
                await pilot.pause(0.5)

            await settle()
            for name, key in shots:
                if key:
                    await pilot.press(*key.split())
                await settle()
                if extra is not None:
                    await extra(name, app, pilot)
                path = out / f"tui-{name}.svg"
                path.write_text(app.export_screenshot(title=f"alkd-tui: {name}"))
                print(
                    f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}",
                    file=sys.stderr,
                )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--size", default=f"{SIZE[0]}x{SIZE[1]}", help="COLUMNSxROWS")
    args = parser.parse_args()
    columns, _, rows = args.size.partition("x")
    size = (int(columns), int(rows))
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "example.db"
        shutil.copy(ROOT / "alkd.db.example", db)
        asyncio.run(shoot(db, args.out, [("train", "5 t")], size=size))  # the example has no model yet
        prepare(db)

        async def before(name: str, app: Any, pilot: Any) -> None:
            if name == "select":  # a preview worth looking at: budget 100
                app.screen.query_one("#sel-budget").value = "100"
                await pilot.pause(1.0)
            if name == "runs":  # the pipeline run: its steps, the three models side by side
                table = app.screen.query_one("#runs")
                table.go_to(next(n for n, r in enumerate(table.source) if r["kind"] == "pipeline"))
                await pilot.pause(1.0)

        asyncio.run(
            shoot(
                db,
                args.out,
                [("datasets", ""), ("select", "2"), ("label", "3"), ("review", "4 n n n n n")],
                before,
                size,
            )
        )
        asyncio.run(shoot(db, args.out, [("review-edit", "4 n n n n n e")], size=size))
        finish(db)
        asyncio.run(
            shoot(db, args.out, [("runs", "5"), ("audit", "6"), ("help", "4 f1")], before, size)
        )


if __name__ == "__main__":
    main()
