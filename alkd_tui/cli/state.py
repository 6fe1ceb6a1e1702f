"""What the global options decide, shared by every command through the Typer context."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from alkd_tui.store import Store, open_store


@dataclass
class CliState:
    """The database (from `--db`, `ALKD_DB` or the default: a SQLite file's path or a
    PostgreSQL URL) and the opened store."""

    db: str
    _store: Store | None = field(default=None, repr=False)

    def store(self) -> Store:
        """The store, opened (and upgraded to the newest schema) on first use."""
        if self._store is None:
            self._store = open_store(self.db)
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


def current_db() -> str | None:
    """The running command's database as messages name it, once its global options were read."""
    from alkd_tui.store.engine import shown

    return None if _current is None else shown(_current.db)


def state(ctx: typer.Context) -> CliState:
    """The `CliState` of the running command."""
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj
