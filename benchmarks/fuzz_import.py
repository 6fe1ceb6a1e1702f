"""Fuzz every importer: damaged files of each format through `alkd data import`, counted by
what happened. The suite runs 25 per format (tests/data/test_fuzz_import.py); this runs many.

    .venv/bin/python benchmarks/fuzz_import.py                  # 1,000 files per format
    .venv/bin/python benchmarks/fuzz_import.py --files 50 --formats csv,recbole

Each file is a valid sample of the format with 1-3 random mutations (bad bytes, NaN, empty,
negative, infinite and huge times, NUL bytes, CR-only line ends, unbalanced quotes, huge
fields, lines cut or doubled, columns added or dropped, a BOM, UTF-16, ...) or, for folder
formats, one file made unreadable, a folder, or empty (tests/data/fuzzing.py). Outcomes:

- refused: exit 2 with one line that names the file, the database unchanged;
- accepted: exit 0 with plausible data (finite times from 1970 to 3000, times kept);
- internal: any other exit, or a refusal that is not one line naming the file;
- traceback: a traceback printed;
- garbage: accepted, but the stored data is not plausible.

The last three must be 0. Seeds are the file numbers: a run is reproducible. Results:
a table on stdout and `.bench/fuzz_import.json` (every finding with its seed).
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.data.fuzzing import FORMATS, fuzz_one  # noqa: E402

OUTCOMES = ("refused", "accepted", "internal", "traceback", "garbage")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="damaged files per format")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--out", type=Path, default=ROOT / ".bench" / "fuzz_import.json")
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    work = Path(tempfile.mkdtemp(prefix="alkd-fuzz-"))
    results: dict[str, dict[str, object]] = {}
    print(f"| format | files | {' | '.join(OUTCOMES)} | seconds |")
    print("|---|---:|" + "---:|" * (len(OUTCOMES) + 1))
    try:
        for fmt in formats:
            counts: collections.Counter[str] = collections.Counter()
            findings = []
            started = time.perf_counter()
            db = work / f"{fmt}.db"
            for seed in range(args.files):
                damaged, verdict = fuzz_one(fmt, seed, work, db)
                counts[verdict.outcome] += 1
                if verdict.outcome not in ("refused", "accepted"):
                    findings.append({"seed": seed, "damage": damaged.what, "outcome": verdict.outcome,
                                     "message": verdict.message[:500]})  # fmt: skip
                shutil.rmtree(work / f"{fmt}-{seed}", ignore_errors=True)
            seconds = time.perf_counter() - started
            results[fmt] = {"files": args.files, **{o: counts[o] for o in OUTCOMES},
                            "seconds": round(seconds, 1), "findings": findings}  # fmt: skip
            cells = " | ".join(str(counts[o]) for o in OUTCOMES)
            print(f"| {fmt} | {args.files} | {cells} | {seconds:.0f} |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    bad = sum(int(r[o]) for r in results.values() for o in ("internal", "traceback", "garbage"))  # type: ignore[call-overload]
    print(f"\n{bad} findings (internal errors, tracebacks, garbage accepted); details: {args.out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
