"""The app shell: the datasets area, switching areas, the header's teacher state, F1 help, the
command palette's own commands, remappable keys, and `alkd-tui` refusing a bad database."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from alkd_tui.pipeline.datasets import import_dataset
from alkd_tui.store import Store
from alkd_tui.tui.app import AlkdApp, DatasetsLoaded, TeacherProbed, main, read_keymap
from alkd_tui.tui.commands import AlkdCommands
from alkd_tui.tui.screens.help import HelpScreen


def _toy(store: Store, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(
        "session_id,item_id,timestamp\n"
        + "".join(f"{s},{i},{s * 10 + j}\n" for s in range(5) for j, i in enumerate("xyz"))
    )
    import_dataset(store, "csv", path, name, preprocess={"min_item_support": 1})


async def test_lists_datasets_and_shows_the_highlighted_one(
    store: Store, tmp_path: Path, make_app, settled
) -> None:  # type: ignore[no-untyped-def]
    _toy(store, tmp_path, "first")
    _toy(store, tmp_path, "second")
    messages: list[object] = []
    app = make_app(store)
    async with app.run_test(size=(120, 30), message_hook=messages.append) as pilot:
        await settled(app, pilot)
        table = app.screen.query_one("#datasets", DataTable)
        assert table.row_count == 2
        assert [str(table.get_row_at(r)[0]) for r in range(2)] == ["first", "second"]
        assert any(isinstance(m, DatasetsLoaded) and len(m.rows) == 2 for m in messages)
        await pilot.press("down")
        await settled(app, pilot)
        detail = str(app.screen.query_one("#detail", Static).render())
        assert "second" in detail and "sessions" in detail
        assert "2 datasets" in str(app.screen.query_one("#status", Static).render())
        await pilot.press("q")
    assert app.return_code in (0, None)


async def test_empty_store_says_how_to_import(store: Store, make_app, settled) -> None:  # type: ignore[no-untyped-def]
    app = make_app(store)
    async with app.run_test() as pilot:
        await settled(app, pilot)
        assert "press i to import" in str(app.screen.query_one("#status", Static).render())


async def test_number_keys_switch_areas_and_f1_explains_the_area(
    store: Store, make_app, settled
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settled(app, pilot)
        for key, mode in (
            ("2", "select"),
            ("3", "label"),
            ("4", "review"),
            ("5", "runs"),
            ("6", "audit"),
            ("1", "datasets"),
        ):
            await pilot.press(key)
            await settled(app, pilot)
            assert app.current_mode == mode
        await pilot.press("4")
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "review.accept" in app.screen.keys and "Accept the label" in app.screen.keys
        await pilot.press("escape")
        assert app.current_mode == "review" and not isinstance(app.screen, HelpScreen)


async def test_header_shows_the_teacher_and_whether_it_answers(
    store: Store, make_app, fake_ollama, settled
) -> None:  # type: ignore[no-untyped-def]
    messages: list[object] = []
    app = make_app(store, host=fake_ollama.url, poll_teacher=True, poll_seconds=0.2)
    async with app.run_test(size=(150, 30), message_hook=messages.append) as pilot:
        await settled(app, pilot)
        await pilot.pause(0.3)
        header = str(app.screen.query_one("#teacher", Static).render())
        assert "● reachable" in header and "Ollama" in header and fake_ollama.url in header
        fake_ollama.version = "0.1.0-alkd-local"
        await pilot.pause(0.5)
        assert "local compatibility server" in str(
            app.screen.query_one("#teacher", Static).render()
        )
        assert any(isinstance(m, TeacherProbed) for m in messages)
    down = make_app(store, poll_teacher=True)
    async with down.run_test(size=(150, 30)) as pilot:
        await pilot.pause(0.5)
        assert "● unreachable" in str(down.screen.query_one("#teacher", Static).render())


async def test_palette_offers_the_current_screens_commands(
    store: Store, tmp_path: Path, make_app, settled
) -> None:  # type: ignore[no-untyped-def]
    _toy(store, tmp_path, "toys")
    app = make_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(app, pilot)
        provider = AlkdCommands(app.screen)
        names = [name for name, _, _ in provider._commands()]
        assert (
            "Go to Review" in names and "Import a dataset" in names and "Show dataset toys" in names
        )
        hits = [hit async for hit in provider.search("show dataset toys")]
        assert hits and "toys" in str(hits[0].text)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "CommandPalette"


async def test_keys_are_remappable_by_binding_id(
    store: Store, tmp_path: Path, make_app, settled
) -> None:  # type: ignore[no-untyped-def]
    keymap = tmp_path / "keys.toml"
    keymap.write_text('"area.review" = "r"\n')
    app = make_app(store, keymap=read_keymap(keymap))
    async with app.run_test() as pilot:
        await settled(app, pilot)
        await pilot.press("r")
        await settled(app, pilot)
        assert app.current_mode == "review"


def test_main_refuses_a_bad_database(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.db"
    bad.write_text("nope")
    assert main(["--db", str(bad)]) == 3
    assert "not a SQLite database" in capsys.readouterr().err


def test_main_refuses_a_bad_keymap(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    keymap = tmp_path / "keys.toml"
    keymap.write_text("not toml [")
    assert main(["--db", str(tmp_path / "a.db"), "--keymap", str(keymap)]) == 2
    assert "keymap" in capsys.readouterr().err


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    from textual.binding import Binding

    from alkd_tui.tui.screens import audit, datasets, label, review, runs, select, train
    from alkd_tui.tui.widgets import dialogs
    from alkd_tui.tui.widgets.review import ranking_editor, rule_dialog
    from alkd_tui.tui.widgets.runs import dialogs as runs_dialogs

    classes = [AlkdApp]
    modules = (audit, datasets, label, review, runs, select, train, dialogs, ranking_editor,
               rule_dialog, runs_dialogs)  # fmt: skip
    for module in modules:
        classes += [
            c
            for c in vars(module).values()
            if isinstance(c, type) and c.__module__ == module.__name__
        ]
    for cls in classes:
        for binding in cls.__dict__.get("BINDINGS", []):
            assert isinstance(binding, Binding), (cls, binding)
            assert binding.id and binding.tooltip, (cls.__name__, binding.key)


async def test_textuals_own_notifications_keep_their_markup_and_ours_never_parse(
    store, make_app, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The screenshot toast read "[$text-success]" literally: Textual's own notifications keep
    their markup; ours still show `[...]` as text."""
    from textual.notifications import Notify

    messages: list[object] = []
    app = make_app(store)
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        app.deliver_screenshot("shot.svg", str(tmp_path))
        app.notify("a title with [dvd] in it")
        await pilot.pause(0.5)
        notes = [m.notification for m in messages if isinstance(m, Notify)]
        shot = next(n for n in notes if "shot.svg" in n.message or "screenshot" in n.message.lower())
        assert shot.markup
        ours = next(n for n in notes if "[dvd]" in n.message)
        assert not ours.markup
    assert (tmp_path / "shot.svg").is_file()


async def test_a_checkbox_looks_different_on_and_off(store, make_app, settled) -> None:  # type: ignore[no-untyped-def]
    """The box's X is drawn in the box's own colour when off: checked and unchecked differ."""
    from textual.widgets import Checkbox

    app = make_app(store)
    async with app.run_test(size=(150, 45)) as pilot:
        await pilot.press("3")
        await settled(app, pilot)
        box = app.screen.query_one(Checkbox)
        box.value = False
        await pilot.pause()
        off = box.get_component_rich_style("toggle--button")
        assert off.color == off.bgcolor  # nothing drawn: an empty box
        box.value = True
        await pilot.pause()
        on = box.get_component_rich_style("toggle--button")
        assert on.color != on.bgcolor and on.bold
