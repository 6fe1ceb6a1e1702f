"""One error type per kind of failure, and the exit codes they map to.

Errors a user can cause carry a message of one plain line that names what and where;
the CLI prints it without a traceback and exits with the error's code.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

from alkd_tui.terminal_text import cut


class ExitCode(IntEnum):
    """Exit codes of every `alkd` command (a stable machine interface)."""

    OK = 0
    FAILED = 1
    BAD_INPUT = 2
    UNREACHABLE = 3
    INTERRUPTED = 130


#: The longest an error line gets (a value quoted from a damaged file can be megabytes).
MAX_MESSAGE = 1000


def shown(value: object, limit: int = 60) -> str:
    """`repr(value)` for a message, cut to `limit` characters (with an ellipsis)."""
    return cut(repr(value), limit)


class AlkdError(Exception):
    """Base of every error a user can cause or meet; `str(err)` is one line."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str) -> None:
        super().__init__(cut(" ".join(message.split()), MAX_MESSAGE))  # always one line

    @property
    def message(self) -> str:
        return str(self)


class BadInputError(AlkdError):
    """A file, option or name given by the user is wrong (exit 2)."""

    exit_code = ExitCode.BAD_INPUT


class InputFileError(BadInputError):
    """A problem inside an input file, located by path and, where known, line."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None) -> None:
        where = f"{path}" if line is None else f"{path} line {line}"
        self.path = str(path)
        self.line = line
        self.problem = problem
        super().__init__(f"{where}: {problem}")


class NotFoundError(BadInputError):
    """A named object (dataset, model, selection, run) does not exist (exit 2)."""


class StoreError(AlkdError):
    """The database cannot be opened or used (exit 3)."""

    exit_code = ExitCode.UNREACHABLE


class SchemaTooNewError(StoreError):
    """The database was written by a newer alkd than this one."""


class StepFailedError(AlkdError):
    """A pipeline step failed for a reason other than bad input (exit 1)."""


class TeacherUnavailableError(AlkdError):
    """The teacher cannot be used: server down, model not pulled, file missing (exit 3)."""

    exit_code = ExitCode.UNREACHABLE
