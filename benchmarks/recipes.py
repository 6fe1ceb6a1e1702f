"""The recipe table: which training settings each architecture and role gets by default, and
the figures that chose them (docs/recommenders.md, "Recipes").

Every run is a user's command, `alkd train --dataset ml --model ARCH --role ROLE --seed S`,
run as a child process: with no other flags (the `default` candidate: what a user gets), or
with a candidate's flags (the settings a user would pass). For each architecture, role and
candidate it prints the mean validation and test Recall@10 (the session's own items excluded
on test, the paper's protocol) over the seeds, with their standard deviations.

    .venv/bin/python benchmarks/recipes.py                      # the defaults, 5 seeds
    .venv/bin/python benchmarks/recipes.py --candidates all     # every candidate
    .venv/bin/python benchmarks/recipes.py --archs gru4rec --seeds 1-10 --candidates ce-1e-3,ce-3e-3-p10

Needs ../shared/data/alkdrec-ml. Finished runs are kept in .bench/recipes.jsonl (rerun with
--fresh to start over); models in .bench/recipes.db.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from _rec_common import BENCH_DIR, DEFAULT_DATA, alkd_command, run_json

#: Candidate recipes, as the flags a user passes to `alkd train`. `default` passes none.
CANDIDATES: dict[str, str] = {
    "default": "",
    "bpr-ib": "--loss bpr --negatives in-batch --batch-size 1024 --patience 5 --metric recall@20 --epochs 100",
    "ce-1e-3": "--loss ce --lr 1e-3 --batch-size 512 --patience 3 --metric recall@10 --epochs 30",
    "ce-fast": "--loss ce --batch-size 1024 --patience 5 --metric recall@20 --epochs 100",
    "ce-p10": "--loss ce --lr 1e-3 --batch-size 512 --patience 10 --metric recall@20 --epochs 100",
    "ce-3e-3-p10": "--loss ce --lr 3e-3 --batch-size 1024 --patience 10 --metric recall@20 --epochs 100",
    "ce-3e-4-p10": "--loss ce --lr 3e-4 --batch-size 512 --patience 10 --metric recall@20 --epochs 100",
}
#: bpr-ib and ce-fast take the role's learning rate (the reproduction's: teacher 1e-2, student 3e-3).
ROLE_LR = {"teacher": ["--lr", "1e-2"], "student": ["--lr", "3e-3"]}
ARCHS = ("fpmc", "stamp", "gru4rec", "sasrec")
ROLES = ("teacher", "student")


def seeds_of(text: str) -> list[int]:
    """`1-5` or `1,3,7`."""
    if "-" in text:
        first, last = (int(x) for x in text.split("-", 1))
        return list(range(first, last + 1))
    return [int(x) for x in text.split(",")]


def flags(candidate: str, role: str) -> list[str]:
    """The `alkd train` flags of a candidate for a role."""
    given = CANDIDATES[candidate].split()
    if given and "--lr" not in given:
        given += ROLE_LR[role]
    return given


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA / "alkdrec-ml")
    parser.add_argument("--archs", default=",".join(ARCHS))
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--seeds", default="1-5")
    parser.add_argument("--candidates", default="default", help="names, or all")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--alkd", help="the alkd command [the one beside this Python]")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"{args.data} is missing: the recipe table needs ../shared/data/alkdrec-ml")
    names = list(CANDIDATES) if args.candidates == "all" else args.candidates.split(",")
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        sys.exit(f"unknown candidates {unknown}: use {', '.join(CANDIDATES)}")
    BENCH_DIR.mkdir(exist_ok=True)
    db, out = BENCH_DIR / "recipes.db", BENCH_DIR / "recipes.jsonl"
    if args.fresh:
        for path in (db, out):
            path.unlink(missing_ok=True)
    alkd = [*alkd_command(args.alkd), "--db", str(db)]
    if not db.exists():
        run_json([*alkd, "data", "import", "alkdrec", str(args.data), "--name", "ml", "--json"])
    done = {}
    if out.exists():
        for line in out.read_text().splitlines():
            row = json.loads(line)
            done[(row["arch"], row["role"], row["candidate"], row["seed"])] = row
    for seed in seeds_of(args.seeds):
        for arch in args.archs.split(","):
            for name in names:
                for role in args.roles.split(","):
                    key = (arch, role, name, seed)
                    if key in done:
                        continue
                    command = [*alkd, "train", "--dataset", "ml", "--model", arch, "--role", role,
                               "--seed", str(seed), *flags(name, role), "--json"]  # fmt: skip
                    result, wall = run_json(command)
                    metrics = result["metrics"]
                    row = {
                        "arch": arch, "role": role, "candidate": name, "seed": seed,
                        "test": metrics["test_excluding_own"]["recall@10"],
                        "valid": metrics["valid"]["recall@10"], "config": result["config"],
                        "epochs": metrics["training"]["epochs"], "wall_s": round(wall, 1),
                        "command": " ".join(command[len(alkd) - 2 :]).replace(f"--db {db} ", ""),
                    }  # fmt: skip
                    done[key] = row
                    with out.open("a") as fh:
                        fh.write(json.dumps(row) + "\n")
                    print(
                        f"{arch} {role} {name} seed {seed}: valid {row['valid']:.4f} test {row['test']:.4f}",
                        flush=True,
                    )
    print(table(done.values(), names))


def table(rows: object, names: list[str]) -> str:
    """Mean (std) validation and test Recall@10 per architecture, role and candidate."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:  # type: ignore[attr-defined]
        if row["candidate"] in names:
            groups.setdefault((row["arch"], row["role"], row["candidate"]), []).append(row)

    def cell(values: list[float]) -> str:
        spread = f" ± {statistics.stdev(values):.4f}" if len(values) > 1 else ""
        return f"{statistics.mean(values):.4f}{spread}"

    lines = [
        "| architecture | role | candidate | seeds | valid R@10 | test R@10 |",
        "|---|---|---|---|---|---|",
    ]
    for (arch, role, name), group in sorted(groups.items()):
        lines.append(
            f"| {arch} | {role} | {name} | {len(group)} | {cell([r['valid'] for r in group])} "
            f"| {cell([r['test'] for r in group])} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
