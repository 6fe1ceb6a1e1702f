"""`alkd curve`: how many LLM answers pay off, from a few distillations on fractions of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from alkd_tui.cli.options import JsonlOpt, JsonOpt
from alkd_tui.cli.output import OutputMode, err, out, reporter
from alkd_tui.cli.settings import settings_options
from alkd_tui.cli.state import state
from alkd_tui.pipeline.settings import CurveSettings

if TYPE_CHECKING:
    from alkd_tui.pipeline.results import CurveResult


def curve_table(result: CurveResult) -> Table:
    """The curve as a table with a bar per point."""
    from alkd_tui.pipeline.curve import curve_rows

    columns, rows = curve_rows(result)
    table = Table(*columns, title=f"label curve of {result.selection} ({result.seeds} seeds)",
                  title_justify="left")  # fmt: skip
    for row in rows:
        table.add_row(*row)
    return table


def curve(
    ctx: typer.Context,
    selection: Annotated[
        str, typer.Argument(help="The labelled selection (name or id).", show_default=False)
    ],
    student: Annotated[
        str, typer.Option("--student", help="The trained student (name or id).", show_default=False)
    ],
    settings: CurveSettings,
    teacher: Annotated[
        str | None,
        typer.Option(
            "--teacher", help="Whose labels, when several teachers answered (model name)."
        ),
    ] = None,
    json: JsonOpt = False,
    jsonl: JsonlOpt = False,
) -> None:
    """Distil the student on nested fractions of a selection's accepted labels (over seeds) and
    say whether more labels are likely to help; stored as a run."""
    from alkd_tui.pipeline.curve import label_curve

    mode = OutputMode(json=json, jsonl=jsonl)
    with reporter(mode) as report:
        result = label_curve(
            state(ctx).store(), selection, student, settings, teacher=teacher, report=report
        )

    def human() -> None:
        out.print(curve_table(result))
        nxt = result.next_step
        se = "" if nxt["se"] is None else f" ± {nxt['se']:.4f}"
        err.print(escape(result.verdict))
        err.print(
            f"next step: {nxt['labels']:,} labels, estimated gain {nxt['gain']:+.4f}{se} ({escape(nxt['how'])})"
        )
        err.print(f"stored as run {result.run}: `alkd runs show {result.run}`")

    mode.result(result, human)


curve = settings_options(CurveSettings)(curve)
