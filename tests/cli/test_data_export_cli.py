"""`alkd data export` writes RecBole's session layout, and `alkd data import` reads it back
into the same dataset: the same sessions, splits, inputs, next items and titles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from alkd_tui.data import load_dataset
from alkd_tui.store import Store


def _instances(store: Store, name: str) -> list[tuple[str, int, tuple[str, ...], str]]:
    ds = load_dataset(store, name)
    return sorted(
        (ds.session_ids[k], int(ds.split[k]), tuple(ds.item_ids[i] for i in ds.inputs(k)),
         ds.item_ids[ds.targets[k]])
        for k in range(ds.n_sessions)
    )  # fmt: skip


def test_export_then_import_gives_the_same_dataset(alkd, labelling_store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = labelling_store.path
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


def test_export_refuses_what_it_cannot_write(alkd, labelling_store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = labelling_store.path
    afile = tmp_path / "a-file"
    afile.write_text("")
    refused = alkd("data", "export", "games", "--out", afile, db=db)
    assert refused.code == 2 and "is a file" in refused.err
    unknown = alkd("data", "export", "games", "--out", tmp_path / "x", "--format", "parquet", db=db)
    assert unknown.code == 2 and "--format 'parquet'" in unknown.err
    missing = alkd("data", "export", "nope", "--out", tmp_path / "y", db=db)
    assert missing.code == 2 and "nope" in missing.err
