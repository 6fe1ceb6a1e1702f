"""Shared helpers for the pydantic models that configure each step."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from alkd_tui.errors import BadInputError

M = TypeVar("M", bound=BaseModel)


def validation_message(exc: ValidationError, prefix: str = "--") -> str:
    """The first problem of a pydantic validation error as one line, named as an option."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
    name = prefix + field.replace("_", "-") if field else "options"
    return f"{name}: {err['msg']}"


def build(model: type[M], values: dict[str, Any], prefix: str = "--") -> M:
    """Validate `values` into `model`, turning a validation error into one `BadInputError` line."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise BadInputError(validation_message(exc, prefix)) from None
