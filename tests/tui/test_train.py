"""Training from the TUI: where Select needs a teacher recommender and there is none it says
how to get one; the Train dialog (the paper's dimensions as defaults) runs `alkd train` as a
job with live progress, and the new model is offered in Select once it is trained."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from alkd_tui.pipeline.datasets import import_dataset
from alkd_tui.pipeline.models import list_models
from alkd_tui.store import Store
from alkd_tui.tui.screens.runs import RunsScreen
from alkd_tui.tui.screens.select import ChoicesLoaded, SelectScreen
from alkd_tui.tui.screens.train import TrainDialog
from alkd_tui.tui.widgets.form import FormSelect
from alkd_tui.tui.widgets.job_panel import JobPanel


@pytest.fixture
def games_store(store: Store, tmp_path: Path) -> Store:
    """A store with one small dataset (`games`, with titles) and no model yet."""
    items = tmp_path / "items.csv"
    items.write_text("item_id,title\n" + "".join(f"g{k},Game {k}\n" for k in range(30)))
    clicks = tmp_path / "clicks.csv"
    clicks.write_text("session_id,item_id,timestamp\n" + "".join(
        f"{s},g{(s + j) % 30},{s * 10 + j}\n" for s in range(200) for j in range(2 + s % 3)))  # fmt: skip
    import_dataset(
        store, "csv", clicks, "games", preprocess={"min_item_support": 1}, reader={"titles": items}
    )
    return store


def _options(select: FormSelect) -> list[str]:
    return [str(value) for _, value in select._options if value is not FormSelect.NULL]


async def test_train_a_teacher_recommender_and_select_with_it(
    games_store: Store, make_app, settled, waiter
) -> None:  # type: ignore[no-untyped-def]
    messages: list[object] = []
    app = make_app(games_store)
    async with app.run_test(size=(150, 45), message_hook=messages.append) as pilot:
        await pilot.press("2")
        await waiter(pilot, lambda: any(isinstance(m, ChoicesLoaded) for m in messages))
        await settled(app, pilot)
        select = app.screen
        assert isinstance(select, SelectScreen)
        needs = select.query_one("#sel-needs", Static)
        assert needs.display and "alkd needs a teacher recommender" in str(needs.render())
        assert "press t to train one" in str(needs.render())
        await pilot.press("ctrl+s")  # cannot create: says why instead of the CLI's error
        await settled(app, pilot)
        assert not [m for m in messages if type(m).__name__ == "SelectionCreated"]

        await pilot.press("t")  # to the Runs area, its Train dialog open for a teacher
        dialog = await waiter(pilot, lambda: isinstance(app.screen, TrainDialog) and app.screen)
        await settled(app, pilot)
        assert dialog.query_one("#tr-dataset", FormSelect).value == "games"
        assert dialog.query_one("#tr-role", FormSelect).value == "teacher"
        dim = dialog.query_one("#tr-dim", Input)
        assert dim.value == "" and dim.placeholder == "recipe: 100"  # the paper's teacher
        assert "fpmc" in _options(dialog.query_one("#tr-architecture", FormSelect))
        dialog.query_one("#tr-role", FormSelect).value = "student"
        await pilot.pause()
        assert dim.value == "" and dim.placeholder == "recipe: 10"  # the paper's student
        dialog.query_one("#tr-role", FormSelect).value = "teacher"
        await pilot.pause()
        dialog.query_one("#tr-dim", Input).value = "8"
        dialog.query_one("#tr-epochs", Input).value = "2"
        dialog.query_one("#tr-name", Input).value = "big-teacher"
        await pilot.press("ctrl+s")
        finished = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, JobPanel.Finished)), None),
            what="train job",
        )
        assert isinstance(app.screen, RunsScreen)
        assert finished.outcome.state == "done", finished.outcome
        args = finished.job.args
        assert args[:5] == ["train", "--dataset", "games", "--role", "teacher"]
        assert args[args.index("--dim") + 1] == "8" and args[args.index("--epochs") + 1] == "2"
        progress = finished.progress
        assert progress.tasks["train"].total == 2
        assert len(progress.series["train loss"]) == progress.tasks["train"].completed
        assert "train valid recall@20" in progress.series  # the teacher recipe's metric
        assert finished.progress.result["name"] == "big-teacher"
        (model,) = list_models(games_store)
        assert (model.name, model.role, model.dim, model.status) == (
            "big-teacher",
            "teacher",
            8,
            "done",
        )

        messages.clear()
        await pilot.press("2")
        await waiter(pilot, lambda: any(isinstance(m, ChoicesLoaded) for m in messages))
        await settled(app, pilot)
        teacher = select.query_one("#sel-teacher", FormSelect)
        assert _options(teacher) == ["big-teacher"] and teacher.value == "big-teacher"
        assert not select.query_one("#sel-needs", Static).display

        await pilot.press("5")
        await settled(app, pilot)
        await pilot.press("t")  # the dataset has its teacher recommender: a student next
        dialog = await waiter(pilot, lambda: isinstance(app.screen, TrainDialog) and app.screen)
        await settled(app, pilot)
        assert dialog.query_one("#tr-role", FormSelect).value == "student"
        assert dialog.query_one("#tr-dim", Input).placeholder == "recipe: 10"
        await pilot.press("escape")


async def test_train_offers_the_model_still_missing_on_a_second_dataset(
    labelled_store: Store, make_app, settled, waiter, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """games has its teacher and student; movies only a teacher: `t` offers a movies student
    (it used to offer another games teacher, which reused the existing one: a silent no-op)."""
    from alkd_tui.pipeline.models import train_recommender

    clicks = tmp_path / "movies.csv"
    clicks.write_text("session_id,item_id,timestamp\n" + "".join(
        f"m{s},f{(s + j) % 20},{s * 10 + j}\n" for s in range(150) for j in range(2 + s % 3)))  # fmt: skip
    import_dataset(labelled_store, "csv", clicks, "movies", preprocess={"min_item_support": 1})
    train_recommender(labelled_store, "movies", "teacher", {"architecture": "fpmc", "dim": 4, "epochs": 1},
                      name="movie-teacher")  # fmt: skip
    app = make_app(labelled_store)
    async with app.run_test(size=(150, 45)) as pilot:
        await pilot.press("5")
        await settled(app, pilot)
        await pilot.press("t")
        dialog = await waiter(pilot, lambda: isinstance(app.screen, TrainDialog) and app.screen)
        await settled(app, pilot)
        assert dialog.query_one("#tr-dataset", FormSelect).value == "movies"
        assert dialog.query_one("#tr-role", FormSelect).value == "student"
        await pilot.press("escape")
