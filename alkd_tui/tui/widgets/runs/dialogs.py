"""The Runs area's dialogs: the comparison of two runs, a distillation job, an `alkd run` job."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from alkd_tui.errors import AlkdError
from alkd_tui.pipeline.settings import (
    DistillSettings,
    field_specs,
    settings_argv,
    settings_from_form,
)
from alkd_tui.tui.widgets.dialogs import FormDialog
from alkd_tui.tui.widgets.form import Form, FormInput, FormSelect
from alkd_tui.tui.widgets.runs.describe import describe_diff
from alkd_tui.tui.widgets.settings_form import SettingsFields

METRICS = ("recall@5", "recall@10", "ndcg@5", "ndcg@10", "mrr@10")
JOB_KINDS = ("train", "distill", "run")  # the jobs this area starts and follows


class DiffScreen(ModalScreen[None]):
    """Two runs compared."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="diff.close", tooltip="Close")
    ]

    def __init__(self, diff: dict[str, Any]) -> None:
        super().__init__()
        self.diff = diff

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(
                f"[b]run {self.diff['runs'][0]} vs run {self.diff['runs'][1]}[/b]  [dim]esc closes[/dim]"
            )
            with VerticalScroll():
                yield Static(describe_diff(self.diff))


#: The distillation settings the dialog offers (the others keep their defaults).
DISTILL_FIELDS = ("weighting", "negatives", "soft", "gt_weight", "epochs", "lr", "patience", "seed")


class DistillDialog(FormDialog[dict[str, Any] | None]):
    """Student, selection and loss options of an `alkd distill` job."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s", "submit", "Distil", id="distill.submit", tooltip="Start the distillation job"
        ),
        Binding(
            "escape", "cancel", "Cancel", id="distill.cancel", tooltip="Close without starting"
        ),
    ]

    def __init__(self, students: list[str], selections: list[str], selection: str | None) -> None:
        super().__init__()
        self.students, self.selection_names, self.selection = students, selections, selection

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("[b]Distil a student[/b]  [dim]ctrl+s starts, esc cancels[/dim]")
            with Form():
                yield Label("Student")
                yield FormSelect([(s, s) for s in self.students], id="dis-student", prompt="a trained student",
                             value=self.students[0] if self.students else Select.NULL)  # fmt: skip
                yield Label("Selection [dim](its accepted labels)[/dim]")
                yield FormSelect([(s, s) for s in self.selection_names], id="dis-selection", prompt="a labelled selection",
                             value=self.selection if self.selection in self.selection_names else Select.NULL)  # fmt: skip
                yield SettingsFields(
                    [s for s in field_specs(DistillSettings) if s.name in DISTILL_FIELDS],
                    prefix="dis",
                    id="dis-settings",
                )
                with Horizontal(classes="field"):
                    yield Label("teacher model")
                    yield FormInput(placeholder="when several teachers answered", id="dis-teacher")
                with Horizontal(classes="field"):
                    yield Label("name")
                    yield FormInput(placeholder="STUDENT-kd-SELECTION-sSEED", id="dis-name")
                yield Checkbox(
                    "force: distil again even if this exact job finished", id="dis-force"
                )
            with Horizontal(classes="buttons"):
                yield Button("Distil (ctrl+s)", variant="primary", id="dis-go", classes="submit")
                yield Button("Cancel (esc)", id="dis-cancel", classes="cancel")

    def arguments(self) -> dict[str, Any]:
        student = self.query_one("#dis-student", Select).value
        selection = self.query_one("#dis-selection", Select).value
        if student is Select.NULL or selection is Select.NULL:
            raise ValueError("choose a student and a selection")
        try:
            settings = settings_from_form(DistillSettings, self.query_one(SettingsFields).values())
        except AlkdError as exc:
            raise ValueError(str(exc)) from None
        args = [
            "distill",
            "--student",
            str(student),
            "--selection",
            str(selection),
            *settings_argv(settings),
        ]
        for field in ("teacher", "name"):
            value = self.query_one(f"#dis-{field}", Input).value.strip()
            if value:
                args += [f"--{field}", value]
        if self.query_one("#dis-force", Checkbox).value:
            args.append("--force")
        return {"args": args, "title": f"distil {student} on {selection}"}


class RunDialog(FormDialog[dict[str, Any] | None]):
    """An `alkd run`: a TOML configuration (or the default) and `--set` overrides."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s", "submit", "Run", id="run.submit", tooltip="Start the whole pipeline as a job"
        ),
        Binding("escape", "cancel", "Cancel", id="run.cancel", tooltip="Close without starting"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                "[b]Run the whole pipeline[/b] (`alkd run`)  [dim]ctrl+s starts, esc cancels[/dim]"
            )
            yield Label("Configuration file [dim](TOML; blank: the built-in default)[/dim]")
            yield FormInput(placeholder="run.toml", id="run-config")
            yield Label("Overrides [dim](KEY=VALUE, separated by spaces)[/dim]")
            yield FormInput(
                "label.teacher=tr", id="run-set", placeholder="select.budget=100 label.teacher=tr"
            )
            yield Static(
                "[dim]Steps already done with the same settings are reused. label.teacher=tr labels with the "
                "teacher recommender (no LLM); auto asks Ollama, else the local compatibility server.[/dim]"
            )
            with Horizontal(classes="buttons"):
                yield Button("Run (ctrl+s)", variant="primary", id="run-go", classes="submit")
                yield Button("Cancel (esc)", id="run-cancel", classes="cancel")

    def arguments(self) -> dict[str, Any]:
        args = ["run"]
        config = self.query_one("#run-config", Input).value.strip()
        if config:
            args.append(config)
        for item in self.query_one("#run-set", Input).value.split():
            args += ["--set", item]
        return {"args": args, "title": "alkd run " + " ".join(args[1:])}
