"""The `alkd` command: global options, sub-commands, and one place that turns errors into
one line and an exit code."""

from __future__ import annotations

import gc
import os
import sys
from typing import Annotated

import typer

from alkd_tui import __version__
from alkd_tui.cli import interrupts
from alkd_tui.cli.audit import audit
from alkd_tui.cli.curve import curve
from alkd_tui.cli.data import data_app
from alkd_tui.cli.db import db_app
from alkd_tui.cli.distill import distill
from alkd_tui.cli.export import export_app
from alkd_tui.cli.label import label
from alkd_tui.cli.models import eval_, models_app, train
from alkd_tui.cli.review import review_app
from alkd_tui.cli.run import run, runs_app
from alkd_tui.cli.select import select_, selections_app
from alkd_tui.cli.state import CliState, current_db, set_current
from alkd_tui.cli.teacher import teacher_app
from alkd_tui.errors import AlkdError, ExitCode
from alkd_tui.paths import DB_ENV, FILES_ENV, database, default_db
from alkd_tui.rec.device import DEVICE_ENV
from alkd_tui.terminal_text import clean

app = typer.Typer(
    name="alkd",
    help="Active LLM-based knowledge distillation for session-based recommendation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(data_app, name="data")
app.add_typer(db_app, name="db")
app.add_typer(models_app, name="models")
app.add_typer(review_app, name="review")
app.command("train")(train)
app.command("eval")(eval_)
app.command("label")(label)
app.command("distill")(distill)
app.command("audit")(audit)
app.command("curve")(curve)
app.command("run")(run)
app.add_typer(runs_app, name="runs")
app.add_typer(export_app, name="export")
app.command("select")(select_)
app.add_typer(selections_app, name="selections")
app.add_typer(teacher_app, name="teacher")


def _version(value: bool) -> None:
    if value:
        print(f"alkd {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help=f"The database: a SQLite file, or a PostgreSQL URL (postgresql://USER@HOST/NAME; "
            f"its files go to ${FILES_ENV}). Default: ${DB_ENV}, else alkd.db in your data folder.",
            metavar="PATH|URL",
            show_default=False,
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            help="Where recommenders train, distil, evaluate and score: auto (a CUDA GPU when "
            f"torch sees one, else the CPU), cpu or cuda. Default: ${DEVICE_ENV}, else auto.",
            metavar="auto|cpu|cuda",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Active LLM-based knowledge distillation for session-based recommendation."""
    from alkd_tui.rec.device import choose_device, compute_device

    choose_device(device)  # resolved when a model first needs it; `cuda` is checked now
    if device == "cuda":
        compute_device()
    ctx.obj = CliState(db=database(db) if db else default_db())
    set_current(ctx.obj)
    ctx.call_on_close(ctx.obj.close)


def _fail(message: str, code: int) -> int:
    print(f"alkd: error: {clean(message)}", file=sys.stderr, flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run `alkd` with `argv` (default: the process's arguments); returns the exit code."""
    interrupts.reset()
    try:
        # Without standalone mode, Click returns the code of a `typer.Exit` (Typer turns
        # Ctrl-C into Exit(130)) instead of exiting.
        code = app(args=argv, prog_name="alkd", standalone_mode=False)
    except AlkdError as exc:
        return _fail(exc.message, exc.exit_code)
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        return _fail("interrupted", ExitCode.INTERRUPTED)
    except typer.TyperException as exc:  # usage errors: Click's own message, exit 2
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            print(f"alkd: error: {clean(str(exc))}", file=sys.stderr)
        return int(getattr(exc, "exit_code", ExitCode.BAD_INPUT))
    except BrokenPipeError:
        # Output piped into a command that stopped reading (e.g. `| head`): not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
    except Exception as exc:
        from alkd_tui.store.failures import describe

        problem = describe(exc, current_db())
        if problem is not None:  # locked, full, damaged: one line, never the SQL
            return _fail(problem.message, problem.exit_code)
        if os.environ.get("ALKD_DEBUG"):
            raise
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (set ALKD_DEBUG=1 for a traceback)",
            ExitCode.FAILED,
        )
    if code == ExitCode.INTERRUPTED:
        return _fail("interrupted", ExitCode.INTERRUPTED)
    return code if isinstance(code, int) else ExitCode.OK


def console() -> None:
    """The `alkd` console script: run, then exit with the code."""
    interrupts.install()
    code = main()
    # Everything made so far lives until exit: freezing it spares the interpreter's final
    # garbage collections walking it all (about a quarter second on every command).
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    console()
