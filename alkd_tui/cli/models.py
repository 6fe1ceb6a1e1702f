"""`alkd train`, `alkd eval` and `alkd models`: session recommenders."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from alkd_tui.cli.options import JsonlOpt, JsonOpt
from alkd_tui.cli.output import OutputMode, err, out, reporter
from alkd_tui.cli.settings import settings_options
from alkd_tui.cli.state import state
from alkd_tui.pipeline.settings import TrainSettings

models_app = typer.Typer(help="Trained recommenders: list and show.", no_args_is_help=True)

METRICS = ("recall@5", "recall@10", "recall@20", "ndcg@5", "ndcg@10", "ndcg@20", "mrr@10")


def metrics_table(metrics: dict[str, dict[str, Any]], title: str) -> Table:
    labels = [m.replace("recall", "R").replace("ndcg", "N").replace("mrr", "MRR") for m in METRICS]
    table = Table("split", *labels, title=title, title_justify="left")
    for split, values in metrics.items():
        if isinstance(values, dict) and "recall@10" in values:
            table.add_row(split, *(f"{values.get(m, 0):.4f}" for m in METRICS))
    return table


@settings_options(TrainSettings)
def train(
    ctx: typer.Context,
    dataset: Annotated[
        str, typer.Option("--dataset", help="Dataset name or id.", show_default=False)
    ],
    settings: TrainSettings,
    role: Annotated[
        str,
        typer.Option("--role", help="teacher, student or baseline: picks the recipe's defaults."),
    ] = "student",
    threads: Annotated[
        int | None, typer.Option(help="torch CPU threads (default: torch's own).")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Model name (default: dataset-arch-role-dDIM-sSEED).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Train again even if this exact model exists.")
    ] = False,
    json: JsonOpt = False,
    jsonl: JsonlOpt = False,
) -> None:
    """Train a session recommender with the recipe for its architecture and role (or the
    settings given); resumes an interrupted run, reuses a finished identical one."""
    from alkd_tui.pipeline.models import train_recommender

    mode = OutputMode(json=json, jsonl=jsonl)
    with reporter(mode) as report:
        result = train_recommender(
            state(ctx).store(), dataset, role, settings, name=name, force=force, threads=threads,
            report=report,
        )  # fmt: skip

    def human() -> None:
        verb = "reused" if result.reused else "trained"
        err.print(f"{verb} model {result.model} [bold]{result.name}[/]")
        out.print(metrics_table(result.metrics, result.name))

    mode.result(result, human)


def eval_(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name or id.", show_default=False)],
    split: Annotated[str, typer.Option("--split", help="train, valid or test.")] = "test",
    exclude_own: Annotated[
        bool,
        typer.Option(
            "--exclude-own",
            help="Remove the session's own items from the ranking (the paper's protocol).",
        ),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Evaluate a trained model: Recall, NDCG and MRR at 5, 10, 20 over all items."""
    from alkd_tui.pipeline.models import evaluate_model

    result = evaluate_model(state(ctx).store(), model, split, exclude_own=exclude_own)
    OutputMode(json=json).result(
        result, lambda: out.print(metrics_table({split: result}, result["name"]))
    )


@models_app.command("list")
def list_(
    ctx: typer.Context,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Only this dataset's models.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """List trained models with their test metrics."""
    from alkd_tui.pipeline.models import list_models

    rows = list_models(state(ctx).store(), dataset)

    def human() -> None:
        table = Table(
            "id", "name", "arch", "role", "dim", "status", "valid R@10", "test R@10", "test N@10"
        )
        table.columns[1].overflow = "fold"
        for r in rows:
            m = r.metrics
            table.add_row(
                str(r.model), r.name, r.architecture, r.role, str(r.dim), r.status,
                f"{m.get('valid', {}).get('recall@10', 0):.4f}", f"{m.get('test', {}).get('recall@10', 0):.4f}",
                f"{m.get('test', {}).get('ndcg@10', 0):.4f}",
            )  # fmt: skip
        out.print(table)

    OutputMode(json=json).result({"models": rows}, human)


@models_app.command("show")
def show(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name or id.", show_default=False)],
    json: JsonOpt = False,
) -> None:
    """Show a model: its config, status, checkpoint and metrics."""
    from alkd_tui.pipeline.models import show_model

    data = show_model(state(ctx).store(), model)

    def human() -> None:
        err.print(
            f"[bold]{data.name}[/] ({data.architecture}, {data.role}, dim {data.dim}): {data.status}"
        )
        out.print(metrics_table(data.metrics, "metrics"))
        history = [h for h in data.history or [] if h.get("epoch")]  # epoch 0: before distilling
        if history:
            losses = [h["loss"] for h in history if h.get("loss") is not None]
            loss = f", training loss {losses[0]:.4g} → {losses[-1]:.4g}" if losses else ""
            out.print(f"learning curve: {len(history)} epochs{loss} (--json lists every epoch)")

    OutputMode(json=json).result(data, human)
