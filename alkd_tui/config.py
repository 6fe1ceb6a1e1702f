"""The settings models' own description of themselves, and their validation as one line.

Every step's settings are one pydantic model (type, bounds, help, default of each field,
written once). `field_specs` reads what a face needs from a model: the CLI builds its
options from it (`alkd_tui.cli.settings`), the TUI its forms (`alkd_tui.tui.widgets.
settings_form`), `alkd run` its TOML sections and `--set` keys (the same models, nested), and
`settings_argv` turns a settings object back into the command line that gives it. Field
metadata (`json_schema_extra`) may name a `flag` other than the field's own, a help `panel`,
and keep a field out of the CLI (`cli: False`) or the forms (`form: False`).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from alkd_tui.errors import BadInputError, shown

M = TypeVar("M", bound=BaseModel)

Kind = Literal["int", "float", "str", "bool", "choice", "path", "list", "assignments", "other"]


def validation_message(
    exc: ValidationError, prefix: str = "--", flags: dict[str, str] | None = None
) -> str:
    """The first problem of a pydantic validation error as one line, named as an option
    (`flags`: the flag of each field where it is not `--field-name`)."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
    if flags and field in flags:
        name = flags[field]
    else:
        name = prefix + field.replace("_", "-") if field else "options"
    if not field and err.get("type") == "value_error":  # a rule across fields: its own words
        return str(err.get("ctx", {}).get("error", err["msg"]))
    given = err.get("input")
    if err.get("type") == "literal_error":
        return f"{name} {shown(given)}: use {err.get('ctx', {}).get('expected', '')}"
    if (
        err.get("type") != "missing"
        and isinstance(given, str | int | float | bool)
        and given is not None
    ):
        return f"{name} {shown(given)}: {err['msg']}"
    return f"{name}: {err['msg']}"


def build(model: type[M], values: dict[str, Any], prefix: str = "--") -> M:
    """Validate `values` into `model`, turning a validation error into one `BadInputError` line."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        flags = {spec.name: spec.flag for spec in field_specs(model)}
        raise BadInputError(
            validation_message(exc, prefix, flags if prefix == "--" else None)
        ) from None


@dataclass(frozen=True)
class FieldSpec:
    """What a face needs to know of one setting."""

    name: str
    kind: Kind
    default: Any
    help: str
    flag: str
    panel: str | None
    choices: tuple[str, ...] = ()
    optional: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    in_cli: bool = True
    in_form: bool = True

    def bounds(self) -> str:
        """The bounds in words ("at least 1", "0 to 1"), or ""."""
        low = (
            None
            if self.minimum is None
            else f"{'above' if self.exclusive_minimum else 'at least'} {self.minimum:g}"
        )
        if low and self.maximum is not None:
            return f"{low}, at most {self.maximum:g}"
        return low or ("" if self.maximum is None else f"at most {self.maximum:g}")


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without None, whether None is allowed)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            return args[0], optional
        return typing.Union[tuple(args)], optional  # noqa: UP007
    return annotation, False


def _kind(annotation: Any) -> tuple[Kind, tuple[str, ...]]:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "choice", tuple(str(a) for a in typing.get_args(annotation))
    if annotation is bool:
        return "bool", ()
    if annotation is int:
        return "int", ()
    if annotation is float:
        return "float", ()
    if annotation is str:
        return "str", ()
    if annotation is Path:
        return "path", ()
    if origin is list and typing.get_args(annotation) in ((str,), (int,), (float,), ()):
        return "list", ()  # given as text (repeated, or comma-separated where the model splits)
    if origin is dict:
        return "assignments", ()
    if origin in (typing.Union, types.UnionType) and all(
        a in (str, int, float) for a in typing.get_args(annotation)
    ):
        return "str", ()  # a value given as text and read by the model (e.g. "10m" or 600)
    return "other", ()


def _spec(name: str, info: FieldInfo) -> FieldSpec:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    annotation, optional = _unwrap(info.annotation)
    kind, choices = _kind(annotation)
    minimum = maximum = None
    exclusive = False
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge):
            minimum = float(meta.ge)  # type: ignore[arg-type]
        elif isinstance(meta, annotated_types.Gt):
            minimum, exclusive = float(meta.gt), True  # type: ignore[arg-type]
        elif isinstance(meta, annotated_types.Le):
            maximum = float(meta.le)  # type: ignore[arg-type]
    default = None if info.is_required() else info.get_default(call_default_factory=True)
    return FieldSpec(
        name=name,
        kind=kind,
        default=default,
        help=" ".join((info.description or "").split()),
        flag=str(extra.get("flag", "--" + name.replace("_", "-"))),
        panel=extra.get("panel"),  # type: ignore[arg-type]
        choices=choices,
        optional=optional,
        minimum=minimum,
        maximum=maximum,
        exclusive_minimum=exclusive,
        in_cli=bool(extra.get("cli", kind != "other")),
        in_form=bool(extra.get("form", kind not in ("other", "assignments"))),
    )


def field_specs(model: type[BaseModel]) -> list[FieldSpec]:
    """The settings of `model`, in declaration order."""
    return [_spec(name, info) for name, info in model.model_fields.items()]


def settings_argv(settings: BaseModel, *, only_changed: bool = True) -> list[str]:
    """The command-line options that give `settings` (with `only_changed`, only the fields
    that differ from their defaults): what a face passes to the `alkd` command of the step."""
    argv: list[str] = []
    for spec in field_specs(type(settings)):
        if not spec.in_cli:
            continue
        value = getattr(settings, spec.name)
        if only_changed and value == spec.default:
            continue
        if spec.kind == "bool":
            if value:
                argv.append(spec.flag)
            elif spec.default:
                argv.append("--no-" + spec.flag.removeprefix("--"))
        elif spec.kind == "list":
            for item in value or []:
                argv += [spec.flag, str(item)]
        elif spec.kind == "assignments":
            import json

            for key, item in (value or {}).items():
                argv += [spec.flag, f"{key}={json.dumps(item)}"]
        elif value is not None:
            argv += [spec.flag, _text(value)]
    return argv


def _text(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)
