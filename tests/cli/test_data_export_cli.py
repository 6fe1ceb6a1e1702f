"""`alkd data export` writes RecBole's session layout, and `alkd data import` reads it back
into the same dataset: the same sessions, splits, inputs, next items and titles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alkd_tui.data import load_dataset
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql


def _instances(store: Store, name: str) -> list[tuple[str, int, tuple[str, ...], str]]:
    ds = load_dataset(store, name)
    return sorted(
        (ds.session_ids[k], int(ds.split[k]), tuple(ds.item_ids[i] for i in ds.inputs(k)),
         ds.item_ids[ds.targets[k]])
        for k in range(ds.n_sessions)
    )  # fmt: skip


def test_export_then_import_gives_the_same_dataset(alkd, labelling_store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = labelling_store.target
    folder = tmp_path / "export"
    done = alkd("data", "export", "games", "--out", folder, "--json", db=db)
    assert done.code == 0, done.err
    data = json.loads(done.out)
    assert set(data["files"]) == {"games.train.inter", "games.valid.inter", "games.test.inter", "games.item"}
    back = alkd("data", "import", "recbole", folder, "--name", "games-again", db=db)
    assert back.code == 0, back.err
    assert _instances(labelling_store, "games-again") == _instances(labelling_store, "games")
    before, after = load_dataset(labelling_store, "games"), load_dataset(labelling_store, "games-again")
    titles = dict(zip(before.item_ids, before.titles or [], strict=True))
    assert dict(zip(after.item_ids, after.titles or [], strict=True)) == titles
    assert np.array_equal(np.bincount(after.split, minlength=3), np.bincount(before.split, minlength=3))


@pytest.mark.parametrize("fmt", ["alkdrec", "csv", "parquet"])
def test_the_alkdrec_layouts_round_trip(alkd, labelling_store: Store, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    """sessions + items as tsv, csv (a title with a comma and a quote) or parquet, read back by
    `alkd data import alkdrec` into the same dataset."""
    db = labelling_store.target
    with labelling_store.engine.begin() as conn:  # titles that a careless writer would break
        run_sql(conn, "UPDATE item SET title = 'Game 1, \"Deluxe\"' WHERE external_id = 'g1'")
        run_sql(conn, "UPDATE item SET title = NULL WHERE external_id = 'g2'")
    folder = tmp_path / fmt
    done = alkd("data", "export", "games", "--out", folder, "--format", fmt, "--json", db=db)
    assert done.code == 0, done.err
    suffix = {"alkdrec": "tsv", "csv": "csv", "parquet": "parquet"}[fmt]
    assert json.loads(done.out)["files"] == {f"sessions.{suffix}": 200, f"items.{suffix}": 30}
    back = alkd("data", "import", "alkdrec", folder, "--name", f"games-{fmt}", db=db)
    assert back.code == 0, back.err
    assert _instances(labelling_store, f"games-{fmt}") == _instances(labelling_store, "games")
    before, after = load_dataset(labelling_store, "games"), load_dataset(labelling_store, f"games-{fmt}")
    titles = dict(zip(after.item_ids, after.titles or [], strict=True))
    assert titles == dict(zip(before.item_ids, before.titles or [], strict=True))
    assert titles["g1"] == 'Game 1, "Deluxe"' and titles["g2"] is None
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        items = pq.read_table(folder / "sessions.parquet").schema.field("items").type
        assert pa.types.is_list(items) and pa.types.is_string(items.value_type)


def test_export_refuses_what_it_cannot_write(alkd, labelling_store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = labelling_store.target
    afile = tmp_path / "a-file"
    afile.write_text("")
    refused = alkd("data", "export", "games", "--out", afile, db=db)
    assert refused.code == 2 and "is a file" in refused.err
    unknown = alkd("data", "export", "games", "--out", tmp_path / "x", "--format", "xlsx", db=db)
    assert unknown.code == 2 and "--format 'xlsx'" in unknown.err
    missing = alkd("data", "export", "nope", "--out", tmp_path / "y", db=db)
    assert missing.code == 2 and "nope" in missing.err


def test_a_parquet_table_without_a_column_is_refused_by_name(alkd, db_path: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "broken"
    folder.mkdir()
    pq.write_table(pa.table({"item_id": ["a", "b"], "title": ["A", None]}), folder / "items.parquet")
    pq.write_table(pa.table({"session_id": ["s"], "split": ["train"], "items": [["a"]]}),
                   folder / "sessions.parquet")  # fmt: skip
    refused = alkd("data", "import", "alkdrec", folder, "--name", "broken")
    assert refused.code == 2 and "sessions.parquet" in refused.err and "no column 'target'" in refused.err
    assert "broken" not in alkd("data", "list").out
