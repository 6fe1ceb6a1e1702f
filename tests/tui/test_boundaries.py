"""The TUI adds no logic of its own: every `alkd_tui` module it imports is one the CLI's
layer offers (the pipeline, errors, progress, paths, the store's tables) or the TUI itself,
and the modules below it never load Textual.

Allowed from `alkd_tui.tui`: `alkd_tui.pipeline.*`, `alkd_tui.errors`, `alkd_tui.progress`,
`alkd_tui.paths`, `alkd_tui.store` (tables, `Store`, `sql_timestamp`) and `alkd_tui.tui.*`.
Model code (`alkd_tui.teacher.candidates`, torch) is reached only through
`alkd_tui.pipeline.views.student_top_k`, so nothing of it is imported here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import alkd_tui.tui

ALLOWED = (
    "alkd_tui.pipeline",
    "alkd_tui.errors",
    "alkd_tui.progress",
    "alkd_tui.paths",
    "alkd_tui.store",
    "alkd_tui.tui",
)
STORE_NAMES = {"Store", "open_store", "sql_timestamp", "utcnow"}


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return found


def test_the_tui_imports_only_what_the_cli_layer_offers() -> None:
    root = Path(alkd_tui.tui.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        for module, names in _imports(path):
            if not module.startswith("alkd_tui"):
                continue
            assert module.startswith(ALLOWED), f"{path.relative_to(root)} imports {module}"
            if module == "alkd_tui.store":
                assert set(names) <= STORE_NAMES, f"{path.name} imports {names} from the store"
            if module.startswith("alkd_tui.store."):
                assert module == "alkd_tui.store.models", f"{path.name} imports {module}"


def test_jobs_and_the_new_pipeline_views_do_not_load_textual() -> None:
    code = (
        "import sys; import alkd_tui.tui.jobs, alkd_tui.pipeline.views, alkd_tui.pipeline.teacher_server; "
        "print('textual' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False"]
