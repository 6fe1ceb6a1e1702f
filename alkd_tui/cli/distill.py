"""`alkd distill`: fine-tune a student on a selection's accepted teacher labels."""

from __future__ import annotations

from typing import Annotated

import typer

from alkd_tui.cli.models import metrics_table
from alkd_tui.cli.options import JsonlOpt, JsonOpt
from alkd_tui.cli.output import OutputMode, err, out, reporter
from alkd_tui.cli.settings import settings_options
from alkd_tui.cli.state import state
from alkd_tui.pipeline.settings import DistillSettings


@settings_options(DistillSettings)
def distill(
    ctx: typer.Context,
    student: Annotated[
        str, typer.Option("--student", help="The trained student (name or id).", show_default=False)
    ],
    selection: Annotated[
        str,
        typer.Option(
            "--selection", help="The labelled selection (name or id).", show_default=False
        ),
    ],
    settings: DistillSettings,
    teacher: Annotated[
        str | None,
        typer.Option(
            "--teacher", help="Whose labels, when several teachers answered (model name)."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name of the distilled model.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Distil again even if this exact job finished.")
    ] = False,
    json: JsonOpt = False,
    jsonl: JsonlOpt = False,
) -> None:
    """Distil a selection's accepted teacher labels into a copy of a trained student."""
    from alkd_tui.pipeline.distill import distill_student

    mode = OutputMode(json=json, jsonl=jsonl)
    with reporter(mode) as report:
        result = distill_student(
            state(ctx).store(),
            student,
            selection,
            settings,
            teacher=teacher,
            name=name,
            force=force,
            report=report,
        )

    def human() -> None:
        verb = "reused" if result.reused else "distilled"
        err.print(
            f"{verb} model {result.model} [bold]{result.name}[/] from {result.labels} labels of {result.teacher}"
        )
        metrics = {
            f"student {k}": v for k, v in result.student_metrics.items() if k in ("valid", "test")
        }
        metrics |= {f"distilled {k}": v for k, v in result.metrics.items() if k in ("valid", "test")}
        out.print(metrics_table(metrics, result.name))
        caution = result.caution()
        if caution is not None:
            flag = " (--no-keep-student keeps the best check instead)" if result.kept_student() else ""
            err.print(f"[yellow]{'note' if flag else 'warning'}:[/] {caution}{flag}")

    mode.result(result, human)
