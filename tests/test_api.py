"""docs/api.md's example runs as it is, in a fresh process, on a copy of the example database."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_documented_example_runs(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    (tmp_path / "example.py").write_text(code)
    shutil.copy(ROOT / "alkd.db.example", tmp_path / "alkd.db.example")
    done = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "40 labels, 40 accepted"
    assert re.fullmatch(r"student 0\.\d{4} -> distilled 0\.\d{4}", lines[1])
    assert "'answers': 40" in lines[2] and "'effective'" in lines[2]


def test_the_api_names_what_it_exports() -> None:
    from alkd_tui import api

    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert not missing
    assert callable(api.distill_student) and api.TrainSettings().architecture
