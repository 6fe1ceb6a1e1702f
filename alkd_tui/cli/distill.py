"""`alkd distill`: fine-tune a student on a selection's accepted teacher labels."""

from __future__ import annotations

from typing import Annotated

import typer

from alkd_tui.cli.models import metrics_table
from alkd_tui.cli.options import JsonlOpt, JsonOpt
from alkd_tui.cli.output import OutputMode, err, out, reporter
from alkd_tui.cli.state import state

LOSS = "Loss"
OPT = "Optimisation"


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
    teacher: Annotated[
        str | None,
        typer.Option(
            "--teacher", help="Whose labels, when several teachers answered (model name)."
        ),
    ] = None,
    weighting: Annotated[
        str,
        typer.Option(
            help="Position weights: paper (3/2/1), dllm2rec or uniform.", rich_help_panel=LOSS
        ),
    ] = "paper",
    negatives: Annotated[
        str, typer.Option(help="in-batch (the authors' code) or sampled.", rich_help_panel=LOSS)
    ] = "in-batch",
    n_negatives: Annotated[
        int, typer.Option(help="Negatives per ranked item.", rich_help_panel=LOSS)
    ] = 1,
    soft: Annotated[
        bool,
        typer.Option(
            "--soft",
            help="Use the teacher's probabilities where it gave them.",
            rich_help_panel=LOSS,
        ),
    ] = False,
    gt_weight: Annotated[
        float,
        typer.Option(
            help="Weight of the ground-truth loss mixed in [0: none].", rich_help_panel=LOSS
        ),
    ] = 0.0,
    epochs: Annotated[
        int, typer.Option(help="At most this many epochs.", rich_help_panel=OPT)
    ] = 20,
    batch_size: Annotated[
        int, typer.Option(help="Labelled sessions per batch.", rich_help_panel=OPT)
    ] = 64,
    lr: Annotated[float, typer.Option(help="Adam learning rate.", rich_help_panel=OPT)] = 1e-3,
    patience: Annotated[
        int, typer.Option(help="Early stopping patience (epochs).", rich_help_panel=OPT)
    ] = 3,
    metric: Annotated[
        str, typer.Option(help="Validation metric for early stopping.", rich_help_panel=OPT)
    ] = "recall@10",
    seed: Annotated[
        int, typer.Option(help="Seed of shuffling and negatives.", rich_help_panel=OPT)
    ] = 0,
    name: Annotated[str | None, typer.Option("--name", help="Name of the distilled model.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Distil again even if this exact job finished.")
    ] = False,
    json: JsonOpt = False,
    jsonl: JsonlOpt = False,
) -> None:
    """Distil a selection's accepted teacher labels into a copy of a trained student."""
    from alkd_tui.pipeline.distill import distill_student

    config = {
        "weighting": weighting, "negatives": negatives, "n_negatives": n_negatives, "soft": soft,
        "gt_weight": gt_weight, "epochs": epochs, "batch_size": batch_size, "lr": lr, "patience": patience,
        "metric": metric, "seed": seed,
    }  # fmt: skip
    mode = OutputMode(json=json, jsonl=jsonl)
    with reporter(mode) as report:
        result = distill_student(
            state(ctx).store(),
            student,
            selection,
            config,
            teacher=teacher,
            name=name,
            force=force,
            report=report,
        )

    def human() -> None:
        verb = "reused" if result.get("reused") else "distilled"
        err.print(
            f"{verb} model {result['model']} [bold]{result['name']}[/] from {result['labels']} labels of {result['teacher']}"
        )
        metrics = {
            f"student {k}": v
            for k, v in result["student_metrics"].items()
            if k in ("valid", "test")
        }
        metrics |= {
            f"distilled {k}": v for k, v in result["metrics"].items() if k in ("valid", "test")
        }
        out.print(metrics_table(metrics, result["name"]))

    mode.result(result, human)
