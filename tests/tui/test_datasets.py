"""Importing a dataset from the TUI: the dialog builds `alkd data import`, the job runs with
its progress below the list, and the list shows the new dataset when it is done."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Checkbox, DataTable, Input, Static

from alkd_tui.pipeline.datasets import import_dataset, list_datasets
from alkd_tui.pipeline.hints import store_hints
from alkd_tui.store import Store
from alkd_tui.store.models import Hint
from alkd_tui.tui.screens.datasets import DatasetsLoaded, ImportDialog
from alkd_tui.tui.widgets.job_panel import JobPanel


async def test_import_a_dataset_with_options(
    store: Store, tmp_path: Path, make_app, settled, waiter
) -> None:  # type: ignore[no-untyped-def]
    clicks = tmp_path / "clicks.csv"
    clicks.write_text(
        "sid,item,ts\n"
        + "".join(f"{s},i{(s + j) % 7},{s * 100 + j}\n" for s in range(40) for j in range(3))
    )
    titles = tmp_path / "titles.csv"
    titles.write_text("item,name\n" + "".join(f"i{k},Item {k}\n" for k in range(7)))
    messages: list[object] = []
    app = make_app(store)
    async with app.run_test(size=(140, 45), message_hook=messages.append) as pilot:
        await settled(app, pilot)
        await pilot.press("i")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportDialog)
        fields = {
            "#import-path": str(clicks), "#import-name": "shop", "#pre-min_item_support": "1",
            "#read-session_col": "sid", "#read-item_col": "item", "#read-time_col": "ts",
            "#read-titles": str(titles), "#read-title_col": "name",
        }  # fmt: skip
        for selector, value in fields.items():
            dialog.query_one(selector, Input).value = value
        dialog.query_one("#pre-augment", Checkbox).value = False
        assert dialog.arguments()[:6] == ["data", "import", "csv", str(clicks), "--name", "shop"]
        await pilot.press("ctrl+s")
        await pilot.pause()
        panel = app.screen.query_one("#import-job", JobPanel)
        assert panel.job is not None and "--min-item-support" in panel.job.args
        finished = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, JobPanel.Finished)), None),
            what="import job",
        )
        assert finished.outcome.state == "done", finished.outcome
        assert finished.progress.result["name"] == "shop"
        await waiter(
            pilot,
            lambda: any(
                isinstance(m, DatasetsLoaded) and any(r.name == "shop" for r in m.rows)
                for m in messages
            ),
        )
        await settled(app, pilot)
        table = app.screen.query_one("#datasets", DataTable)
        assert [str(table.get_row_at(r)[0]) for r in range(table.row_count)] == ["shop"]
        assert "Item " in str(app.screen.query_one("#top-items", Static).render())
        assert "done" in str(panel.query_one("#job-status", Static).render())


async def test_import_dialog_asks_for_path_and_name(store: Store, make_app, settled) -> None:  # type: ignore[no-untyped-def]
    app = make_app(store)
    async with app.run_test(size=(140, 45)) as pilot:
        await settled(app, pilot)
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ImportDialog)  # still open: nothing to import
        await pilot.press("escape")
        assert not isinstance(app.screen, ImportDialog)


async def test_the_detail_shows_the_hints_in_use(
    labelled_store: Store, make_app, settled, waiter, text_of
) -> None:  # type: ignore[no-untyped-def]
    """Hints an LLM wrote for the dataset are listed under it: each model's latest set only."""
    dataset = list_datasets(labelled_store)[0]
    store_hints(labelled_store, dataset.id, "llm-a", 1, ["an older hint"])
    store_hints(labelled_store, dataset.id, "llm-a", 2, ["Sequels follow their originals."])
    store_hints(labelled_store, dataset.id, "llm-b", 3, ["Genres cluster."])
    app = make_app(labelled_store)
    async with app.run_test(size=(140, 45)) as pilot:
        panel = app.screen.query_one("#dataset-hints", Static)
        await waiter(pilot, lambda: "Genres" in text_of(panel), what="hints")
        text = text_of(panel)
        assert "by llm-a" in text and "Sequels follow their originals." in text
        assert "by llm-b" in text and "an older hint" not in text


