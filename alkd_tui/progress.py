"""The one progress protocol every long step reports through.

Library code calls a `Reporter` with small `ProgressEvent`s and never knows who renders them:
the CLI draws rich bars on a TTY, `--jsonl` prints them as JSON lines, the TUI posts messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

EventKind = Literal["start", "advance", "end", "log"]


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One thing that happened in a step: a task started, advanced or ended, or a log line."""

    kind: EventKind
    task: str
    completed: float | None = None
    total: float | None = None
    unit: str = ""
    message: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON-ready dict (`event` names the kind)."""
        data = asdict(self)
        data["event"] = data.pop("kind")
        return {k: v for k, v in data.items() if v not in (None, "", {})}


Reporter = Callable[[ProgressEvent], None]


def silent(_event: ProgressEvent) -> None:
    """A reporter that drops every event."""


class Task:
    """Helper that reports one task's start, advances and end through a reporter."""

    def __init__(
        self, report: Reporter, name: str, total: float | None = None, unit: str = ""
    ) -> None:
        self._report = report
        self.name = name
        self.total = total
        self.unit = unit
        self.completed = 0.0
        report(ProgressEvent("start", name, completed=0, total=total, unit=unit))

    def advance(self, n: float = 1, **fields: Any) -> None:
        """Count `n` more units done and report it."""
        self.completed += n
        self._report(
            ProgressEvent(
                "advance", self.name, self.completed, self.total, self.unit, fields=fields
            )
        )

    def end(self, message: str = "", **fields: Any) -> None:
        """Report the task finished."""
        self._report(
            ProgressEvent(
                "end", self.name, self.completed, self.total, self.unit, message, fields=fields
            )
        )

    def log(self, message: str) -> None:
        """Report a human-readable line about this task."""
        self._report(ProgressEvent("log", self.name, message=message))
