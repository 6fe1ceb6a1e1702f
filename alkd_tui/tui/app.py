"""The `alkd-tui` application: one mode per area (Datasets, Select, Label, Review, Runs,
Audit) over one store, a header with the database and the teacher's live state, the command
palette with the app's own commands, F1 help, and keys with ids so they can be remapped.

Everything the areas do goes through `alkd_tui.pipeline` (in thread workers) or through
`alkd ... --jsonl` subprocesses (`alkd_tui.tui.background_jobs`); the TUI decides nothing itself.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tomllib
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.worker import Worker, WorkerState, get_current_worker

from alkd_tui.errors import AlkdError, BadInputError
from alkd_tui.paths import default_db
from alkd_tui.pipeline.teacher_server import (
    ServerStatus,
    normalize_host,
    probe_server,
    teacher_host,
)
from alkd_tui.pipeline.views import (
    choose_device,
    database_failure,
    load_model_code,
    open_database,
)
from alkd_tui.terminal_text import clean
from alkd_tui.tui.clean_filter import CleanText
from alkd_tui.tui.commands import AlkdCommands
from alkd_tui.tui.heap import SETTLE_S, HeapKeeper
from alkd_tui.tui.screens.audit import AuditScreen
from alkd_tui.tui.screens.base import AreaScreen
from alkd_tui.tui.screens.datasets import DatasetShown, DatasetsLoaded, DatasetsScreen
from alkd_tui.tui.screens.help import HelpScreen, keys_table
from alkd_tui.tui.screens.label import LabelScreen
from alkd_tui.tui.screens.review import ReviewScreen
from alkd_tui.tui.screens.runs import RunsScreen
from alkd_tui.tui.screens.select import SelectScreen
from alkd_tui.tui.widgets.dialogs import ErrorDialog
from alkd_tui.tui.widgets.header import AREAS

if TYPE_CHECKING:
    from alkd_tui.pipeline.views import Store

DEFAULT_TEACHER_MODEL = "smollm2:135m"
KEYMAP_ENV = "ALKD_TUI_KEYMAP"

__all__ = ["AlkdApp", "DatasetShown", "DatasetsLoaded", "TeacherProbed", "main"]


class TeacherProbed(Message):
    """The poller asked the teacher's server for its version."""

    def __init__(self, status: ServerStatus) -> None:
        super().__init__()
        self.status = status


def _area_binding(number: int, area: str, title: str) -> Binding:
    return Binding(
        str(number), f"area('{area}')", title, show=False, id=f"area.{area}",
        tooltip=f"Switch to the {title} area",
    )  # fmt: skip


_CLEAN_TEXT = CleanText()


