"""The real datasets in ../shared/data import with the figures their README gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alkd_tui.data import load_dataset
from alkd_tui.store import open_store

pytestmark = pytest.mark.shared_data


@pytest.mark.parametrize(
    ("folder", "sessions", "items"),
    [
        ("alkdrec-ml", {"train": 7393, "valid": 2465, "test": 2465, "total": 12323}, 8475),
        ("alkdrec-games", {"train": 12054, "valid": 4018, "test": 4019, "total": 20091}, 26138),
    ],
)
def test_alkdrec_datasets_match_the_paper(
    alkd, shared_data: Path, db_path: Path, folder: str, sessions: dict[str, int], items: int
) -> None:  # type: ignore[no-untyped-def]
    assert alkd("data", "import", "alkdrec", shared_data / folder, "--name", "d").code == 0
    shown = alkd("data", "show", "d", "--json")
    assert shown.code == 0
    data = json.loads(shown.out)
    assert data["sessions"] == sessions
    assert data["items"] == items
    assert data["items_with_titles"] >= items - 1
    # The stored sessions are exactly the file's rows, in order.
    rows = (shared_data / folder / "sessions.tsv").read_text().splitlines()[1:]
    with open_store(db_path) as store:
        ds = load_dataset(store, "d")
    for k in (0, 1, len(rows) // 2, len(rows) - 1):
        session_id, split, seq, target = rows[k].split("\t")
        assert ds.session_ids[k] == session_id
        assert ["train", "valid", "test"][ds.split[k]] == split
        assert [ds.item_ids[i] for i in ds.inputs(k)] == seq.split()
        assert ds.item_ids[ds.targets[k]] == target


def test_yoochoose_100k_keeps_its_last_day_as_test(alkd, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    assert (
        alkd("data", "import", "yoochoose", shared_data / "yoochoose-100k", "--name", "yc").code
        == 0
    )
    data = json.loads(alkd("data", "show", "yc", "--json").out)
    s = data["sessions"]
    assert s["train"] > 10 * s["valid"] / 2 and s["test"] > 0 and s["valid"] > 0
    assert data["items"] > 1000 and data["clicks"] > 80_000 * 0.9
    assert data["options"]["preprocessing"]["min_item_support"] == 5


def test_diginetica_sample_imports(alkd, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    result = alkd(
        "data",
        "import",
        "diginetica",
        shared_data / "diginetica-sample" / "train-item-views.csv",
        "--name",
        "dg",
        "--json",
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["sessions"]["total"] > 100
    assert data["options"]["preprocessing"]["test_days"] == 7
