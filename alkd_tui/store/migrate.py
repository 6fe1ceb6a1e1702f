"""Schema migrations from code: upgrade a database to head on open, refuse a newer one.

The Alembic scripts live in `migrations/` at the top of the source tree and ship as
`alkd_tui/migrations` in a wheel; `migrations_dir()` finds whichever is there.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError, ProgrammingError

from alkd_tui.errors import SchemaTooNewError, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

_PACKAGE_DIR = Path(__file__).resolve().parent.parent

#: The newest revision in migrations/versions. Opening a database at this revision skips
#: Alembic entirely (a test keeps it equal to the scripts' head).
HEAD_REVISION = "0009"


def migrations_dir() -> Path:
    """Where the Alembic scripts are: inside the installed package, else the source tree."""
    for candidate in (_PACKAGE_DIR / "migrations", _PACKAGE_DIR.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise StoreError(f"alkd is installed without its migrations (looked beside {_PACKAGE_DIR})")


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config that points at the project's migrations (and `engine`, if given)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def head_revision() -> str:
    """The newest schema revision this alkd knows (read from the migration scripts)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database, or None for an unversioned one."""
    with engine.connect() as conn:
        try:
            row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        except (OperationalError, ProgrammingError):  # no alembic_version table (SQLite, PostgreSQL)
            return None
    return None if row is None else str(row[0])


def check_schema(engine: Engine) -> str | None:
    """The database's schema revision, after refusing (reading only) a database this alkd
    must not change: one written by a newer alkd (`SchemaTooNewError`) and a non-empty one
    that alkd did not create (`StoreError`)."""
    before = current_revision(engine)
    if before == HEAD_REVISION:
        return before
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    where = engine.url.database if engine.dialect.name == "sqlite" else engine.url.render_as_string(hide_password=True)
    if before is None:
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        if tables:
            raise StoreError(
                f"{where} is a database that alkd did not create (tables: {', '.join(sorted(tables)[:5])})"
            )
    elif before != head and before not in {rev.revision for rev in script.walk_revisions()}:
        raise SchemaTooNewError(
            f"{where} has schema revision {before}, which this alkd does not know (it knows "
            f"up to {head}): the database was written by a newer alkd; upgrade alkd to use it"
        )
    return before


def upgrade_to_head(engine: Engine) -> tuple[str | None, str]:
    """Bring the database at `engine` to the newest schema; returns (before, after).

    Refuses, changing nothing, what `check_schema` refuses. The upgrade is one write
    transaction (`writer`: the integrity check first, then the write lock)."""
    before = check_schema(engine)
    if before == HEAD_REVISION:
        return before, before
    from alembic import command

    from alkd_tui.store.engine import writer

    config = alembic_config()
    with writer(engine).begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, head_revision()
