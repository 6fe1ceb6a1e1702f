#!/usr/bin/env bash
# Set up alkd and run the main job on the embedded default: `alkd run` on the bundled example
# dataset, with Ollama as the teacher if it answers, else the local compatibility server.
# It works in demo.db (a fresh database the first time; a re-run reuses what was done).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_WAIT_POLICY=PASSIVE
.venv/bin/alkd --db "${ALKD_DEMO_DB:-demo.db}" run "$@"
