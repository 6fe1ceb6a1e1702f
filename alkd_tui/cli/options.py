"""Option types that several commands share: output modes and how a teacher is asked."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
JsonlOpt = Annotated[
    bool, typer.Option("--jsonl", help="Stream progress and the result as JSON lines on stdout.")
]

#: Help panels of the teacher options.
ASK = "Asking"
BUDGET = "Budget and robustness"

Temperature = Annotated[float, typer.Option(help="Sampling temperature.", rich_help_panel=ASK)]
NumCtx = Annotated[int, typer.Option(help="Context window (tokens).", rich_help_panel=ASK)]
KeepAlive = Annotated[
    str,
    typer.Option(
        help="ollama: how long the server keeps the model loaded after a request (10m, 1h, 300; "
        "0 unloads, -1 keeps it).",
        rich_help_panel=ASK,
    ),
]
Retries = Annotated[
    int, typer.Option(help="Retries of a transient failure.", rich_help_panel=BUDGET)
]
Timeout = Annotated[
    float, typer.Option(help="Seconds one request may take.", rich_help_panel=BUDGET)
]
