"""A command's options made from a settings model (`alkd_tui.config.field_specs`): each field
becomes one option with the field's type, default, help and bounds, so nothing about a
setting is written again here. The command receives the validated settings object.

    @settings_options(TrainSettings)
    def train(ctx: typer.Context, dataset: ..., settings: TrainSettings, json: JsonOpt = False): ...
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.markup import escape

from alkd_tui.cli.parsing import parse_assignments
from alkd_tui.config import FieldSpec, build, field_specs

F = TypeVar("F", bound=Callable[..., Any])

_TYPES: dict[str, Any] = {
    "int": int,
    "float": float,
    "str": str,
    "path": Path,
    "bool": bool,
    "choice": str,
}


def option_help(spec: FieldSpec, note: str | None = None) -> str:
    """A field's help as the CLI shows it: its docstring, its bounds and, where the model says
    where an unset value comes from, that (rich markup escaped: the text is data)."""
    text = spec.help
    bounds = spec.bounds()
    if bounds:
        text += f" ({bounds})"
    if note:
        text += f" [default: {note}]"
    return escape(text)


def _parameter(spec: FieldSpec, panel: str | None, note: str | None) -> inspect.Parameter:
    decls = [spec.flag]
    if spec.kind == "bool" and spec.default:
        decls = [f"{spec.flag}/--no-{spec.flag.removeprefix('--')}"]
    extra: dict[str, Any] = {}
    if spec.kind in ("list", "assignments"):
        annotation: Any = list[str] | None
        # A list with items by default (the curve's fractions) keeps them; an empty one is None.
        default: Any = list(spec.default) if spec.kind == "list" and spec.default else None
        if spec.kind == "assignments":
            extra["metavar"] = "KEY=VALUE"
    else:
        # A choice is text here and checked by the model, which names what is wrong in one line.
        base = _TYPES[spec.kind]
        annotation = base | None if spec.optional or spec.default is None else base
        if spec.kind == "choice":
            extra["metavar"] = "|".join(spec.choices)
        default = spec.default
    option = typer.Option(
        *decls,
        help=option_help(spec, note),
        rich_help_panel=spec.panel or panel,
        show_default=spec.default is not None and spec.kind not in ("list", "assignments"),
        **extra,
    )
    return inspect.Parameter(
        spec.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[annotation, option],
    )


def _given(context: Any, name: str) -> bool:
    """Whether the user gave option `name` (on the command line or in its environment)."""
    source = context.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT", "PROMPT")


def settings_options(
    model: type[BaseModel],
    *,
    param: str = "settings",
    exclude: Iterable[str] = (),
    panel: str | None = None,
) -> Callable[[F], F]:
    """Give the decorated command one option per field of `model` (but `exclude`); the command
    gets the validated settings as its parameter `param`. A field's value on the command line
    is validated by the model: a wrong one is one line naming the option (exit 2)."""
    skip = set(exclude)
    specs = [s for s in field_specs(model) if s.in_cli and s.name not in skip]

    def decorate(func: F) -> F:
        signature = inspect.signature(func)
        hints = typing.get_type_hints(func, include_extras=True)  # strings made objects
        own = [
            p.replace(annotation=hints.get(name, p.annotation))
            for name, p in signature.parameters.items()
            if name != param
        ]
        clash = {p.name for p in own} & {s.name for s in specs}
        if clash:
            raise TypeError(f"{func.__name__}: {sorted(clash)} are both parameters and settings")

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            context = next(
                (a for a in [*args, *kwargs.values()] if hasattr(a, "get_parameter_source")), None
            )
            values: dict[str, Any] = {}
            for spec in specs:
                value = kwargs.pop(spec.name)
                if context is not None and not _given(context, spec.name):
                    continue  # the model's default: the settings know what was given
                if spec.kind == "assignments":
                    value = parse_assignments(value or [], spec.flag)
                elif spec.kind == "list":
                    value = list(value or [])
                values[spec.name] = value
            kwargs[param] = build(model, values)
            return func(*args, **kwargs)

        # The command's required parameters (what it acts on), the settings in field order,
        # then the command's other options (--name, --force, --json...).
        required = [p for p in own if p.default is inspect.Parameter.empty]
        rest = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in own
            if p.default is not inspect.Parameter.empty
        ]
        notes = getattr(model, "default_note", None)
        options = [_parameter(s, panel, notes(s.name) if notes else None) for s in specs]
        parameters = [*required, *options, *rest]
        command.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=parameters, return_annotation=None
        )
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        del command.__wrapped__  # Typer must read the signature above, not the function's
        # Which settings made which options (the one-declaration test reads it).
        command.alkd_settings = [
            *getattr(func, "alkd_settings", []),
            (model, tuple(s.name for s in specs)),
        ]  # type: ignore[attr-defined]
        return command  # type: ignore[return-value]

    return decorate
