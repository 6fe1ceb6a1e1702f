"""The `alkd` command line as a machine interface: JSON on stdout, exit codes, --db/ALKD_DB."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from alkd_tui import __version__

CLICKS = "session_id,item_id,timestamp\n" + "".join(
    f"{s},{i},{s * 100 + j}\n" for s in range(10) for j, i in enumerate("abcd")
)


@pytest.fixture
def clicks(tmp_path: Path) -> Path:
    path = tmp_path / "clicks.csv"
    path.write_text(CLICKS)
    return path


def test_import_json_then_list_and_show(alkd, clicks: Path) -> None:  # type: ignore[no-untyped-def]
    result = alkd(
        "data",
        "import",
        "csv",
        clicks,
        "--name",
        "toy",
        "--min-item-support",
        "1",
        "--description",
        "a toy",
        "--json",
    )
    assert result.code == 0, result.err
    imported = json.loads(result.out)
    assert imported["sessions"] == {"train": 7, "valid": 1, "test": 2, "total": 10}
    assert imported["items"] == 4 and imported["clicks"] == 40
    assert imported["description"] == "a toy"
    assert imported["session_length"]["histogram"]["4"] == 10
    assert imported["options"]["preprocessing"]["test_fraction"] == 0.2

    listed = json.loads(alkd("data", "list", "--json").out)
    assert [d["name"] for d in listed["datasets"]] == ["toy"]
    assert set(listed["datasets"][0]) >= {"id", "name", "format", "sessions", "items", "clicks"}

    shown = alkd("data", "show", "toy", "--json")
    assert json.loads(shown.out) == imported
    by_id = alkd("data", "show", str(imported["id"]), "--json")
    assert json.loads(by_id.out)["name"] == "toy"


def test_human_output_goes_to_stdout_and_messages_to_stderr(alkd, clicks: Path) -> None:  # type: ignore[no-untyped-def]
    result = alkd("data", "import", "csv", clicks, "--name", "toy", "--min-item-support", "1")
    assert result.code == 0
    assert "imported toy" in result.err
    assert "sessions" in result.out and "train 7" in result.out


def test_jsonl_streams_progress_then_the_result(alkd, clicks: Path) -> None:  # type: ignore[no-untyped-def]
    result = alkd(
        "data", "import", "csv", clicks, "--name", "toy", "--min-item-support", "1", "--jsonl"
    )
    events = [json.loads(line) for line in result.out.splitlines()]
    assert {e["event"] for e in events} >= {"start", "advance", "end", "result"}
    assert events[-1]["event"] == "result" and events[-1]["data"]["name"] == "toy"
    stored = [e for e in events if e.get("task") == "store sessions" and e["event"] == "end"]
    assert stored and stored[0]["completed"] == 10


def test_unknown_dataset_is_exit_2(alkd) -> None:  # type: ignore[no-untyped-def]
    result = alkd("data", "show", "ghost")
    assert result.code == 2
    assert "no dataset 'ghost'" in result.err and result.out == ""


def test_empty_list(alkd) -> None:  # type: ignore[no-untyped-def]
    assert json.loads(alkd("data", "list", "--json").out) == {"datasets": []}


def test_delete(alkd, clicks: Path) -> None:  # type: ignore[no-untyped-def]
    alkd("data", "import", "csv", clicks, "--name", "toy", "--min-item-support", "1")
    result = alkd("data", "delete", "toy", "--yes", "--json")
    assert result.code == 0 and json.loads(result.out)["deleted"] == "toy"
    assert json.loads(alkd("data", "list", "--json").out) == {"datasets": []}


def test_db_from_environment(
    alkd, clicks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    env_db = tmp_path / "from-env.db"
    monkeypatch.setenv("ALKD_DB", str(env_db))
    assert (
        alkd(
            "data", "import", "csv", clicks, "--name", "toy", "--min-item-support", "1", db=None
        ).code
        == 0
    )
    info = json.loads(alkd("db", "info", "--json", db=None).out)
    assert info["path"] == str(env_db)
    assert info["rows"]["dataset"] == 1 and info["rows"]["session"] == 10
    assert info["revision"] == info["head"]


def test_a_database_that_cannot_be_used_is_exit_3(alkd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite")
    result = alkd("data", "list", db=bad)
    assert result.code == 3
    assert result.err.strip() == (
        f"alkd: error: database {bad} is not a SQLite database (or its first page is damaged)"
    )


def test_usage_errors_are_exit_2(alkd) -> None:  # type: ignore[no-untyped-def]
    assert alkd("data", "import", "csv").code == 2
    assert alkd("data", "frobnicate").code == 2


def test_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "alkd_tui.cli.main", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"alkd {__version__}"


def test_console_script_exit_code(tmp_path: Path) -> None:
    alkd = Path(sys.executable).parent / "alkd"
    proc = subprocess.run(
        [str(alkd), "--db", str(tmp_path / "x.db"), "data", "show", "nothing"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == "alkd: error: no dataset 'nothing' in "
        + str(tmp_path / "x.db")
        + " (see `alkd data list`)"
    )
