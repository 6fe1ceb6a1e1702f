"""The store as one object: an engine at head schema, and short-lived ORM sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session as OrmSession

from alkd_tui.errors import StoreError
from alkd_tui.store.engine import make_engine
from alkd_tui.store.migrate import upgrade_to_head


class Store:
    """An opened alkd database: `engine` for bulk work, `session()` for ORM work."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine

    @contextmanager
    def session(self) -> Iterator[OrmSession]:
        """An ORM session that commits on success and rolls back on any error."""
        with OrmSession(self.engine, expire_on_commit=False) as orm:
            try:
                yield orm
                orm.commit()
            except BaseException:
                orm.rollback()
                raise

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(path: str | Path) -> Store:
    """Open (creating if needed) the database at `path` and upgrade it to the newest schema."""
    db_path = Path(path).expanduser()
    engine = make_engine(db_path)
    try:
        upgrade_to_head(engine)
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig) if exc.orig is not None else str(exc)
        raise StoreError(f"cannot use database {db_path}: {reason}") from exc
    except BaseException:
        engine.dispose()
        raise
    return Store(db_path, engine)
