"""`alkd select` and `alkd selections` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def toy(alkd, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """300 sessions walking 20 items, and a teacher recommender `teacher` trained on them."""
    lines = ["session_id,item_id,timestamp"]
    for s in range(300):
        start = (s * 7) % 20
        lines += [f"{s},item{(start + k) % 20},{s * 100 + k}" for k in range(2 + s % 4)]
    path = tmp_path / "walk.csv"
    path.write_text("\n".join(lines) + "\n")
    assert (
        alkd("data", "import", "csv", path, "--name", "walk", "--min-item-support", "1").code == 0
    )
    trained = alkd(
        "train", "--dataset", "walk", "--model", "fpmc", "--role", "teacher", "--dim", "8",
        "--epochs", "1", "--name", "teacher", "--json",
    )  # fmt: skip
    assert trained.code == 0, trained.err
    return "walk"


def test_create_list_show_and_preview_with_json(alkd, toy: str) -> None:  # type: ignore[no-untyped-def]
    result = alkd(
        "select", "--dataset", toy, "--strategy", "alkd", "--budget", "25", "--teacher", "teacher",
        "--ratios", "1:5:4", "--mu", "10", "--seed", "4", "--name", "first", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    created = json.loads(result.out)
    for key in ("selection", "name", "size", "pool_size", "k_star", "gamma"):
        assert key in created
    assert created["name"] == "first" and created["size"] == 25 and created["k_star"] > 0

    listed = json.loads(alkd("selections", "list", "--json").out)["selections"]
    assert [s["name"] for s in listed] == ["first"]
    shown = alkd("selections", "show", "first", "--json")
    assert shown.code == 0
    members = json.loads(shown.out)["members"]
    assert [m["order"] for m in members] == list(range(1, 26))
    by_id = json.loads(
        alkd("selections", "show", str(created["selection"]), "--limit", "3", "--json").out
    )
    assert by_id["members"] == members[:3]

    preview = alkd("select", "--dataset", toy, "--strategy", "alkd", "--preview", "--json")
    assert preview.code == 0, preview.err
    data = json.loads(preview.out)
    assert data["preview"] is True and data["k_star"] == created["k_star"]
    assert data["curve"][0]["rank"] == 1
    assert len(json.loads(alkd("selections", "list", "--json").out)["selections"]) == 1

    human = alkd("select", "--dataset", toy, "--strategy", "random", "--budget", "5")
    assert human.code == 0 and "5 of" in human.err and "order" in human.out
    assert alkd("selections", "list").code == 0
    assert alkd("selections", "show", "first").code == 0
    assert alkd("select", "--dataset", toy, "--strategy", "alkd", "--preview").code == 0


def test_import_from_file(alkd, toy: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = json.loads(
        alkd("select", "--dataset", toy, "--strategy", "random", "--budget", "8", "--json").out
    )
    order = [
        m["session"]
        for m in json.loads(alkd("selections", "show", first["name"], "--json").out)["members"]
    ]
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(order) + "\n")
    result = alkd(
        "select", "--dataset", toy, "--from-file", path, "--name", "copy", "--limit", "5", "--json"
    )
    assert result.code == 0, result.err
    assert json.loads(result.out)["size"] == 5
    copied = json.loads(alkd("selections", "show", "copy", "--json").out)["members"]
    assert [m["session"] for m in copied] == order[:5]


def test_bad_inputs_exit_2_with_one_line(alkd, toy: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base = ["select", "--dataset", toy]
    ids = tmp_path / "ids.txt"
    ids.write_text("nope\n")
    cases = [
        (["--strategy", "smart", "--budget", "5"], "--strategy 'smart'"),
        (["--strategy", "alkd", "--budget", "5", "--teacher", "teacher", "--ratios", "1:x:4"], "--ratios '1:x:4'"),
        (["--strategy", "random", "--budget", "100000"], "more than the pool's"),
        (["--strategy", "alkd", "--budget", "5"], "needs --teacher"),
        (["--strategy", "alkd", "--budget", "5", "--teacher", "nope"], "no model 'nope'"),
        (["--strategy", "alkd"], "--strategy alkd needs --teacher MODEL"),
        (["--from-file", ids], "--from-file needs --name"),
        (["--from-file", ids, "--name", "x", "--mu", "3"], "drop --mu"),
        (["--from-file", ids, "--name", "x"], "ids.txt line 1: session 'nope' is not in dataset walk"),
        (["--strategy", "random", "--budget", "5", "--pool", "replay:" + str(tmp_path / "missing.jsonl")], "no such file"),
    ]  # fmt: skip
    for args, message in cases:
        result = alkd(*base, *args)
        assert result.code == 2, (args, result.err)
        assert message in result.err, (args, result.err)
        assert result.err.count("\n") == 1 and result.out == "", (args, result.err)
    missing = alkd("selections", "show", "nope")
    assert missing.code == 2 and "no selection 'nope'" in missing.err
    unknown = alkd("select", "--dataset", "nope", "--strategy", "random", "--budget", "1")
    assert unknown.code == 2 and "no dataset 'nope'" in unknown.err
