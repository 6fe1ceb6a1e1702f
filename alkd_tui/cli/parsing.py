"""Parsing `KEY=VALUE` options."""

from __future__ import annotations

import json
from typing import Any

from alkd_tui.errors import BadInputError


def parse_value(text: str) -> Any:
    """A JSON value where the text is one (1, 0.5, true, "x", [1, 2]), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_assignments(items: list[str], option: str) -> dict[str, Any]:
    """`["a=1", "b=x"]` as `{"a": 1, "b": "x"}`; a malformed item names the option."""
    result: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInputError(f"{option} {item!r}: expected KEY=VALUE")
        result[key.strip()] = parse_value(value.strip())
    return result
