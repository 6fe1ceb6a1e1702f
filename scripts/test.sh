#!/usr/bin/env bash
# Set up alkd (scripts/setup.sh) and run every check: lint, architecture contracts, tests, and
# (a run with no arguments) the tests of the store, review, labelling and runs again against a
# real PostgreSQL server (scripts/postgres.sh; ALKD_POSTGRES=0 leaves that pass out).
# pytest's own exit code is returned, so "no tests collected" (5) fails too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_WAIT_POLICY=PASSIVE
.venv/bin/ruff check .
.venv/bin/lint-imports
.venv/bin/pytest "$@"
if [ "$#" -gt 0 ] || [ "${ALKD_POSTGRES:-1}" = "0" ]; then
    exit 0
fi

# The PostgreSQL pass: every test's database is a fresh database on a throwaway server (the
# TUI's Review and Label areas, and the jobs the Label area starts, included).
# Tests of the SQLite file itself (its locks, journal, damage) are marked sqlite_only.
POSTGRES_TESTS=(
    tests/store
    tests/pipeline/test_review.py
    tests/pipeline/test_agreement.py
    tests/pipeline/test_cross_fit.py
    tests/pipeline/test_run_records.py
    tests/pipeline/test_whole_run.py
    tests/cli/test_reviewers_cli.py
    tests/cli/test_label_distill_cli.py
    tests/cli/test_run_cli.py
    tests/teacher/test_job_processes.py
    tests/teacher/test_asking.py
    tests/tui/test_review.py
    tests/tui/test_label.py
)
pgdir=$(mktemp -d)
stop_postgres() {
    bash scripts/postgres.sh stop "$pgdir" || true
    rm -rf "$pgdir"
}
trap stop_postgres EXIT
if ! url=$(bash scripts/postgres.sh start "$pgdir"); then
    if [ "${CI:-}" = "true" ]; then
        echo "the PostgreSQL pass needs a server, and none could be started" >&2
        exit 1
    fi
    echo "no PostgreSQL server could be started: the PostgreSQL pass is left out" >&2
    exit 0
fi
echo "PostgreSQL pass against $url" >&2
ALKD_TEST_POSTGRES="$url" .venv/bin/pytest "${POSTGRES_TESTS[@]}"
