"""The embedded default of `alkd run`, end to end, with the real tiny model behind the local
compatibility server (a bounded budget keeps it short)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp", reason="the local-teacher extra is not installed")
pytestmark = pytest.mark.slow


def test_default_run_with_the_local_compatibility_server(tmp_path: Path) -> None:
    from alkd_tui.teacher.server.model import find_model_path

    find_model_path()  # the model package must be there too
    alkd = str(Path(sys.executable).parent / "alkd")
    env = {
        **os.environ,
        "OMP_WAIT_POLICY": "PASSIVE",
        "OLLAMA_HOST": "127.0.0.1:9",
    }  # no Ollama answers there
    args = ["--set", "select.budget=3", "--set", "teacher_recommender.epochs=2", "--set", "student.epochs=2",
            "--set", "distill.epochs=2"]  # fmt: skip
    done = subprocess.run([alkd, "--db", str(tmp_path / "alkd.db"), "run", *args, "--json"], capture_output=True,
                          text=True, env=env, timeout=900, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "done"
    assert "local compatibility server (not Ollama)" in summary["teacher"]["description"]
    assert summary["teacher"]["model"] == "smollm2:135m" and summary["teacher"][
        "server_version"
    ].endswith("alkd-local")
    assert summary["labels"]["answered"] == 3 and summary["labels"]["tokens"]["output"] > 0
    assert set(summary["results"]) == {"teacher_recommender", "student", "distilled"}
    assert "started the local compatibility server (not Ollama)" in done.stderr
