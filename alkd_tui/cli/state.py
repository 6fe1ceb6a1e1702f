"""What the global options decide, shared by every command through the Typer context."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer

from alkd_tui.store import Store, open_store


@dataclass
class CliState:
    """The database path (from `--db`, `ALKD_DB` or the default) and the opened store."""

    db_path: Path
    _store: Store | None = field(default=None, repr=False)

    def store(self) -> Store:
        """The store, opened (and upgraded to the newest schema) on first use."""
        if self._store is None:
            self._store = open_store(self.db_path)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


_current: CliState | None = None


def set_current(cli_state: CliState) -> None:
    """Remember the running command's state (its database path names the database in errors)."""
    global _current
    _current = cli_state


def current_db_path() -> Path | None:
    """The running command's database path, once its global options were read."""
    return None if _current is None else _current.db_path


def state(ctx: typer.Context) -> CliState:
    """The `CliState` of the running command."""
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj
