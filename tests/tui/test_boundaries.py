"""The TUI holds no business logic: it reaches the store, the models and the teacher only
through the pipeline functions the CLI shares, and the modules below it never load Textual.

Checked over the source of every module under `alkd_tui/tui` (every import statement, also
those inside functions and `if TYPE_CHECKING:` blocks):

- no database or numerical library (`sqlmodel`, `sqlalchemy`, `sqlite3`, `torch`, `numpy`,
  `pandas`, `scipy`), and nothing of alkd's lower layers (`alkd_tui.store`, `.rec`,
  `.teacher`, `.active`, `.distill`, `.data`, `.config`);
- of alkd, only `alkd_tui.pipeline.*`, `alkd_tui.errors`, `alkd_tui.progress`,
  `alkd_tui.paths`, `alkd_tui.terminal_text` and the TUI's own modules;
- every name taken from the pipeline exists there and is public, and a function is the
  pipeline's own (defined in `alkd_tui.pipeline`, or offered in a pipeline module's
  `__all__`), not a lower layer's reached through a pipeline module's imports.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import alkd_tui.tui

ROOT = Path(alkd_tui.tui.__file__).parent
ALLOWED = (
    "alkd_tui.pipeline",
    "alkd_tui.errors",
    "alkd_tui.progress",
    "alkd_tui.paths",
    "alkd_tui.terminal_text",
    "alkd_tui.tui",
)
FORBIDDEN_LIBRARIES = ("sqlmodel", "sqlalchemy", "sqlite3", "torch", "numpy", "pandas", "scipy")
FORBIDDEN_LAYERS = tuple(
    f"alkd_tui.{layer}" for layer in ("store", "rec", "teacher", "active", "distill", "data", "config")
)  # fmt: skip


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names imported from it, line) of every import in a file."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}:{node.lineno}: relative import"
            found.append((node.module or "", [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
    return found


def _files() -> list[Path]:
    files = sorted(ROOT.rglob("*.py"))
    assert len(files) > 15
    return files


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_no_database_or_model_library_and_no_lower_layer() -> None:
    for path in _files():
        for module, _, line in _imports(path):
            where = f"{path.relative_to(ROOT)}:{line} imports {module}"
            assert not _within(module, FORBIDDEN_LIBRARIES), where
            assert not _within(module, FORBIDDEN_LAYERS), where
            if module.startswith("alkd_tui"):
                assert _within(module, ALLOWED), where


def test_the_tui_takes_only_public_pipeline_functions() -> None:
    taken = 0
    for path in _files():
        for module, names, line in _imports(path):
            if not _within(module, ("alkd_tui.pipeline",)):
                continue
            source = importlib.import_module(module)
            offered = set(getattr(source, "__all__", ()))
            for name in names:
                where = f"{path.relative_to(ROOT)}:{line}: {module}.{name}"
                assert not name.startswith("_"), f"{where} is private"
                assert hasattr(source, name), f"{where} does not exist"
                value = getattr(source, name)
                if inspect.isfunction(value):
                    assert value.__module__.startswith("alkd_tui.pipeline") or name in offered, (
                        f"{where} is {value.__module__}'s function, not the pipeline's"
                    )
                taken += 1
    assert taken > 20  # the check saw the TUI's calls


def test_the_checks_catch_what_they_forbid(tmp_path: Path) -> None:
    """The scan sees imports inside functions and type-checking blocks."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from alkd_tui.store import Store\n"
        "def f():\n    import numpy as np\n    from alkd_tui.pipeline.views import _json\n"
    )
    found = {module for module, _, _ in _imports(sample)}
    assert {"alkd_tui.store", "numpy", "alkd_tui.pipeline.views"} <= found
    assert _within("alkd_tui.store.models", FORBIDDEN_LAYERS)
    assert not _within("alkd_tui.storefront", FORBIDDEN_LAYERS)


def test_jobs_and_the_new_pipeline_views_do_not_load_textual() -> None:
    code = (
        "import sys; import alkd_tui.tui.background_jobs, alkd_tui.pipeline.views, alkd_tui.pipeline.teacher_server; "
        "print('textual' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False"]


def test_one_normalize_host() -> None:
    """The teacher server's host is normalised by the Ollama backend's function (one copy)."""
    from alkd_tui.pipeline import teacher_server
    from alkd_tui.teacher.backends import ollama_backend

    assert teacher_server.normalize_host is ollama_backend.normalize_host
    assert teacher_server.normalize_host("localhost") == "http://localhost:11434"
