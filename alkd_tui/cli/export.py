"""`alkd export`: labels, review decisions and runs to JSONL, CSV or Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alkd_tui.cli.options import JsonOpt
from alkd_tui.cli.output import OutputMode, err
from alkd_tui.cli.state import state

export_app = typer.Typer(
    help="Export labels, review decisions and runs (JSONL, CSV, Parquet).", no_args_is_help=True
)

OutArg = Annotated[
    Path, typer.Argument(help="The file to write (.jsonl, .csv or .parquet).", show_default=False)
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", help="jsonl, csv or parquet (default: from the file name)."),
]


def _write(
    ctx: typer.Context, what: str, rows: list, out: Path, fmt: str | None, json: bool
) -> None:  # type: ignore[type-arg]
    from alkd_tui.pipeline.export import format_of, write_rows

    chosen = format_of(out, fmt)
    write_rows(rows, out, chosen)
    result = {"exported": what, "rows": len(rows), "path": str(out), "format": chosen}
    OutputMode(json=json).result(result, lambda: err.print(f"wrote {len(rows)} {what} to {out}"))


@export_app.command("labels")
def labels(
    ctx: typer.Context,
    out: OutArg,
    selection: Annotated[
        str | None, typer.Option("--selection", help="Only this selection's labels.")
    ] = None,
    teacher: Annotated[
        str | None, typer.Option("--teacher", help="Only this teacher model's labels.")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Only this dataset's labels.")
    ] = None,
    fmt: FormatOpt = None,
    json: JsonOpt = False,
) -> None:
    """Export answered labels (replayable: `alkd label --teacher replay --file`)."""
    from alkd_tui.pipeline.export import label_rows

    _write(
        ctx,
        "labels",
        label_rows(state(ctx).store(), selection=selection, teacher=teacher, dataset=dataset),
        out,
        fmt,
        json,
    )


@export_app.command("reviews")
def reviews(ctx: typer.Context, out: OutArg, fmt: FormatOpt = None, json: JsonOpt = False) -> None:
    """Export every review decision (`alkd review import` reads the JSONL back)."""
    from alkd_tui.pipeline.export import review_rows

    _write(ctx, "review decisions", review_rows(state(ctx).store()), out, fmt, json)


@export_app.command("runs")
def runs(ctx: typer.Context, out: OutArg, fmt: FormatOpt = None, json: JsonOpt = False) -> None:
    """Export every run with its config, environment, steps and figures (`alkd runs import`)."""
    from alkd_tui.pipeline.export import run_rows

    _write(ctx, "runs", run_rows(state(ctx).store()), out, fmt, json)
