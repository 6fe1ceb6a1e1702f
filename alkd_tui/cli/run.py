"""`alkd run` (the whole pipeline, headless) and `alkd runs` (history, details, differences)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from alkd_tui.cli.options import JsonlOpt, JsonOpt
from alkd_tui.cli.output import OutputMode, err, out, reporter
from alkd_tui.cli.state import state
from alkd_tui.errors import BadInputError

if TYPE_CHECKING:
    from alkd_tui.pipeline.results import RunSummary

runs_app = typer.Typer(help="Run history: list, show, diff, import, export to MLflow.", no_args_is_help=True)
METRICS = ("recall@5", "recall@10", "ndcg@5", "ndcg@10")


def results_table(run: int, status: str, results: dict[str, Any]) -> Table:
    """Teacher recommender, student and distilled student side by side (test split)."""
    labels = [m.replace("recall", "R").replace("ndcg", "N") for m in METRICS]
    table = Table("test split", *labels, "R@10, own items excluded", title=f"run {run}: {status}",
                  title_justify="left")  # fmt: skip
    names = {"teacher_recommender": "teacher recommender"}
    for role, values in results.items():
        if not isinstance(values, dict) or "test" not in values:
            continue
        test = values.get("test", {})
        own = values.get("test_excluding_own", {})
        table.add_row(
            names.get(role, role),
            *(f"{test.get(m) or 0:.4f}" for m in METRICS),
            f"{own.get('recall@10') or 0:.4f}",
        )
    return table


def next_steps(summary: RunSummary, db: str) -> list[str]:
    """What a user can do after a run, as commands."""
    prefix = f"alkd --db {db}"
    steps = [
        f"review the labels one by one: `alkd-tui --db {db}` (area 4), or `{prefix} review list {summary.selection}`"
    ]
    distilled = ((summary.results or {}).get("distilled") or {}).get("model")
    student = ((summary.results or {}).get("student") or {}).get("model")
    if student:
        steps.append(
            f"audit the teacher's answers: `{prefix} audit --selection {summary.selection} --student {student}`"
        )
    if distilled:
        steps.append(
            f"compare with another seed: `{prefix} run --set seed={(summary.seed or 0) + 1}`, then `{prefix} runs diff {summary.run} NEW`"
        )
    steps.append(
        "the paper's setting on its data (../shared/data): `alkd run configs/paper-ml-fpmc.toml`"
    )
    return steps


def run(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Argument(
            help="A TOML configuration (default: the embedded one).", show_default=False
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a setting: KEY=VALUE, e.g. select.budget=100 (repeatable)."
        ),
    ] = None,
    resume: Annotated[
        str | None, typer.Option("--resume", help="Continue run RUN (its stored configuration).")
    ] = None,
    print_config: Annotated[
        bool,
        typer.Option(
            "--print-config",
            help="Print the embedded default configuration (every setting, its default and help) as TOML, and run nothing.",
        ),
    ] = False,
    json: JsonOpt = False,
    jsonl: JsonlOpt = False,
) -> None:
    """Run the method end to end: dataset, teacher recommender, student, select, (hints, with
    label.hints = true,) label, review, distill, evaluate. Steps already done with the same
    settings are reused, so a re-run resumes."""
    from alkd_tui.pipeline.config import default_toml, load_config
    from alkd_tui.pipeline.whole_run import run_pipeline

    if print_config:
        sys.stdout.write(default_toml())
        return
    if resume is not None and (config is not None or set_):
        raise BadInputError(
            "--resume continues a run with its stored configuration: give no CONFIG or --set"
        )
    cfg = None if resume is not None else load_config(config, set_ or [])
    mode = OutputMode(json=json, jsonl=jsonl)
    store = state(ctx).store()
    with reporter(mode) as report:
        summary = run_pipeline(store, cfg, resume=resume, report=report)

    def human() -> None:
        if summary.status == "awaiting-review":
            err.print(
                f"run {summary.run} is awaiting review of selection {summary.selection}: review the labels in "
                f"`alkd-tui --db {store.where}` or with `alkd review list {summary.selection}`, then continue with "
                f"`alkd --db {store.where} run --resume {summary.run}`"
            )
            return
        err.print(f"teacher: {(summary.teacher or {}).get('description', '?')}")
        out.print(results_table(summary.run, summary.status, summary.results or {}))
        from alkd_tui.pipeline.results import distillation_note

        note = distillation_note(summary.distillation)
        if note:
            err.print(note)
        err.print("next:")
        for step in next_steps(summary, store.where):
            err.print(f"  • {step}")

    mode.result(summary, human)


@runs_app.command("list")
def list_(ctx: typer.Context, kind: Annotated[str | None, typer.Option("--kind", help="pipeline, train, select, label, distill.")] = None,
          json: JsonOpt = False) -> None:  # fmt: skip
    """List runs, newest first."""
    from alkd_tui.pipeline.history import list_runs

    rows = list_runs(state(ctx).store(), kind)

    def human() -> None:
        table = Table("id", "kind", "name", "status", "started UTC", "s", "part of")
        table.columns[2].overflow = "fold"
        for r in rows:
            table.add_row(str(r["run"]), r["kind"], r["name"], r["status"], r["started_at"][5:16].replace("T", " "),
                          "" if r["seconds"] is None else f"{r['seconds']:.1f}", str(r["parent"] or ""))  # fmt: skip
        out.print(table)

    OutputMode(json=json).result({"runs": rows}, human)


@runs_app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id.", show_default=False)],
    json: JsonOpt = False,
) -> None:
    """Show a run: config, environment, steps, metrics."""
    from alkd_tui.pipeline.history import show_run

    data = show_run(state(ctx).store(), run_id)

    def human() -> None:
        err.print(
            f"run {data['run']} ({data['kind']}, {data['name']}): {data['status']}"
            + (f": {data['error']}" if data.get("error") else "")
        )
        if data.get("steps"):
            table = Table("step", "status", "seconds")
            for name, step in data["steps"].items():
                table.add_row(name, step.get("status", ""), str(step.get("seconds", "")))
            out.print(table)
        if data.get("results"):
            out.print(results_table(data["run"], data["status"], data["results"]))
        metrics = data.get("metrics") or []
        if data["kind"] == "curve":
            from alkd_tui.cli.curve import curve_table
            from alkd_tui.pipeline.curve import curve_of_run

            found = curve_of_run(data)
            if found is not None:
                out.print(curve_table(found))
                err.print(escape(found.verdict))
                return
        if metrics and not data.get("results"):
            table = Table("step", "split", "metric", "value")
            for m in metrics:
                table.add_row(m["step"], m["split"], m["name"], f"{m['value']:.6g}")
            out.print(table)

    OutputMode(json=json).result(data, human)


@runs_app.command("diff")
def diff(
    ctx: typer.Context,
    first: Annotated[str, typer.Argument(help="Run id.", show_default=False)],
    second: Annotated[str, typer.Argument(help="Run id.", show_default=False)],
    json: JsonOpt = False,
) -> None:
    """Compare two runs: the settings that differ and the metrics side by side."""
    from alkd_tui.pipeline.history import diff_runs

    data = diff_runs(state(ctx).store(), first, second)

    def human() -> None:
        table = Table(
            "setting",
            f"run {first}",
            f"run {second}",
            title="settings that differ",
            title_justify="left",
        )
        for key, (a, b) in data["config"].items():
            table.add_row(key, str(a), str(b))
        out.print(table)
        metrics = Table(
            "metric",
            f"run {first}",
            f"run {second}",
            "difference",
            title="metrics",
            title_justify="left",
        )
        for key, (a, b) in data["metrics"].items():
            delta = "" if a is None or b is None else f"{b - a:+.4f}"
            metrics.add_row(
                key, "-" if a is None else f"{a:.4f}", "-" if b is None else f"{b:.4f}", delta
            )
        out.print(metrics)

    OutputMode(json=json).result(data, human)


@runs_app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            help="A file written by `alkd export runs` (.jsonl, .csv or .parquet).",
            show_default=False,
        ),
    ],
    json: JsonOpt = False,
) -> None:
    """Add the runs of an export to this database (as new, imported records). Runs already
    present (same kind, name, start time and config) are skipped, so importing a file twice
    changes nothing; `--json` gives {"imported", "skipped"}."""
    from alkd_tui.pipeline.export import import_runs

    result = import_runs(state(ctx).store(), path)
    OutputMode(json=json).result(
        result,
        lambda: err.print(
            f"imported {result['imported']} runs, skipped {result['skipped']} already present"
        ),
    )


@runs_app.command("export")
def export(
    ctx: typer.Context,
    uri: Annotated[
        str,
        typer.Argument(
            help="The MLflow tracking URI: sqlite:///mlflow.db (a local store), http://HOST:5000, ...",
            show_default=False,
        ),
    ],
    to: Annotated[str, typer.Option("--to", help="Where to: mlflow.")] = "mlflow",
    experiment: Annotated[
        str, typer.Option("--experiment", help="The MLflow experiment (created if missing).")
    ] = "alkd",
    runs: Annotated[
        list[int] | None, typer.Option("--run", help="Only this run (repeatable; default: all).")
    ] = None,
    json: JsonOpt = False,
    jsonl: JsonlOpt = False,
) -> None:
    """Export runs to MLflow (the `mlflow` extra): params from the config, the figures and every
    epoch as metrics with their step, tags from the environment. Runs exported before are
    skipped, so exporting again adds only new runs."""
    if to != "mlflow":
        raise BadInputError(f"--to {to!r}: use mlflow (files: `alkd export runs FILE`)")
    from alkd_tui.pipeline.mlflow_export import export_to_mlflow

    mode = OutputMode(json=json, jsonl=jsonl)
    with reporter(mode) as report:
        result = export_to_mlflow(
            state(ctx).store(), uri, experiment=experiment, runs=runs, report=report
        )
    mode.result(
        result,
        lambda: err.print(
            f"exported {result['exported']} runs to MLflow experiment {result['experiment']!r} "
            f"at {escape(uri)}, skipped {result['skipped']} exported before"
        ),
    )
