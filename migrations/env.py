"""Alembic environment for the alkd store (SQLModel metadata; batch mode on SQLite only).

alkd runs migrations from code when it opens a database (alkd_tui.store.migrate), passing its
own connection. Developers generate revisions with:

    alembic -x db=/tmp/dev.db upgrade head        (or -x db=postgresql://...)
    alembic -x db=/tmp/dev.db revision --autogenerate -m "what changed"
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import alkd_tui.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from alkd_tui.store.engine import make_engine

target_metadata = SQLModel.metadata


def _configure_and_run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters a table by copying it; PostgreSQL alters it in place.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    db = context.get_x_argument(as_dictionary=True).get("db")
    url = context.config.get_main_option("sqlalchemy.url")
    if db is None and not url:
        raise SystemExit("give the database: alembic -x db=PATH ...")
    engine = make_engine(db or url.removeprefix("sqlite:///"))
    with engine.begin() as conn:
        _configure_and_run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("alkd migrations run online only")
run_migrations_online()
