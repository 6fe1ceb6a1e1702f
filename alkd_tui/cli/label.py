"""`alkd label`: ask a teacher about the sessions of a selection."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from alkd_tui.cli.options import JsonlOpt, JsonOpt
from alkd_tui.cli.output import OutputMode, err, out, reporter
from alkd_tui.cli.settings import settings_options
from alkd_tui.cli.state import state
from alkd_tui.pipeline.settings import LabelSettings, TeacherChoice


@settings_options(TeacherChoice, param="choice")
@settings_options(LabelSettings)
def label(
    ctx: typer.Context,
    selection: Annotated[str, typer.Argument(help="Selection name or id.", show_default=False)],
    choice: TeacherChoice,
    settings: LabelSettings,
    candidates_from: Annotated[
        str | None,
        typer.Option(
            "--candidates-from",
            help="The teacher recommender whose top items are the candidates (default: the selection's).",
        ),
    ] = None,
    json: JsonOpt = False,
    jsonl: JsonlOpt = False,
) -> None:
    """Ask a teacher to rank next items for a selection's sessions; resumable, never asks twice."""
    from alkd_tui.pipeline.labels import label_selection

    mode = OutputMode(json=json, jsonl=jsonl)
    with reporter(mode) as report:
        result = label_selection(
            state(ctx).store(), selection, choice, settings, candidates_from=candidates_from,
            report=report,
        )  # fmt: skip

    def human() -> None:
        err.print(f"labelled [bold]{result.name}[/] with {result.teacher['description']}")
        table = Table(show_header=False, box=None)
        counts = {
            "requests": result.requests, "cached": result.cached, "answered now": result.answered_now,
            "failed now": result.failed_now, "answered": result.answered, "failed": result.failed,
            "pending": result.pending, "unanswerable": result.unanswerable,
        }  # fmt: skip
        if any(result.elsewhere.values()):
            counts["by another job"] = sum(result.elsewhere.values())
        for key, value in counts.items():
            table.add_row(key, str(value))
        table.add_row("parse", ", ".join(f"{k} {v}" for k, v in sorted(result.parse.items())))
        lat = result.latency_s
        if lat["p50"] is not None:
            table.add_row(
                "latency", f"p50 {lat['p50']:.3f} s, p90 {lat['p90']:.3f} s, max {lat['max']:.3f} s"
            )
        table.add_row(
            "tokens", f"{result.tokens['prompt']:,} prompt, {result.tokens['output']:,} output"
        )
        if result.cost is not None:
            table.add_row("cost", f"{result.cost:.6g} (at the prices given)")
        cal = result.calibration
        if cal:
            hits = ", ".join(f"hit@{k} {cal[f'hit@{k}']:.3f}" for k in (1, 10, 25) if cal.get(f"hit@{k}") is not None)
            table.add_row("calibration", f"{cal['sessions']} of {cal['asked']} validation sessions answered: {hits or '-'} "
                          "(the LLM's accuracy; never distilled)")  # fmt: skip
        out.print(table)

    mode.result(result, human)