async def test_brackets_in_the_data_are_shown_as_text(
    store: Store, tmp_path: Path, make_app, waiter, text_of
) -> None:  # type: ignore[no-untyped-def]
    """Titles and hints are data, not markup: `[dvd]` stays, `[/b]` breaks nothing."""
    clicks = tmp_path / "clicks.csv"
    clicks.write_text("session_id,item_id,timestamp\n" + "".join(
        f"{s},i{(s + j) % 5},{s * 10 + j}\n" for s in range(30) for j in range(3)))  # fmt: skip
    titles = tmp_path / "titles.csv"
    titles.write_text("item_id,title\n" + "".join(f"i{k},Film [dvd] {k} [/b]\n" for k in range(5)))
    import_dataset(store, "csv", clicks, "shop", preprocess={"min_item_support": 1},
                   reader={"titles": titles})  # fmt: skip
    dataset = list_datasets(store)[0]
    with store.session() as orm:
        orm.add(
            Hint(dataset_id=dataset.id, model_name="llm-[a]", text="[tip] sequels follow [/i]")
        )
    app = make_app(store)
    async with app.run_test(size=(140, 45)) as pilot:
        hints = app.screen.query_one("#dataset-hints", Static)
        await waiter(pilot, lambda: "sequels" in text_of(hints), what="hints")
        assert "[tip] sequels follow [/i]" in text_of(hints) and "by llm-[a]" in text_of(hints)
        top = text_of(app.screen.query_one("#top-items", Static))
        assert "Film [dvd] 0 [/b]" in top


async def test_a_failed_import_keeps_its_fields_and_paths_are_the_working_directorys(
    store: Store, tmp_path: Path, make_app, settled, waiter, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("sid,item,ts\n1,a,notatime\n")  # no session_id column
    messages: list[object] = []
    app = make_app(store)
    async with app.run_test(size=(140, 45), message_hook=messages.append) as pilot:
        await settled(app, pilot)
        await pilot.press("i")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportDialog)
        dialog.query_one("#import-name", Input).value = "shop"
        dialog.query_one("#import-path", Input).value = "missing.csv"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog  # no such file: it says so and stays open
        dialog.query_one("#import-path", Input).value = "bad.csv"
        assert dialog.arguments()[3] == str(tmp_path / "bad.csv")  # relative: the cwd's
        await pilot.press("ctrl+s")
        finished = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, JobPanel.Finished)), None),
            what="import job",
        )
        assert finished.outcome.state == "failed", finished.outcome
        await settled(app, pilot)
        await pilot.press("i")
        await pilot.pause()
        again = app.screen
        assert isinstance(again, ImportDialog) and again is not dialog
        assert again.query_one("#import-path", Input).value == "bad.csv"
        assert again.query_one("#import-name", Input).value == "shop"


async def test_the_csv_readers_fields_show_for_csv_only(store: Store, make_app, settled) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import Select

    app = make_app(store)
    async with app.run_test(size=(140, 45)) as pilot:
        await settled(app, pilot)
        await pilot.press("i")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportDialog)
        assert all(field.display for field in dialog.query(".csv-only"))
        dialog.query_one("#import-format", Select).value = "alkdrec"
        await pilot.pause()
        assert not any(field.display for field in dialog.query(".csv-only"))
        assert dialog.query_one("#read-delimiter").parent.display  # not the csv reader's own


async def test_a_dataset_shows_the_learning_curve_of_its_newest_model(
    labelled_store: Store, make_app, settled, waiter
) -> None:  # type: ignore[no-untyped-def]
    from textual.containers import Container
    from textual_plotext import PlotextPlot

    messages: list[object] = []
    app = make_app(labelled_store)
    async with app.run_test(size=(160, 50), message_hook=messages.append) as pilot:
        shown = await waiter(pilot, lambda: next((m for m in messages if type(m).__name__ == "DatasetShown"), None))
        await settled(app, pilot)
        name, history = shown.curve
        assert name == "student" and history  # trained last, every epoch kept
        box = app.screen.query_one("#dataset-curve", Container)
        assert box.display and box.query(PlotextPlot)
