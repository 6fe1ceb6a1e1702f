"""`alkd select` and `alkd selections`: choose sessions for the LLM, import a recorded choice,
preview the policy, list and show selections.

Register in `alkd_tui.cli.main`::

    from alkd_tui.cli.select import select_, selections_app
    app.command("select")(select_)
    app.add_typer(selections_app, name="selections")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from alkd_tui.cli.options import JsonlOpt, JsonOpt
from alkd_tui.cli.output import OutputMode, err, out, reporter
from alkd_tui.cli.settings import settings_options
from alkd_tui.cli.state import state
from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.settings import SelectSettings

if TYPE_CHECKING:
    from alkd_tui.pipeline.results import SelectionSummary

selections_app = typer.Typer(
    help="Selections of training sessions for the LLM: list and show.", no_args_is_help=True
)


def _num(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _members_table(members: list[dict[str, Any]], title: str) -> Table:
    table = Table("order", "session", "probability", "gain", "difficulty", title=title)
    table.title_justify = "left"
    for m in members:
        table.add_row(
            str(m["order"]),
            m["session"],
            _num(m["probability"]),
            _num(m["gain"]),
            _num(m["difficulty"]),
        )
    return table


def _describe(result: SelectionSummary) -> str:
    policy = ""
    if result.k_star is not None:
        policy = f", k* {result.k_star:,}, Gamma {_num(result.gamma)}"
    return (
        f"selection {result.selection} [bold]{result.name}[/]: {result.size:,} of "
        f"{result.pool_size:,} training sessions by {result.strategy}{policy}"
    )


def _preview_human(data: dict[str, Any]) -> None:
    err.print(
        f"[bold]{data['strategy']}[/] on {data['dataset']}: pool {data['pool_size']:,} training sessions"
    )
    if data.get("k_star") is None:
        if data.get("note"):
            err.print(data["note"])
        return
    counts = data["class_counts"]
    err.print(
        f"k* {data['k_star']:,} ({data['support_share']:.1%} of the pool), Gamma {_num(data['gamma'])}; "
        "assumed classes " + ", ".join(f"{k} {v:,.1f}" for k, v in counts.items())
    )
    table = Table(
        "rank", "p*", "log10 p*", "cumulative", title="p* by difficulty rank (1 = hardest)"
    )
    table.title_justify = "left"
    curve = data["curve"]
    step = max(1, len(curve) // 12)
    points = curve[::step]
    if points[-1] is not curve[-1]:
        points.append(curve[-1])
    for point in points:
        log10 = point.get("log10_probability")
        table.add_row(
            f"{point['rank']:,}",
            _num(point["probability"]),
            "-inf" if log10 is None else f"{log10:.2f}",
            f"{point['cumulative']:.4f}",
        )
    out.print(table)


@settings_options(SelectSettings)
def select_(
    ctx: typer.Context,
    dataset: Annotated[
        str, typer.Option("--dataset", help="Dataset name or id.", show_default=False)
    ],
    settings: SelectSettings,
    teacher: Annotated[
        str | None,
        typer.Option(
            "--teacher",
            help="Teacher recommender (model name or id): difficulty for alkd, rad-bc, easiest, hardest.",
        ),
    ] = None,
    student: Annotated[
        str | None,
        typer.Option("--student", help="Student model (name or id): uncertainty's entropy, disagreement's top 25."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Selection name (default: DATASET-STRATEGY-bBUDGET-sSEED)."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="With --from-file: only the first N sessions.")
    ] = None,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview", help="Show k*, Gamma and p* by rank without running models or storing."
        ),
    ] = False,
    json: JsonOpt = False,
    jsonl: JsonlOpt = False,
) -> None:
    """Select training sessions for the LLM teacher (or import or preview a selection)."""
    from alkd_tui.pipeline import selection

    store = state(ctx).store()
    mode = OutputMode(json=json, jsonl=jsonl)
    given = settings.model_fields_set
    if settings.from_file is not None:
        policy = {"strategy", "pool", "sequential", "ratios", "mu", "form", "difficulty_from"}
        extra = sorted({f"--{k.replace('_', '-')}" for k in given & policy})
        extra += [flag for flag, value in (("--teacher", teacher), ("--student", student),
                                           ("--preview", preview or None)) if value is not None]  # fmt: skip
        if extra:
            raise BadInputError(
                f"--from-file imports a recorded order: drop {', '.join(extra)} (use --budget N)"
            )
        if name is None:
            raise BadInputError("--from-file needs --name NAME for the new selection")
        first = limit if limit is not None else (settings.budget if "budget" in given else None)
        with reporter(mode) as report:
            result = selection.import_selection(
                store, dataset, Path(settings.from_file), name, limit=first, report=report
            )
        mode.result(result, lambda: err.print(_describe(result)))
        return
    if limit is not None:
        raise BadInputError("--limit applies to --from-file only (use --budget)")
    if preview:
        data = selection.preview_selection(store, dataset, settings)
        mode.result(data, lambda: _preview_human(data))
        return
    with reporter(mode) as report:
        result = selection.create_selection(
            store, dataset, settings, teacher_model=teacher, student_model=student, name=name,
            report=report,
        )  # fmt: skip

    def human() -> None:
        err.print(_describe(result))
        shown = selection.show_selection(store, result.name, limit=10)
        out.print(_members_table(shown.members or [], "first members"))

    mode.result(result, human)


@selections_app.command("list")
def list_(
    ctx: typer.Context,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Only this dataset's selections.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """List selections: strategy, size, pool, k* and Gamma."""
    from alkd_tui.pipeline.selection import list_selections

    rows = list_selections(state(ctx).store(), dataset)

    def human() -> None:
        table = Table("id", "name", "dataset", "strategy", "size", "pool", "k*", "Gamma", "created")
        table.columns[1].overflow = "fold"
        for r in rows:
            table.add_row(
                str(r.selection), r.name, r.dataset, r.strategy, f"{r.size:,}",
                f"{r.pool_size:,}", "-" if r.k_star is None else f"{r.k_star:,}",
                _num(r.gamma), r.created_at,
            )  # fmt: skip
        out.print(table)

    OutputMode(json=json).result({"selections": rows}, human)


@selections_app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Selection name or id.", show_default=False)],
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N members.")] = None,
    json: JsonOpt = False,
) -> None:
    """Show a selection and its members in order (probability, gain, difficulty)."""
    from alkd_tui.pipeline.selection import show_selection

    if limit is not None and limit < 0:
        raise BadInputError(f"--limit {limit}: must be >= 0")
    data = show_selection(state(ctx).store(), name, limit=limit)

    def human() -> None:
        err.print(_describe(data))
        out.print(_members_table(data.members or [], "members"))

    OutputMode(json=json).result(data, human)
