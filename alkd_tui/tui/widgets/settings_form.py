"""Form fields made from a settings model's fields (`alkd_tui.pipeline.settings.field_specs`):
a label above each field, a select for a choice, a checkbox for a yes/no, an input for a
number or a text, each starting at the model's default. Nothing about a setting is written
here: its kind, choices, default and help come from the model.

`values()` gives what the form holds (an emptied field is left out: the model's default, or
its recipe, applies); `pipeline.settings.settings_from_form` validates them into the
settings object that a job's command line is made from (`settings_argv`).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Checkbox, Input, Label, Select, Static

from alkd_tui.pipeline.settings import FieldSpec
from alkd_tui.tui.widgets.form import FormInput, FormSelect


def short(text: str, width: int = 40) -> str:
    """`text` cut at a word to at most `width` characters, ending in "…" where it was cut."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if text[width - 1] != " ":  # the cut is inside a word: drop its start
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:(") + "…"


def _text(value: Any) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


class SettingsFields(Vertical):
    """The fields of some settings, as form controls with ids `{prefix}-{field name}`."""

    DEFAULT_CSS = """
    SettingsFields { height: auto; }
    SettingsFields > Label { margin-top: 1; color: $text-muted; }
    SettingsFields > Checkbox { margin-top: 1; }
    SettingsFields > .field-help { color: $text-muted; padding: 0 1; }
    """

    def __init__(
        self,
        specs: list[FieldSpec],
        *,
        prefix: str,
        placeholders: dict[str, str] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.specs = specs
        self.prefix = prefix
        self.placeholders = dict(placeholders or {})

    def control_id(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            label = spec.name.replace("_", " ")
            if spec.kind == "bool":
                yield Checkbox(
                    label, value=bool(spec.default), tooltip=spec.help, id=self.control_id(spec.name)
                )
                yield Static(spec.help, classes="field-help", markup=False)
                continue
            yield Label(label)
            if spec.kind == "choice":
                yield FormSelect(
                    [(c, c) for c in spec.choices],
                    value=spec.default if spec.default is not None else Select.NULL,
                    allow_blank=spec.default is None,
                    prompt=self.placeholders.get(spec.name, "default"),
                    id=self.control_id(spec.name),
                )
            else:
                kind = {"int": "integer", "float": "number"}.get(spec.kind, "text")
                yield FormInput(
                    value=_text(spec.default),
                    type=kind,  # type: ignore[arg-type]
                    placeholder=self.placeholders.get(spec.name, short(spec.help)),
                    tooltip=spec.help,
                    id=self.control_id(spec.name),
                )

    def values(self) -> dict[str, Any]:
        """The settings the form holds, as text or choices (empty fields left out)."""
        found: dict[str, Any] = {}
        for spec in self.specs:
            widget = self.query_one(f"#{self.control_id(spec.name)}")
            if isinstance(widget, Checkbox):
                found[spec.name] = widget.value
            elif isinstance(widget, Select):
                if widget.value is not Select.NULL:
                    found[spec.name] = widget.value
            elif isinstance(widget, Input) and widget.value.strip():
                found[spec.name] = widget.value.strip()
        return found

    def set_values(
        self, values: dict[str, Any], *, placeholders: dict[str, str] | None = None
    ) -> None:
        """Show `values` (a field not among them shows its default) and new placeholders."""
        self.placeholders.update(placeholders or {})
        for spec in self.specs:
            widget = self.query_one(f"#{self.control_id(spec.name)}")
            value = values.get(spec.name, spec.default)
            if isinstance(widget, Checkbox):
                widget.value = bool(value)
            elif isinstance(widget, Select):
                with widget.prevent(Select.Changed):
                    if value is None or value not in spec.choices:
                        widget.clear()
                    else:
                        widget.value = value
                widget.prompt = self.placeholders.get(spec.name, widget.prompt)
            elif isinstance(widget, Input):
                widget.value = _text(value)
                widget.placeholder = self.placeholders.get(spec.name, widget.placeholder)