class AlkdApp(App[None]):
    """alkd's terminal UI."""

    CSS_PATH = "app.tcss"
    TITLE = "alkd"
    #: Below 120 columns the screens take the class `-narrow` (app.tcss lays them out for it).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (120, "-wide")]
    MODES: ClassVar[dict[str, Any]] = {
        "datasets": DatasetsScreen,
        "select": SelectScreen,
        "label": LabelScreen,
        "review": ReviewScreen,
        "runs": RunsScreen,
        "audit": AuditScreen,
    }
    DEFAULT_MODE: ClassVar[str] = "datasets"
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {AlkdCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        *(_area_binding(n, area, title) for n, (area, title) in enumerate(AREAS, start=1)),
        Binding("f1", "help", "Help", id="help", tooltip="What this area does and its keys"),
        Binding(
            "ctrl+r", "refresh", "Refresh", id="refresh", tooltip="Read this area's data again"
        ),
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave alkd-tui (running jobs go on)"),
    ]

    teacher_status: var[ServerStatus | None] = var(None)
    """What the last probe of the teacher's server found (None: not probed yet)."""
    teacher_model: var[str] = var(DEFAULT_TEACHER_MODEL)
    """The LLM the Label area asks (shown in the header)."""
    selection: var[str | None] = var(None)
    """The selection the areas default to (the last one created or chosen)."""
    models_changed: var[int] = var(0)
    """Counts the models trained here: the areas that offer models read them again."""
    labels_changed: var[int] = var(0)
    """Counts the label jobs that ended here: the areas that show labels read them again."""

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then `CleanText`: no control character from data reaches the
        terminal."""
        return [*super().get_line_filters(), _CLEAN_TEXT]

    def __init__(
        self,
        store: Store,
        *,
        db_label: str | None = None,
        host: str | None = None,
        poll_teacher: bool = True,
        poll_seconds: float = 5.0,
        keymap: dict[str, str] | None = None,
        warm_up: bool = True,
    ) -> None:
        super().__init__()
        self.store = store
        self.db_label = db_label or store.label
        self.teacher_host = normalize_host(host) if host else teacher_host()
        self.poll_teacher = poll_teacher
        self.poll_seconds = poll_seconds
        self._keymap = keymap or {}
        self._warm_up = warm_up
        self.last_error: BaseException | None = None
        self.sub_title = self.db_label
        self.heap = HeapKeeper()
        self.train_request: dict[str, Any] | None = None  # a Train dialog to open in Runs

    def on_mount(self) -> None:
        self.call_after_refresh(self.heap.settle)
        self.set_interval(SETTLE_S, self.heap.settle, name="heap")
        if self._keymap:
            self.set_keymap(self._keymap)
        if self.poll_teacher:
            self.poll_teacher_server()
        if self._warm_up:
            self.warm_up()

    def on_unmount(self) -> None:
        self.heap.release()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(
            event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp
        ):
            self.heap.touched()  # no full garbage collection while the user is busy
        await super().on_event(event)

    @work(thread=True, exclusive=True, exit_on_error=False, group="warm-up")
    def warm_up(self) -> None:
        """Load torch and the model code in the background as the app starts (loading it
        holds the interpreter for a few tenths of a second: better now than when a dialog
        opens or the first student ranks a session)."""
        load_model_code()

    def action_train(self, role: str = "", dataset: str = "") -> None:
        """Open the Train dialog of the Runs area (whose job panel follows the training)."""
        self.train_request = {"role": role or None, "dataset": dataset or None}
        if self.current_mode == "runs":
            screen = self.screen
            if isinstance(screen, RunsScreen):
                screen.open_train_request()
        else:
            self.switch_mode("runs")  # the area opens the dialog once it has read its data

    @work(thread=True, exclusive=True, exit_on_error=False, group="teacher-poll")
    def poll_teacher_server(self) -> None:
        worker = get_current_worker()
        while not worker.is_cancelled:
            self.post_message(TeacherProbed(probe_server(self.teacher_host)))
            deadline = time.monotonic() + self.poll_seconds
            while time.monotonic() < deadline and not worker.is_cancelled:
                time.sleep(0.1)

    def on_teacher_probed(self, message: TeacherProbed) -> None:
        self.teacher_status = message.status

    def action_area(self, area: str) -> None:
        """Switch to an area (its screen keeps its state between visits)."""
        if area in self.MODES and self.current_mode != area:
            self.switch_mode(area)

    def action_help(self) -> None:
        screen = self.screen
        if not isinstance(screen, AreaScreen):
            return
        title = dict(AREAS).get(screen.AREA, "alkd")
        self.push_screen(HelpScreen(title, screen.HELP, keys_table(screen)))

    def action_refresh(self) -> None:
        screen = self.screen
        if isinstance(screen, AreaScreen):
            screen.action_refresh()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Notifications show their text as it is (never as markup): they quote names, paths
        and error messages, in which `[...]` is text. Textual's own (a screenshot saved, how to
        quit) keep their markup: it is Textual's, not data."""
        caller = sys._getframe(1).f_globals.get("__name__", "")
        own = caller == "textual" or caller.startswith("textual.")
        super().notify(
            message, title=title, severity=severity, timeout=timeout, markup=markup and own
        )

    def worker_failed(self, worker: Worker[Any]) -> None:
        """The one place a failed worker ends up: a notification for what a user can cause,
        an error dialog with the traceback for anything else."""
        if worker.state != WorkerState.ERROR or worker.error is None:
            return
        error = worker.error
        self.last_error = error
        if not isinstance(error, AlkdError):
            error = database_failure(error, self.store) or error
        if isinstance(error, AlkdError):
            self.notify(str(error), title="error", severity="error", timeout=10)
            return
        detail = "".join(traceback.format_exception(error))
        self.push_screen(ErrorDialog(f"{type(error).__name__}: {error}", detail))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.worker_failed(event.worker)


def read_keymap(path: Path) -> dict[str, str]:
    """A keymap file: TOML of binding id = "keys" (e.g. `"review.accept" = "a,enter"`)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"keymap {path}: {exc}") from None
    table = data.get("keys", data)
    if not all(isinstance(v, str) for v in table.values()):
        raise BadInputError(f'keymap {path}: expected binding id = "keys" pairs')
    return dict(table)


def main(argv: list[str] | None = None) -> int:
    """Run `alkd-tui [--db PATH|URL] [--keymap FILE]`."""
    parser = argparse.ArgumentParser(prog="alkd-tui", description="alkd's terminal UI")
    parser.add_argument(
        "--db",
        default=None,
        metavar="PATH|URL",
        help="the database: a SQLite file or a PostgreSQL URL (default: $ALKD_DB or the user "
        "data folder)",
    )
    parser.add_argument(
        "--device",
        default=None,
        metavar="auto|cpu|cuda",
        help="where recommenders score and its jobs train (default: $ALKD_DEVICE, else auto)",
    )
    parser.add_argument(
        "--keymap",
        type=Path,
        default=None,
        help=f'a TOML file of binding id = "keys" (default: ${KEYMAP_ENV})',
    )
    args = parser.parse_args(argv)
    try:
        keymap_path = args.keymap or (
            Path(os.environ[KEYMAP_ENV]) if os.environ.get(KEYMAP_ENV) else None
        )
        keymap = read_keymap(keymap_path) if keymap_path else None
        choose_device(args.device)  # its background jobs compute there too
        store = open_database(args.db or default_db())
    except AlkdError as exc:
        print(f"alkd-tui: error: {clean(str(exc))}", file=sys.stderr)
        return int(exc.exit_code)
    with store:
        AlkdApp(store, keymap=keymap).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
