"""The synthetic-games generator, its example database script and the committed alkd.db.example."""

from __future__ import annotations

import importlib.util
import shutil
from collections import Counter
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from alkd_tui.data.canonical import SPLIT_NAMES, TRAIN, SessionDataset
from alkd_tui.data.synthetic import DATASET_NAME, DEFAULT_SEED, synthetic_games
from alkd_tui.store import open_store
from alkd_tui.store.packing import unpack_items
from alkd_tui.store.queries import run_sql

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DB = REPO_ROOT / "alkd.db.example"
SCRIPT = REPO_ROOT / "scripts" / "make_example_db.py"
FIRST_SESSIONS = 50


@pytest.fixture(scope="module")
def games() -> SessionDataset:
    """The dataset the committed example database holds: default seed and size."""
    return synthetic_games()


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_example_db", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _next_sequel_share(ds: SessionDataset, targets: np.ndarray) -> tuple[float, int]:
    """Among training instances whose last input has a later installment, the share whose
    target is the next installment (any platform version); and how many such instances."""
    attrs = ds.attributes
    assert attrs is not None
    last_installment: dict[str, int] = {}
    for a in attrs:
        if a and a.get("franchise"):
            last_installment[a["franchise"]] = max(
                last_installment.get(a["franchise"], 0), a["installment"]
            )
    eligible = hits = 0
    for k in np.flatnonzero(ds.split == TRAIN):
        last = attrs[int(ds.inputs(k)[-1])]
        if (
            not last
            or not last.get("franchise")
            or last["installment"] >= last_installment[last["franchise"]]
        ):
            continue
        eligible += 1
        target = attrs[int(targets[k])]
        if (
            target
            and target.get("franchise") == last["franchise"]
            and target["installment"] == last["installment"] + 1
        ):
            hits += 1
    return hits / max(eligible, 1), eligible


