"""Compact form controls (no borders: one line each), so a whole form fits on a screen."""

from __future__ import annotations

from typing import Any

from textual.containers import VerticalScroll
from textual.widgets import Input, Select


class FormInput(Input):
    """A one-line input; left empty, a number field is not marked invalid (blank keeps the
    default its placeholder names)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("compact", True)
        kwargs.setdefault("valid_empty", True)
        super().__init__(*args, **kwargs)


class FormSelect(Select[str]):
    """A one-line select."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("compact", True)
        super().__init__(*args, **kwargs)


class Form(VerticalScroll):
    """A column of controls; scrolls to the focused one but takes no focus itself (so tab
    goes straight to the first control)."""

    can_focus = False
