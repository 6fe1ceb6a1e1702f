"""How the CLI talks: data on stdout (`--json`: one document), everything human on stderr,
progress as rich bars on a TTY or JSON lines with `--jsonl`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.segment import Segment

from alkd_tui.cli import interrupts
from alkd_tui.progress import ProgressEvent, Reporter
from alkd_tui.terminal_text import clean, is_clean


class CleanConsole(Console):
    """A rich console that removes control characters from the text it prints (data: titles,
    names, answers, paths), keeping its own styling and cursor codes (`terminal_text.clean`)."""

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or is_clean(segment.text):
                yield segment
            else:
                yield Segment(clean(segment.text), segment.style, segment.control)


err = CleanConsole(stderr=True, highlight=False)
out = CleanConsole(highlight=False)


def as_json(data: Any) -> Any:
    """`data` with every typed result in it (`pipeline.results`) as its JSON form."""
    if hasattr(data, "as_json"):
        return data.as_json()
    if isinstance(data, dict):
        return {key: as_json(value) for key, value in data.items()}
    if isinstance(data, list):
        return [as_json(value) for value in data]
    return data


def emit_json(data: Any) -> None:
    """Print one JSON document on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def emit_jsonl(data: dict[str, Any]) -> None:
    """Print one JSON line on stdout, at once."""
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


@dataclass
class OutputMode:
    """What the user asked for: `--json`, `--jsonl`, or human output."""

    json: bool = False
    jsonl: bool = False

    def result(self, data: Any, human: Any = None) -> None:
        """Show a command's result: JSON on stdout, a JSON line, or `human()` for people. A
        typed result is printed as its `as_json()`."""
        data = as_json(data)
        if self.jsonl:
            emit_jsonl({"event": "result", "data": data})
        elif self.json:
            emit_json(data)
        elif human is not None:
            human()


class _RichReporter:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind == "log":
            self.progress.console.print(f"[dim]{event.task}:[/] {event.message}")
            return
        task_id = self.tasks.get(event.task)
        if event.kind == "start" or task_id is None:
            task_id = self.progress.add_task(event.task, total=event.total, info="")
            self.tasks[event.task] = task_id
        fields = "  ".join(
            f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in event.fields.items()
        )
        self.progress.update(
            task_id, completed=event.completed or 0, total=event.total, info=fields
        )
        if event.kind == "end":
            self.tasks.pop(event.task, None)
            if event.task.startswith("epoch "):  # one bar per epoch would flood the screen
                self.progress.remove_task(task_id)
                return
            self.progress.update(
                task_id, total=event.completed or 1, completed=event.completed or 1
            )


def _stderr_log(event: ProgressEvent) -> None:
    if event.kind == "log":
        print(clean(f"{event.task}: {event.message}"), file=sys.stderr, flush=True)


def _guarded(report: Reporter) -> Reporter:
    def call(event: ProgressEvent) -> None:
        interrupts.check()
        report(event)

    return call


@contextmanager
def reporter(mode: OutputMode) -> Iterator[Reporter]:
    """The progress reporter for this command: JSON lines, rich bars on a TTY, or log lines.

    Every event first checks for a pending Ctrl-C (see `alkd_tui.cli.interrupts`)."""
    if mode.jsonl:
        yield _guarded(lambda event: emit_jsonl(event.to_json()))
        return
    if not err.is_terminal:
        yield _guarded(_stderr_log)
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=err,
        transient=False,
    )
    with progress:
        yield _guarded(_RichReporter(progress))