def test_same_seed_same_dataset_other_seed_differs() -> None:
    a = synthetic_games(seed=7, n_sessions=400)
    b = synthetic_games(seed=7, n_sessions=400)
    c = synthetic_games(seed=8, n_sessions=400)
    assert a.titles == b.titles and a.attributes == b.attributes and a.item_ids == b.item_ids
    for field in ("split", "offsets", "items", "targets", "start_times"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.titles != c.titles
    assert not np.array_equal(a.targets, c.targets)


def test_catalogue_does_not_depend_on_the_number_of_sessions() -> None:
    assert (
        synthetic_games(seed=3, n_sessions=100).titles
        == synthetic_games(seed=3, n_sessions=300).titles
    )


def test_dataset_is_valid_with_titles_and_attributes(games: SessionDataset) -> None:
    games.validate()
    assert 1_500 <= games.n_items <= 3_000
    assert 6_000 <= games.n_sessions <= 10_000
    assert games.titles is not None and all(games.titles)
    assert len(set(games.titles)) == games.n_items
    assert games.attributes is not None
    assert all(a and {"genre", "platform", "year"} <= a.keys() for a in games.attributes)
    clicks = games.lengths + 1
    assert clicks.min() >= 3 and clicks.max() <= 15
    assert np.all(np.diff(games.start_times) >= 0)
    for k in range(games.n_sessions):  # a session never repeats a game
        session = [*games.inputs(k).tolist(), int(games.targets[k])]
        assert len(set(session)) == len(session)


def test_splits_are_six_two_two_in_time_order(games: SessionDataset) -> None:
    counts = games.split_counts()
    for name, share in zip(SPLIT_NAMES, (0.6, 0.2, 0.2), strict=True):
        assert counts[name] / games.n_sessions == pytest.approx(share, abs=0.01)
    assert np.all(np.diff(games.split) >= 0)  # train, then valid, then test


def test_titles_predict_the_next_sequel(games: SessionDataset) -> None:
    share, eligible = _next_sequel_share(games, games.targets)
    assert eligible > 1_000
    assert share > 0.4
    # The same measure on shuffled targets (no title signal) stays near zero.
    shuffled = np.random.default_rng(0).permutation(games.targets)
    assert _next_sequel_share(games, shuffled)[0] < 0.05


def test_each_sequel_transition_is_rare_as_a_training_target(games: SessionDataset) -> None:
    attrs = games.attributes
    assert attrs is not None
    pairs: Counter[tuple[int, int]] = Counter()
    for k in np.flatnonzero(games.split == TRAIN):
        a, b = attrs[int(games.inputs(k)[-1])], attrs[int(games.targets[k])]
        if (
            a.get("franchise")
            and b.get("franchise") == a["franchise"]
            and b["installment"] == a["installment"] + 1
        ):
            pairs[int(games.inputs(k)[-1]), int(games.targets[k])] += 1
    assert len(pairs) > 300
    assert np.median(list(pairs.values())) <= 3


def test_committed_example_db_is_small_self_contained_and_reproducible(
    games: SessionDataset, tmp_path: Path
) -> None:
    assert EXAMPLE_DB.is_file(), "run scripts/make_example_db.py"
    assert EXAMPLE_DB.stat().st_size < 5_000_000
    for suffix in ("-wal", "-shm"):
        assert not EXAMPLE_DB.with_name(EXAMPLE_DB.name + suffix).exists()
    header = EXAMPLE_DB.read_bytes()[:100]
    assert header[:16] == b"SQLite format 3\x00"
    assert header[18:20] == b"\x01\x01"  # rollback journal, not WAL

    copy = tmp_path / "example.db"
    shutil.copyfile(EXAMPLE_DB, copy)  # opening migrates: never open the committed file
    with open_store(copy) as store, store.engine.connect() as conn:
        row = run_sql(conn, "SELECT id, n_items, n_sessions, description, options FROM dataset WHERE name = ?",
            (DATASET_NAME,),
        ).one()
        ds_id, n_items, n_sessions, description, options = row
        assert (n_items, n_sessions) == (games.n_items, games.n_sessions)
        assert "synthetic" in description.lower() and "not real data" in description
        assert f"seed {DEFAULT_SEED}" in description
        assert f'"seed": {DEFAULT_SEED}' in options
        sessions = run_sql(conn, "SELECT idx, external_id, split, items, target FROM session WHERE dataset_id = ? ORDER BY idx LIMIT ?",
            (ds_id, FIRST_SESSIONS),
        ).all()
        titles = (
            run_sql(conn, "SELECT title FROM item WHERE dataset_id = ? ORDER BY idx", (ds_id,)
            )
            .scalars()
            .all()
        )
    assert titles == games.titles
    assert len(sessions) == FIRST_SESSIONS
    for idx, external_id, split, items, target in sessions:
        assert external_id == games.session_ids[idx]
        assert split == SPLIT_NAMES[games.split[idx]]
        assert unpack_items(items).tolist() == games.inputs(idx).tolist()
        assert target == games.targets[idx]


def test_script_writes_a_self_contained_db_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _load_script()
    out = tmp_path / "small.db"
    assert script.main(["--out", str(out), "--seed", "5", "--sessions", "120"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.db"]
    assert out.read_bytes()[18:20] == b"\x01\x01"
    size = out.stat().st_size

    assert script.main(["--out", str(out)]) == 1
    assert "--force" in capsys.readouterr().err
    assert out.stat().st_size == size

    assert script.main(["--out", str(out), "--seed", "5", "--sessions", "240", "--force"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.db"]
    copy = tmp_path / "copy" / "small.db"
    copy.parent.mkdir()
    shutil.copyfile(out, copy)
    with open_store(copy) as store, store.engine.connect() as conn:
        assert (
            run_sql(conn, "SELECT n_sessions FROM dataset WHERE name = ?", (DATASET_NAME,)
            ).scalar_one()
            == 240
        )
