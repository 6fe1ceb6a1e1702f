"""The embedded default of `alkd run`, end to end, with the real tiny model behind the local
compatibility server (a bounded budget keeps it short)."""

from __future__ import annotations

import json
import os
import sqlite3
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


def test_a_run_with_hints_asks_the_local_compatibility_server_for_them(tmp_path: Path) -> None:
    """`label.hints = true` with the auto-chosen local compatibility server: the server starts
    once, writes the hints, then answers the ranking prompts, which include them."""
    alkd = str(Path(sys.executable).parent / "alkd")
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OLLAMA_HOST": "127.0.0.1:9"}
    db = tmp_path / "alkd.db"
    args = ["--set", "select.budget=2", "--set", "teacher_recommender.epochs=1", "--set", "student.epochs=1",
            "--set", "distill.epochs=1", "--set", "label.hints=true", "--set", "hints.sessions=3",
            "--set", "hints.top_k=3", "--set", "hints.max_hints=2", "--set", "hints.num_predict=128"]  # fmt: skip
    done = subprocess.run([alkd, "--db", str(db), "run", *args, "--json"], capture_output=True,
                          text=True, env=env, timeout=900, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "done" and summary["steps"]["hints"]["status"] == "done"
    assert done.stderr.count("started the local compatibility server (not Ollama)") == 1
    con = sqlite3.connect(db)
    hints = [t for (t,) in con.execute("SELECT text FROM hint ORDER BY id")]
    assert hints and con.execute(
        "SELECT COUNT(*) FROM teacher_request WHERE template_version = 'hints-v1'"
    ).fetchone() == (1,)
    prompts = [p for (p,) in con.execute(
        "SELECT prompt FROM teacher_request WHERE template_version != 'hints-v1'")]  # fmt: skip
    assert len(prompts) == 2 and all(all(h in p for h in hints) for p in prompts)
