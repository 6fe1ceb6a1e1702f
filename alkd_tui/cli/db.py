"""`alkd db`: where the database is and which schema it has."""

from __future__ import annotations

import typer
from rich.table import Table

from alkd_tui.cli.options import JsonOpt
from alkd_tui.cli.output import OutputMode, out
from alkd_tui.cli.state import state
from alkd_tui.pipeline.store_info import store_info

db_app = typer.Typer(
    help="The database: its location, schema revision and contents.", no_args_is_help=True
)


@db_app.command("info")
def info(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Show the database path, its schema revision (upgrading it if older) and row counts."""
    data = store_info(state(ctx).store())

    def human() -> None:
        table = Table(show_header=False, box=None)
        table.add_row("path", data["path"])
        table.add_row("schema", f"{data['revision']} (newest known: {data['head']})")
        table.add_row("size", f"{data['size_bytes']:,} bytes")
        for name, count in data["rows"].items():
            table.add_row(name, f"{count:,}")
        out.print(table)

    OutputMode(json=json).result(data, human)
