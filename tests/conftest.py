"""Fixtures shared by the tests: a fresh store, the CLI as a function, the shared real data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from alkd_tui.cli.main import main as alkd_main
from alkd_tui.store import Store, open_store

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test touches the user's real database or cache."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("ALKD_DB", str(home / "default.db"))
    monkeypatch.setenv("ALKD_CACHE", str(home / "cache"))
    monkeypatch.delenv("ALKD_DEBUG", raising=False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "alkd.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with open_store(db_path) as opened:
        yield opened


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def alkd(capsys: pytest.CaptureFixture[str], db_path: Path):  # type: ignore[no-untyped-def]
    """Run `alkd --db <db_path> ARGS...` in-process; returns the exit code and output."""

    def run(*args: str | os.PathLike[str], db: Path | None = db_path) -> CliResult:
        argv = (["--db", str(db)] if db is not None else []) + [str(a) for a in args]
        code = alkd_main(argv)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def shared_data() -> Path:
    """The real datasets in ../shared/data; tests that need them skip where absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent")
    return SHARED_DATA
