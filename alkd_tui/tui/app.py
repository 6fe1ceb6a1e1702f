"""The `alkd-tui` application: opens the store and lists its datasets (more areas to come)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState

from alkd_tui.errors import AlkdError
from alkd_tui.paths import default_db_path
from alkd_tui.pipeline.datasets import list_datasets, show_dataset
from alkd_tui.store import Store, open_store


class DatasetsLoaded(Message):
    """The worker read the dataset list."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = rows


class DatasetShown(Message):
    """The worker read one dataset's details."""

    def __init__(self, detail: dict[str, Any]) -> None:
        super().__init__()
        self.detail = detail


def describe(detail: dict[str, Any]) -> str:
    """A dataset's details as text for the side panel."""
    s = detail["sessions"]
    length = detail.get("session_length", {})
    lines = [
        f"[b]{detail['name']}[/b] ({detail['format']})",
        detail.get("description", "") or "",
        "",
        f"sessions  {s.get('total', 0):,}",
        f"  train   {s.get('train', 0):,}",
        f"  valid   {s.get('valid', 0):,}",
        f"  test    {s.get('test', 0):,}",
        f"items     {detail['items']:,} ({detail['items_with_titles']:,} with titles)",
        f"clicks    {detail['clicks']:,}",
    ]
    if length:
        lines.append(
            f"length    median {length['median']:g}, mean {length['mean']:g}, max {length['max']}"
        )
    top = detail.get("top_items", [])
    if top:
        lines += ["", "[b]most clicked in training[/b]"]
        lines += [f"{t['train_clicks']:>6,}  {t['title'] or t['item']}" for t in top]
    return "\n".join(lines)


class AlkdApp(App[None]):
    """alkd's terminal UI."""

    CSS_PATH = "app.tcss"
    TITLE = "alkd"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave alkd-tui"),
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Read the datasets again"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.sub_title = str(store.path)
        self._names: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield DataTable(id="datasets", cursor_type="row", zebra_stripes=True)
            yield Static("Select a dataset.", id="detail")
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#datasets", DataTable)
        table.add_columns("name", "format", "train", "valid", "test", "items", "titles")
        self.action_refresh()

    def action_refresh(self) -> None:
        self.query_one("#status", Static).update("reading datasets…")
        self.load_datasets()

    @work(thread=True, exclusive=True, exit_on_error=False, group="db")
    def load_datasets(self) -> None:
        self.post_message(DatasetsLoaded(list_datasets(self.store)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load_detail(self, name: str) -> None:
        self.post_message(DatasetShown(show_dataset(self.store, name)))

    def on_datasets_loaded(self, message: DatasetsLoaded) -> None:
        table = self.query_one("#datasets", DataTable)
        table.clear()
        self._names = []
        for row in message.rows:
            s = row["sessions"]
            table.add_row(
                row["name"], row["format"], f"{s.get('train', 0):,}", f"{s.get('valid', 0):,}",
                f"{s.get('test', 0):,}", f"{row['items']:,}", f"{row['items_with_titles']:,}",
                key=row["name"],
            )  # fmt: skip
            self._names.append(row["name"])
        status = f"{len(message.rows)} datasets in {self.store.path}"
        if not message.rows:
            status = f"no datasets in {self.store.path}: import one with `alkd data import`"
        self.query_one("#status", Static).update(status)
        if message.rows:
            self.load_detail(message.rows[0]["name"])

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.load_detail(str(event.row_key.value))

    def on_dataset_shown(self, message: DatasetShown) -> None:
        self.query_one("#detail", Static).update(describe(message.detail))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            text = (
                str(error) if isinstance(error, AlkdError) else f"{type(error).__name__}: {error}"
            )
            self.query_one("#status", Static).update(f"[red]error:[/red] {text}")
            self.notify(text, title="error", severity="error")


def main(argv: list[str] | None = None) -> int:
    """Run `alkd-tui [--db PATH]`."""
    parser = argparse.ArgumentParser(prog="alkd-tui", description="alkd's terminal UI")
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="the SQLite database (default: $ALKD_DB or the user data folder)",
    )
    args = parser.parse_args(argv)
    try:
        store = open_store(args.db or default_db_path())
    except AlkdError as exc:
        print(f"alkd-tui: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    with store:
        AlkdApp(store).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
