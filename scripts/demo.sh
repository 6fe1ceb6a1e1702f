#!/usr/bin/env bash
# Set up alkd and run the main job on the embedded default: the example database.
# The committed alkd.db.example is never changed: the demo works on a copy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_WAIT_POLICY=PASSIVE
DB="${ALKD_DEMO_DB:-demo.db}"
if [ ! -f "$DB" ]; then
    cp alkd.db.example "$DB"
fi
.venv/bin/alkd --db "$DB" data list
.venv/bin/alkd --db "$DB" data show synthetic-games
