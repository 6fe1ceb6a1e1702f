"""The Train dialog: a session recommender to train on a dataset (architecture, dimension,
role, loss, epochs, seed...), as the arguments of an `alkd train ... --jsonl` job.

The choices and the defaults per role come from `pipeline.views.train_choices` (the settings
`alkd run` trains its teacher recommender and its student with: the paper's dimensions 100
and 10), so a model trained here is the one `alkd run` would train, and reuse.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from alkd_tui.pipeline.views import train_choices
from alkd_tui.tui.screens.base import WorkerFailures
from alkd_tui.tui.widgets.dialogs import FormDialog
from alkd_tui.tui.widgets.form import Form, FormInput, FormSelect

ROLE_TEXT = {
    "teacher": "teacher recommender: ranks difficulty, proposes candidates",
    "student": "student: the small model that gets distilled",
    "baseline": "baseline: for comparison",
}
# The form's number fields: (label, option of `alkd train`, key of the defaults, input type).
FIELDS = (
    ("dim", "--dim", "dim", "integer"),
    ("epochs", "--epochs", "epochs", "integer"),
    ("batch size", "--batch-size", "batch_size", "integer"),
    ("lr", "--lr", "lr", "number"),
    ("patience", "--patience", "patience", "integer"),
    ("seed", "--seed", "seed", "integer"),
)
# Settings passed as the defaults give them, so the model is the one `alkd run` trains.
HIDDEN = (("--metric", "metric"), ("--max-len", "max_len"))


class TrainDialog(WorkerFailures, FormDialog[dict[str, Any] | None]):
    """Dismisses with {"args": the `alkd train` arguments, "title": ...} or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Train", id="train.submit", tooltip="Start the training job"),
        Binding("escape", "cancel", "Cancel", id="train.cancel", tooltip="Close without training"),
    ]

    class ChoicesLoaded(Message):
        """The architectures and the defaults per role (internal)."""

        def __init__(self, choices: dict[str, Any]) -> None:
            super().__init__()
            self.choices = choices

    def __init__(
        self,
        datasets: list[str],
        *,
        dataset: str | None = None,
        role: str = "teacher",
        choices: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.datasets = datasets
        self.dataset = dataset if dataset in datasets else (datasets[0] if datasets else None)
        self.role = role
        self.choices = choices

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
                yield Label("Architecture")
                yield FormSelect([], id="tr-architecture", prompt="loading the model code…")
                for label, _, key, kind in FIELDS:
                    with Horizontal(classes="field"):
                        yield Label(label)
                        yield FormInput(type=kind, id=f"tr-{key}")  # type: ignore[arg-type]
                yield Label("Loss")
                yield FormSelect([], id="tr-loss", prompt="loss")
                yield Label("BPR negatives")
                yield FormSelect([], id="tr-negatives", prompt="negatives")
                with Horizontal(classes="field"):
                    yield Label("name")
                    yield FormInput(placeholder="DATASET-ARCH-ROLE-dDIM-sSEED", id="tr-name")
                yield Checkbox("force: train again even if this exact model exists", id="tr-force")
            yield Static(
                "[dim]The defaults are what `alkd run` trains: the paper's teacher recommender has "
                "dimension 100, its student 10. Training again with the same settings reuses the model.[/dim]"
            )
            with Horizontal(classes="buttons"):
                yield Button("Train (ctrl+s)", variant="primary", id="tr-go", classes="submit")
                yield Button("Cancel (esc)", id="tr-cancel", classes="cancel")

    def on_mount(self) -> None:
        if self.choices is None:
            self.load_choices()
        else:
            self._fill(self.choices)
        self.query_one("#tr-role", Select).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="train-choices")
    def load_choices(self) -> None:
        self.post_message(self.ChoicesLoaded(train_choices()))

    def on_train_dialog_choices_loaded(self, message: ChoicesLoaded) -> None:
        self.choices = message.choices
        self._fill(message.choices)

    def _fill(self, choices: dict[str, Any]) -> None:
        for key, options in (("architecture", choices["architectures"]), ("loss", choices["losses"]),
                             ("negatives", choices["negatives"])):  # fmt: skip
            widget = self.query_one(f"#tr-{key}", Select)
            with widget.prevent(Select.Changed):
                widget.set_options([(o, o) for o in options])
        self._defaults(str(self.query_one("#tr-role", Select).value))

    def _defaults(self, role: str) -> None:
        """Fill the form with the role's defaults."""
        if self.choices is None:
            return
        defaults = self.choices["defaults"].get(role) or self.choices["defaults"]["student"]
        for key in ("architecture", "loss", "negatives"):
            widget = self.query_one(f"#tr-{key}", Select)
            with widget.prevent(Select.Changed):
                widget.value = defaults[key]
        for _, _, key, _ in FIELDS:
            self.query_one(f"#tr-{key}", Input).value = str(defaults[key])

    @on(Select.Changed, "#tr-role")
    def _role_changed(self, event: Select.Changed) -> None:
        self._defaults(str(event.value))

    def arguments(self) -> dict[str, Any]:
        """The job the form describes (ValueError naming what is missing)."""
        if self.choices is None:
            raise ValueError("the model code is still loading: a moment")
        dataset = self.query_one("#tr-dataset", Select).value
        if dataset is Select.NULL:
            raise ValueError("choose a dataset (import one in the Datasets area: 1, then i)")
        role = str(self.query_one("#tr-role", Select).value)
        values = {
            k: self.query_one(f"#tr-{k}", Select).value
            for k in ("architecture", "loss", "negatives")
        }
        args = ["train", "--dataset", str(dataset), "--role", role, "--model", str(values["architecture"]),
                "--loss", str(values["loss"]), "--negatives", str(values["negatives"])]  # fmt: skip
        for label, flag, key, _ in FIELDS:
            value = self.query_one(f"#tr-{key}", Input).value.strip()
            if not value:
                raise ValueError(f"give the {label}")
            args += [flag, value]
        defaults = self.choices["defaults"].get(role) or self.choices["defaults"]["student"]
        for flag, key in HIDDEN:
            args += [flag, str(defaults[key])]
        name = self.query_one("#tr-name", Input).value.strip()
        if name:
            args += ["--name", name]
        if self.query_one("#tr-force", Checkbox).value:
            args.append("--force")
        dim = self.query_one("#tr-dim", Input).value.strip()
        title = f"train {role} {values['architecture']} d{dim} on {dataset}"
        return {"args": args, "title": title, "role": role, "dataset": str(dataset)}
