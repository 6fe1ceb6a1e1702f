"""The minimal `alkd-tui`: it opens the store and lists its datasets, driven by the pilot."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from alkd_tui.pipeline.datasets import import_dataset
from alkd_tui.store import Store
from alkd_tui.tui.app import AlkdApp, DatasetsLoaded, main


async def settle(app: AlkdApp, pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until every worker has finished (cancelled ones included) and messages are handled."""
    for _ in range(200):
        await pilot.pause(0.02)
        if all(worker.is_finished for worker in app.workers):
            break
    await pilot.pause()


def _toy(store: Store, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(
        "session_id,item_id,timestamp\n"
        + "".join(f"{s},{i},{s * 10 + j}\n" for s in range(5) for j, i in enumerate("xyz"))
    )
    import_dataset(store, "csv", path, name, preprocess={"min_item_support": 1})


async def test_lists_datasets_and_shows_the_highlighted_one(store: Store, tmp_path: Path) -> None:
    _toy(store, tmp_path, "first")
    _toy(store, tmp_path, "second")
    messages: list[object] = []
    app = AlkdApp(store)
    async with app.run_test(size=(120, 30), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        table = app.query_one("#datasets", DataTable)
        assert table.row_count == 2
        assert [table.get_row_at(r)[0] for r in range(2)] == ["first", "second"]
        assert any(isinstance(m, DatasetsLoaded) and len(m.rows) == 2 for m in messages)
        await pilot.press("down")
        await settle(app, pilot)
        detail = str(app.query_one("#detail", Static).render())
        assert "second" in detail and "sessions" in detail
        status = str(app.query_one("#status", Static).render())
        assert "2 datasets" in status
        await pilot.press("q")
    assert app.return_code in (0, None)


async def test_empty_store_says_how_to_import(store: Store) -> None:
    app = AlkdApp(store)
    async with app.run_test() as pilot:
        await settle(app, pilot)
        assert "alkd data import" in str(app.query_one("#status", Static).render())


def test_main_refuses_a_bad_database(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.db"
    bad.write_text("nope")
    assert main(["--db", str(bad)]) == 3
    assert "not a SQLite database" in capsys.readouterr().err
