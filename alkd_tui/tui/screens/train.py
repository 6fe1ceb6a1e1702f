"""The Train dialog: a session recommender to train on a dataset, as an `alkd train ... --jsonl`
job. Its fields are `TrainSettings`' own (`SettingsFields`): a setting left as it is takes the
recipe for the architecture and role, which the field shows as its placeholder, so a model
trained here is the one `alkd train` (and `alkd run`) trains with the same choices."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from alkd_tui.errors import AlkdError
from alkd_tui.pipeline.settings import (
    TrainSettings,
    field_specs,
    recipe_hints,
    settings_argv,
    settings_from_form,
)
from alkd_tui.tui.screens.base import WorkerFailures
from alkd_tui.tui.widgets.dialogs import FormDialog
from alkd_tui.tui.widgets.form import Form, FormInput, FormSelect
from alkd_tui.tui.widgets.settings_form import SettingsFields

ROLE_TEXT = {
    "teacher": "teacher recommender: ranks difficulty, proposes candidates",
    "student": "student: the small model that gets distilled",
    "baseline": "baseline: for comparison",
}
#: The training settings the dialog offers (the others keep their defaults).
FIELDS = (
    "architecture",
    "dim",
    "loss",
    "negatives",
    "epochs",
    "batch_size",
    "lr",
    "patience",
    "seed",
)


class TrainDialog(WorkerFailures, FormDialog[dict[str, Any] | None]):
    """Dismisses with {"args": the `alkd train` arguments, "title": ...} or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Train", id="train.submit", tooltip="Start the training job"),
        Binding("escape", "cancel", "Cancel", id="train.cancel", tooltip="Close without training"),
    ]

    def __init__(
        self,
        datasets: list[str],
        *,
        dataset: str | None = None,
        role: str = "teacher",
    ) -> None:
        super().__init__()
        self.datasets = datasets
        self.dataset = dataset if dataset in datasets else (datasets[0] if datasets else None)
        self.role = role
        self.specs = [s for s in field_specs(TrainSettings) if s.name in FIELDS]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="train-dialog"):
            yield Label(
                "[b]Train a recommender[/b] (`alkd train`)  [dim]ctrl+s starts, esc cancels[/dim]"
            )
            with Form():
                yield Label("Dataset")
                yield FormSelect([(d, d) for d in self.datasets], id="tr-dataset", prompt="no dataset: import one (1, i)",
                                 value=self.dataset or Select.NULL)  # fmt: skip
                yield Label("Role")
                yield FormSelect([(text, role) for role, text in ROLE_TEXT.items()], id="tr-role",
                                 value=self.role, allow_blank=False)  # fmt: skip
                yield SettingsFields(self.specs, prefix="tr", id="tr-settings")
                yield Label("name")
                yield FormInput(placeholder="DATASET-ARCH-ROLE-dDIM-sSEED", id="tr-name")
                yield Checkbox("force: train again even if this exact model exists", id="tr-force")
            yield Static(
                "[dim]A setting left empty takes the recipe for the architecture and role (shown "
                "grey): the best measured (docs/recommenders.md). Training again with the same "
                "settings reuses the model.[/dim]"
            )
            with Horizontal(classes="buttons"):
                yield Button("Train (ctrl+s)", variant="primary", id="tr-go", classes="submit")
                yield Button("Cancel (esc)", id="tr-cancel", classes="cancel")

    def on_mount(self) -> None:
        self._show_recipe()
        self.query_one("#tr-role", Select).focus()

    @on(Select.Changed, "#tr-role")
    @on(Select.Changed, "#tr-architecture")
    def _recipe_changed(self) -> None:
        self._show_recipe()

    def _show_recipe(self) -> None:
        """The placeholders: the recipe's values for the architecture and role."""
        fields = self.query_one(SettingsFields)
        role = str(self.query_one("#tr-role", Select).value)
        architecture = self.query_one("#tr-architecture", Select).value
        hints = recipe_hints(str(architecture), role)
        for spec in self.specs:
            if spec.name in hints:
                widget = self.query_one(f"#tr-{spec.name}")
                if isinstance(widget, Input):
                    widget.placeholder = f"recipe: {hints[spec.name]}"
                elif isinstance(widget, Select):
                    widget.prompt = f"recipe: {hints[spec.name]}"
        fields.placeholders.update({k: f"recipe: {v}" for k, v in hints.items()})

    def arguments(self) -> dict[str, Any]:
        """The job the form describes (ValueError naming what is missing or wrong)."""
        dataset = self.query_one("#tr-dataset", Select).value
        if dataset is Select.NULL:
            raise ValueError("choose a dataset (import one in the Datasets area: 1, then i)")
        role = str(self.query_one("#tr-role", Select).value)
        try:
            settings = settings_from_form(TrainSettings, self.query_one(SettingsFields).values())
        except AlkdError as exc:
            raise ValueError(str(exc)) from None
        args = ["train", "--dataset", str(dataset), "--role", role, *settings_argv(settings)]
        name = self.query_one("#tr-name", Input).value.strip()
        if name:
            args += ["--name", name]
        if self.query_one("#tr-force", Checkbox).value:
            args.append("--force")
        dim = settings.dim or recipe_hints(settings.architecture, role)["dim"]
        title = f"train {role} {settings.architecture} d{dim} on {dataset}"
        return {"args": args, "title": title, "role": role, "dataset": str(dataset)}
