"""`alkd teacher`: hints (the paper's Module 1) and the local Ollama-compatible server."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from alkd_tui.cli.options import JsonOpt
from alkd_tui.cli.output import OutputMode, emit_json, err, out, reporter
from alkd_tui.cli.settings import settings_options
from alkd_tui.cli.state import state
from alkd_tui.pipeline.settings import (
    GenerationSettings,
    HintSettings,
    ServeSettings,
    TeacherChoice,
)

teacher_app = typer.Typer(
    help="The LLM teacher: hints for ranking prompts, and a local Ollama-compatible server (for tests and demos).",
    no_args_is_help=True,
)


@teacher_app.command("hints")
@settings_options(TeacherChoice, param="choice", exclude={"file"})
@settings_options(HintSettings)
@settings_options(GenerationSettings, param="generation")
def hints(
    ctx: typer.Context,
    dataset: Annotated[
        str, typer.Option("--dataset", help="Dataset name or id.", show_default=False)
    ],
    choice: TeacherChoice,
    settings: HintSettings,
    generation: GenerationSettings,
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
    json: JsonOpt = False,
) -> None:
    """Ask an LLM for short hints about a dataset from the teacher recommender's rankings of
    sampled training sessions (the paper's Module 1); `alkd label --hints` uses them."""
    from alkd_tui.errors import BadInputError
    from alkd_tui.pipeline.hints import list_hints, make_hints

    mode = OutputMode(json=json)
    store = state(ctx).store()
    if list_:
        listed = list_hints(store, dataset, choice.model)

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
    with reporter(mode) as report:
        result = make_hints(
            store, dataset, teacher_model, choice, settings=settings, generation=generation,
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
@settings_options(ServeSettings)
def serve(
    ctx: typer.Context,
    settings: ServeSettings,
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
        serve_forever(settings, on_ready=ready)
    except KeyboardInterrupt:
        print(f"alkd: stopped the {SERVER_NAME}", file=sys.stderr, flush=True)
