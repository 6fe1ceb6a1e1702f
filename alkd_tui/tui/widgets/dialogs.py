"""Small modal dialogs: confirm a consequential action, show an unexpected error, and the base
of the dialogs that fill in a job's options."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

ResultT = TypeVar("ResultT")


class FormDialog(ModalScreen[ResultT]):
    """A dialog of fields that dismisses with what `arguments()` makes of them.

    Subclasses bind `submit` and `cancel` (e.g. ctrl+s and escape) and give their two buttons
    the classes `submit` and `cancel`. A `ValueError` from `arguments()` is shown as a warning
    and the dialog stays open; cancelling dismisses with None.
    """

    def arguments(self) -> ResultT:
        """The dialog's result from its fields; ValueError names a field that is wrong."""
        raise NotImplementedError

    def action_submit(self) -> None:
        try:
            self.dismiss(self.arguments())
        except ValueError as exc:
            self.notify(str(exc), severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)  # type: ignore[arg-type]

    @on(Button.Pressed, ".submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, ".cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


class ConfirmDialog(ModalScreen[bool]):
    """Ask yes or no; dismisses with True for yes."""

    DEFAULT_CSS = """
    ConfirmDialog {
        align: center middle;
    }
    ConfirmDialog > Vertical {
        width: 70;
        height: auto;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    ConfirmDialog .buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    ConfirmDialog Button {
        margin-left: 2;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Go ahead"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="Cancel"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", variant="warning", id="yes")
                yield Button(f"{self.no} (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ErrorDialog(ModalScreen[None]):
    """An unexpected failure, in full (what a user can cause is a notification instead)."""

    DEFAULT_CSS = """
    ErrorDialog {
        align: center middle;
    }
    ErrorDialog > Vertical {
        width: 90%;
        max-width: 110;
        height: auto;
        max-height: 80%;
        border: thick $error;
        background: $surface;
        padding: 1 2;
    }
    ErrorDialog VerticalScroll {
        height: auto;
        max-height: 20;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "dismiss", "Close", id="error.close", tooltip="Close this message"),
    ]

    def __init__(self, title: str, detail: str) -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]{escape(self.title_text)}[/b]")
            with VerticalScroll():
                yield Static(self.detail, markup=False)
            yield Static("[dim]Esc closes this message.[/dim]")
