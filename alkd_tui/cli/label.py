"""`alkd label`: ask a teacher about the sessions of a selection."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from alkd_tui.cli.options import (
    ASK,
    BUDGET,
    JsonlOpt,
    JsonOpt,
    KeepAlive,
    NumCtx,
    Retries,
    Temperature,
    Timeout,
)
from alkd_tui.cli.output import OutputMode, err, out, reporter
from alkd_tui.cli.state import state


def label(
    ctx: typer.Context,
    selection: Annotated[str, typer.Argument(help="Selection name or id.", show_default=False)],
    teacher: Annotated[
        str,
        typer.Option(
            "--teacher",
            help="ollama (an Ollama server or the local compatibility server), replay (recorded answers) or tr (the teacher recommender, no LLM).",
        ),
    ] = "ollama",
    model: Annotated[
        str | None,
        typer.Option("--model", help="ollama: the model name, e.g. llama3.1:8b or smollm2:135m."),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option("--file", help="replay: JSONL of recorded answers (session_id, ranking)."),
    ] = None,
    host: Annotated[
        list[str] | None,
        typer.Option(
            "--host",
            help="ollama: server URL (repeat to spread requests) (default: $OLLAMA_HOST, else 127.0.0.1:11434).",
        ),
    ] = None,
    candidates_from: Annotated[
        str | None,
        typer.Option(
            "--candidates-from",
            help="The teacher recommender whose top items are the candidates (default: the selection's).",
        ),
    ] = None,
    kappa: Annotated[
        int, typer.Option(help="Candidates shown (soft labels: at most 20).", rich_help_panel=ASK)
    ] = 50,
    n: Annotated[
        int, typer.Option("--n", help="Items the teacher ranks.", rich_help_panel=ASK)
    ] = 25,
    soft: Annotated[
        bool,
        typer.Option(
            "--soft",
            help="Soft labels: one lettered choice, distribution from logprobs.",
            rich_help_panel=ASK,
        ),
    ] = False,
    hints: Annotated[
        bool,
        typer.Option(
            "--hints",
            help="Include the hints this model wrote for the dataset (`alkd teacher hints`) in prompts.",
            rich_help_panel=ASK,
        ),
    ] = False,
    force_target: Annotated[
        bool,
        typer.Option(
            "--force-target",
            help="The paper's defect: put the true target among the candidates.",
            rich_help_panel=ASK,
        ),
    ] = False,
    temperature: Temperature = 0.0,
    seed: Annotated[int, typer.Option(help="Generation seed.", rich_help_panel=ASK)] = 0,
    num_ctx: NumCtx = 4096,
    num_predict: Annotated[
        int | None,
        typer.Option(help="Output token cap (default: enough for N ids).", rich_help_panel=ASK),
    ] = None,
    keep_alive: KeepAlive = "10m",
    concurrency: Annotated[
        int, typer.Option(help="Requests in flight at once.", rich_help_panel=BUDGET)
    ] = 1,
    max_requests: Annotated[
        int | None,
        typer.Option(
            help="Send at most this many requests now; the rest stay pending.",
            rich_help_panel=BUDGET,
        ),
    ] = None,
    max_tokens: Annotated[
        int | None,
        typer.Option(
            help="Stop sending once this job used this many tokens.", rich_help_panel=BUDGET
        ),
    ] = None,
    retries: Retries = 3,
    timeout: Timeout = 300.0,
    json: JsonOpt = False,
    jsonl: JsonlOpt = False,
) -> None:
    """Ask a teacher to rank next items for a selection's sessions; resumable, never asks twice."""
    from alkd_tui.pipeline.labels import label_selection

    options = {
        "kappa": kappa, "n": n, "soft": soft, "hints": hints, "force_target": force_target,
        "temperature": temperature, "seed": seed, "num_ctx": num_ctx, "num_predict": num_predict,
        "concurrency": concurrency, "max_requests": max_requests, "max_tokens": max_tokens,
        "retries": retries, "timeout": timeout, "keep_alive": keep_alive,
    }  # fmt: skip
    mode = OutputMode(json=json, jsonl=jsonl)
    with reporter(mode) as report:
        result = label_selection(
            state(ctx).store(), selection, teacher, model=model, file=file, hosts=host,
            candidates_from=candidates_from, options=options, report=report,
        )  # fmt: skip

    def human() -> None:
        t = result["teacher"]
        err.print(f"labelled [bold]{result['name']}[/] with {t['description']}")
        table = Table(show_header=False, box=None)
        for key in (
            "requests",
            "cached",
            "answered_now",
            "failed_now",
            "answered",
            "failed",
            "pending",
            "unanswerable",
        ):
            table.add_row(key.replace("_", " "), str(result[key]))
        table.add_row("parse", ", ".join(f"{k} {v}" for k, v in sorted(result["parse"].items())))
        lat = result["latency_s"]
        if lat["p50"] is not None:
            table.add_row(
                "latency", f"p50 {lat['p50']:.3f} s, p90 {lat['p90']:.3f} s, max {lat['max']:.3f} s"
            )
        table.add_row(
            "tokens",
            f"{result['tokens']['prompt']:,} prompt, {result['tokens']['output']:,} output",
        )
        out.print(table)

    mode.result(result, human)
