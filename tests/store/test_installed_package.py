"""An installed (non-editable) alkd carries its migrations and upgrades a DB on open."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_install_upgrades_a_database(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = wheels.glob("alkd_tui-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "alkd_tui/migrations/env.py" in names
    assert any(n.startswith("alkd_tui/migrations/versions/0001_") for n in names)

    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
    )
    script = (
        "import json, alkd_tui\n"
        "from alkd_tui.store import open_store, current_revision, head_revision\n"
        "from alkd_tui.store.migrate import migrations_dir\n"
        "s = open_store('x.db')\n"
        "print(json.dumps({'file': alkd_tui.__file__, 'migrations': str(migrations_dir()),"
        " 'revision': current_revision(s.engine), 'head': head_revision()}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(proc.stdout)
    assert result["file"].startswith(str(site))
    assert result["migrations"].startswith(str(site))
    assert result["revision"] == result["head"]
    assert (tmp_path / "x.db").is_file()
