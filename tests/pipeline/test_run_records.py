"""Run records name the library versions that can change a result, even when the record is
made before those libraries are loaded (checked in a fresh process: pytest's own imports would
hide the difference)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ALKD = str(Path(sys.executable).parent / "alkd")


def test_a_cli_run_record_holds_the_torch_version(tmp_path: Path) -> None:
    db = tmp_path / "alkd.db"
    # A run that stops at its first step, long before anything loads torch: the dataset's
    # file is there (the configuration passes its checks) but holds no clicks.
    empty = tmp_path / "empty.csv"
    empty.write_text("session_id,item_id,timestamp\n")
    done = subprocess.run(
        [ALKD, "--db", str(db), "run", "--set", "dataset.name=bad", "--set", "dataset.format=csv",
         "--set", f"dataset.path={empty}"],
        capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    (status, env), *_ = sqlite3.connect(db).execute("SELECT status, env FROM run").fetchall()
    env = json.loads(env)
    assert status == "failed"
    assert env["torch"] == importlib.metadata.version("torch")
    assert env["numpy"] == importlib.metadata.version("numpy")
    assert env["ollama"] == importlib.metadata.version("ollama")


def test_the_environment_is_read_without_importing_torch() -> None:
    code = (
        "import json, sys\n"
        "from alkd_tui.pipeline.run_records import environment\n"
        "env = environment()\n"
        "print(json.dumps({'torch': env.get('torch'), 'loaded': 'torch' in sys.modules}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(done.stdout)
    assert found == {"torch": importlib.metadata.version("torch"), "loaded": False}
