"""`alkd data`: import, list, show, delete and fetch datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from alkd_tui.cli.options import JsonlOpt, JsonOpt
from alkd_tui.cli.output import OutputMode, err, out, reporter
from alkd_tui.cli.state import state
from alkd_tui.data.formats import FORMATS
from alkd_tui.errors import BadInputError
from alkd_tui.pipeline import datasets
from alkd_tui.pipeline.results import DatasetSummary

data_app = typer.Typer(
    help="Session datasets: import, inspect, delete, fetch.", no_args_is_help=True
)

PRE = "Preprocessing (raw clicks)"
READ = "Reading files"
FORMAT_HELP = "Format: " + "; ".join(f"[bold]{f.name}[/]: {f.summary}" for f in FORMATS.values())


def _delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    value = named.get(value.lower(), value)
    if len(value) != 1:
        raise BadInputError(
            f"--delimiter {value!r}: give one character (or tab, comma, semicolon, pipe)"
        )
    return value


@data_app.command("import")
def import_(
    ctx: typer.Context,
    format: Annotated[str, typer.Argument(help=FORMAT_HELP, show_default=False)],
    path: Annotated[Path, typer.Argument(help="The file or folder to read.", show_default=False)],
    name: Annotated[
        str, typer.Option("--name", help="Name of the new dataset.", show_default=False)
    ],
    description: Annotated[str, typer.Option(help="A line about the dataset.")] = "",
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a dataset of the same name.")
    ] = False,
    min_session_length: Annotated[
        int | None, typer.Option(help="Drop sessions with fewer clicks (default: 2).", rich_help_panel=PRE)
    ] = None,
    min_item_support: Annotated[
        int | None,
        typer.Option(help="Drop items clicked fewer times, until stable (default: 5).", rich_help_panel=PRE),
    ] = None,
    test_days: Annotated[
        float | None,
        typer.Option(
            help="Test split: sessions ending in the last N days (default: yoochoose 1, diginetica/retailrocket 7).",
            rich_help_panel=PRE,
        ),
    ] = None,
    test_fraction: Annotated[
        float | None,
        typer.Option(
            help="Test split: the latest fraction of sessions (default: 0.2 where no days apply).",
            rich_help_panel=PRE,
        ),
    ] = None,
    valid_fraction: Annotated[
        float | None,
        typer.Option(
            help="Validation: the latest fraction of training sessions (default: 0.1).", rich_help_panel=PRE
        ),
    ] = None,
    augment_prefixes: Annotated[
        bool | None,
        typer.Option(
            "--augment-prefixes", help="One instance per prefix (SR-GNN).", rich_help_panel=PRE
        ),
    ] = None,
    max_length: Annotated[
        int | None,
        typer.Option(
            help="Keep the last N input items of each instance (default: all).", rich_help_panel=PRE
        ),
    ] = None,
    session_gap: Annotated[
        float | None,
        typer.Option(
            help="Seconds of inactivity that end a user's session (default: retailrocket/csv 1800, movielens/recbole 3600).",
            rich_help_panel=PRE,
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(help="Column separator (one character, or 'tab').", rich_help_panel=READ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="Text encoding (default: utf-8; MovieLens titles latin-1).", rich_help_panel=READ),
    ] = None,
    session_col: Annotated[
        str | None, typer.Option(help="csv: session column (default: session_id).", rich_help_panel=READ)
    ] = None,
    user_col: Annotated[
        str | None,
        typer.Option(
            help="csv: user column (sessions cut by --session-gap).", rich_help_panel=READ
        ),
    ] = None,
    item_col: Annotated[
        str | None, typer.Option(help="csv: item column (default: item_id).", rich_help_panel=READ)
    ] = None,
    time_col: Annotated[
        str | None,
        typer.Option(
            help="csv: time column, unix time or ISO 8601 (default: timestamp, if present; none: the file has no time column).",
            rich_help_panel=READ,
        ),
    ] = None,
    time_unit: Annotated[
        str | None,
        typer.Option(help="csv: unit of a numeric time column: s or ms (default: s).", rich_help_panel=READ),
    ] = None,
    titles: Annotated[
        Path | None,
        typer.Option(
            help="csv: a file of item titles (item column and --title-col).", rich_help_panel=READ
        ),
    ] = None,
    title_col: Annotated[
        str | None,
        typer.Option(help="csv: the titles file's title column (default: title).", rich_help_panel=READ),
    ] = None,
    json: JsonOpt = False,
    jsonl: JsonlOpt = False,
) -> None:
    """Import a session dataset into the database (atomic: a failed import stores nothing)."""
    preprocess = {
        "min_session_length": min_session_length, "min_item_support": min_item_support,
        "test_days": test_days, "test_fraction": test_fraction, "valid_fraction": valid_fraction,
        "augment_prefixes": augment_prefixes, "max_length": max_length, "session_gap": session_gap,
    }  # fmt: skip
    units = {None: None, "s": 1.0, "ms": 0.001}
    if time_unit not in units:
        raise BadInputError(f"--time-unit {time_unit!r}: use s or ms")
    reader = {
        "delimiter": _delimiter(delimiter), "encoding": encoding, "session_col": session_col,
        "user_col": user_col, "item_col": item_col, "time_col": time_col, "time_unit": units[time_unit],
        "titles": titles, "title_col": title_col,
    }  # fmt: skip
    mode = OutputMode(json=json, jsonl=jsonl)
    store = state(ctx).store()
    with reporter(mode) as report:
        result = datasets.import_dataset(
            store,
            format,
            path,
            name,
            preprocess={k: v for k, v in preprocess.items() if v is not None},
            reader={k: v for k, v in reader.items() if v is not None},
            description=description,
            replace=replace,
            report=report,
        )
    mode.result(
        result, lambda: (err.print(f"imported [bold]{name}[/] into {store.where}"), _show(result))
    )


@data_app.command("export")
def export(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name or id.", show_default=False)],
    folder: Annotated[
        Path, typer.Option("--out", help="The folder to write (created if missing).", show_default=False)
    ],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="recbole: NAME.{train,valid,test}.inter and NAME.item; alkdrec: sessions.tsv "
            "and items.tsv; csv: sessions.csv and items.csv; parquet: sessions.parquet and "
            "items.parquet.",
        ),
    ] = "recbole",
    json: JsonOpt = False,
) -> None:
    """Export a dataset with its splits and titles (`alkd data import recbole FOLDER` reads
    the recbole format back, `alkd data import alkdrec FOLDER` the others)."""
    from alkd_tui.pipeline.dataset_export import export_dataset

    data = export_dataset(state(ctx).store(), name, folder, format)

    def human() -> None:
        written = ", ".join(f"{f} ({n:,})" for f, n in data["files"].items())
        out.print(f"exported {data['dataset']} to {data['folder']}: {written}")

    OutputMode(json=json).result(data, human)


@data_app.command("list")
def list_(ctx: typer.Context, json: JsonOpt = False) -> None:
    """List the datasets with their split sizes."""
    rows = datasets.list_datasets(state(ctx).store())

    def human() -> None:
        if not rows:
            err.print(f"no datasets in {state(ctx).store().where} (import one with `alkd data import`)")
            return
        table = Table(
            "id",
            "name",
            "format",
            "train",
            "valid",
            "test",
            "items",
            "clicks",
            "titles",
            "created (UTC)",
        )
        for r in rows:
            s = r.sessions
            table.add_row(
                str(r.id), r.name, r.format, f"{s.get('train', 0):,}", f"{s.get('valid', 0):,}",
                f"{s.get('test', 0):,}", f"{r.items:,}", f"{r.clicks:,}", f"{r.items_with_titles:,}",
                r.created_at[:16].replace("T", " "),
            )  # fmt: skip
        out.print(table)

    OutputMode(json=json).result({"datasets": rows}, human)


def _show(d: DatasetSummary) -> None:
    s = d.sessions
    table = Table(
        show_header=False,
        box=None,
        title=f"[bold]{d.name}[/] ({d.format})",
        title_justify="left",
    )
    table.add_row(
        "sessions",
        f"{s.get('total', 0):,}  (train {s.get('train', 0):,} / valid {s.get('valid', 0):,} / test {s.get('test', 0):,})",
    )
    table.add_row("items", f"{d.items:,}  ({d.items_with_titles:,} with titles)")
    table.add_row("clicks", f"{d.clicks:,}")
    if d.description:
        table.add_row("description", d.description)
    table.add_row("source", d.source or "")
    pre = (d.options or {}).get("preprocessing", {})
    table.add_row("preprocessing", ", ".join(f"{k}={v}" for k, v in pre.items() if v is not None))
    length = d.session_length or {}
    if length:
        table.add_row(
            "session length",
            f"min {length['min']}, median {length['median']:g}, mean {length['mean']:g}, p90 {length['p90']:g}, max {length['max']}",
        )
    out.print(table)
    hist = length.get("histogram", {})
    if hist:
        peak = max(hist.values()) or 1
        h = Table("clicks", "sessions", "", box=None, title="session length", title_justify="left")
        for k, v in hist.items():
            h.add_row(k, f"{v:,}", "█" * max(0, round(30 * v / peak)))
        out.print(h)
    if d.top_items:
        t = Table(
            "item",
            "title",
            "train clicks",
            box=None,
            title="most clicked in training",
            title_justify="left",
        )
        for it in d.top_items:
            t.add_row(it["item"], it["title"] or "", f"{it['train_clicks']:,}")
        out.print(t)


@data_app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name or id.", show_default=False)],
    json: JsonOpt = False,
) -> None:
    """Show a dataset: split sizes, items, clicks, titles, session lengths, top items."""
    data = datasets.show_dataset(state(ctx).store(), name)
    OutputMode(json=json).result(data, lambda: _show(data))


@data_app.command("delete")
def delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name or id.", show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    json: JsonOpt = False,
) -> None:
    """Delete a dataset with its sessions and what was derived from them."""
    store = state(ctx).store()
    datasets.get_dataset(store, name)
    if not yes and not typer.confirm(
        f"Delete dataset {name!r} and everything derived from it?", err=True
    ):
        raise typer.Exit(1)
    OutputMode(json=json).result(
        datasets.delete_dataset(store, name), lambda: err.print(f"deleted {name}")
    )


@data_app.command("fetch")
def fetch(
    ctx: typer.Context,
    dataset: Annotated[
        str, typer.Argument(help="What to fetch: movielens-100k.", show_default=False)
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="Dataset name (default: the dataset's).")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a dataset of the same name.")
    ] = False,
    session_gap: Annotated[
        float | None, typer.Option(help="Seconds of inactivity that end a user's session (default: 3600).")
    ] = None,
    json: JsonOpt = False,
    jsonl: JsonlOpt = False,
) -> None:
    """Download a public dataset from the package registry, print its licence, import it."""
    from alkd_tui.pipeline.fetch import FETCHABLE, fetch_dataset

    if dataset not in FETCHABLE:
        raise BadInputError(f"cannot fetch {dataset!r} (known: {', '.join(FETCHABLE)})")
    mode = OutputMode(json=json, jsonl=jsonl)
    with reporter(mode) as report:
        result = fetch_dataset(
            state(ctx).store(),
            dataset,
            name=name,
            replace=replace,
            session_gap=session_gap,
            report=report,
        )
    err.print(result.licence or "", markup=False)
    mode.result(result, lambda: _show(result))
