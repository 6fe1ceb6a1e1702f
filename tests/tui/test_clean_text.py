"""The TUI draws data without its escape sequences (the one sanitiser, as a line filter)."""

from __future__ import annotations

from pathlib import Path

from tests.test_terminal_text import titled_dataset


async def test_the_tui_draws_titles_without_their_escape_sequences(
    alkd, store, tmp_path: Path, make_app, waiter, text_of
) -> None:  # type: ignore[no-untyped-def]
    from textual.geometry import Region
    from textual.widgets import Static

    from alkd_tui.tui.clean_filter import CleanText

    titled_dataset(alkd, tmp_path)
    app = make_app(store)
    assert any(isinstance(f, CleanText) for f in app.get_line_filters())
    async with app.run_test(size=(140, 45)) as pilot:
        top = app.screen.query_one("#top-items", Static)
        await waiter(pilot, lambda: "pwned" in text_of(top), what="the top items")
        assert "\x1b" in text_of(top)  # the widget holds the data as it is...
        await pilot.pause(0.2)  # laid out at its new height
        lines = top.render_lines(Region(0, 0, top.size.width, top.size.height))
        drawn = "".join(segment.text for line in lines for segment in line)
        assert "]0;pwned" in drawn and "\x1b" not in drawn and "\x07" not in drawn  # ...drawn clean
