"""Checked architecture rules: the headless side never imports Textual, and the layers hold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADLESS = [
    "alkd_tui.store", "alkd_tui.data", "alkd_tui.data.formats", "alkd_tui.pipeline.datasets",
    "alkd_tui.pipeline.fetch", "alkd_tui.pipeline.store_info", "alkd_tui.cli.main",
]  # fmt: skip


def test_headless_modules_do_not_import_textual_or_torch() -> None:
    """Importing the CLI loads neither Textual nor torch (which would also slow every command)."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {HEADLESS!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'torch'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert json.loads(proc.stdout) == []


def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(lint)], capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_starting_the_cli_stays_light() -> None:
    """`alkd data show` answers fast because the CLI loads no numpy, pyarrow, torch or Alembic
    until a command needs them."""
    script = (
        "import json, sys\n"
        "import alkd_tui.cli.main\n"
        "heavy = ('numpy', 'pyarrow', 'torch', 'alembic', 'textual')\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy})))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert json.loads(proc.stdout) == []
