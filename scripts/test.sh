#!/usr/bin/env bash
# Set up alkd (scripts/setup.sh) and run every check: lint, architecture contracts, tests.
# pytest's own exit code is returned, so "no tests collected" (5) fails too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_WAIT_POLICY=PASSIVE
.venv/bin/ruff check .
.venv/bin/lint-imports
.venv/bin/pytest "$@"
