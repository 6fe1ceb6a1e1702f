"""Where alkd keeps things by default (platformdirs), overridable by options and environment."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_path, user_data_path

APP = "alkd"
DB_ENV = "ALKD_DB"
CACHE_ENV = "ALKD_CACHE"
FILES_ENV = "ALKD_FILES"


def is_url(target: str | Path) -> bool:
    """Whether a database given as `target` is a server's URL (else a SQLite file's path)."""
    return isinstance(target, str) and "://" in target


def database(given: str) -> str:
    """A database as given (`--db`, `$ALKD_DB`): a URL as it is, a path with `~` expanded."""
    return given if is_url(given) else str(Path(given).expanduser())


def default_db() -> str:
    """`$ALKD_DB` (a SQLite file's path or a PostgreSQL URL), else `alkd.db` in the user's
    data folder."""
    env = os.environ.get(DB_ENV)
    return database(env) if env else str(user_data_path(APP) / "alkd.db")


def files_dir_for(name: str) -> Path:
    """Where the files of a server database called `name` go (checkpoints, job logs):
    `$ALKD_FILES`, else `NAME.files` in the user's data folder."""
    env = os.environ.get(FILES_ENV)
    return Path(env).expanduser() if env else user_data_path(APP) / f"{name}.files"


def cache_dir() -> Path:
    """`$ALKD_CACHE`, else alkd's folder in the user's cache folder (created on demand)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else user_cache_path(APP)


EXAMPLE_DATASET = "synthetic-games"


def example_db_path() -> Path | None:
    """The bundled example database: inside an installed package, else at the source tree's top."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "example.db", package.parent / "alkd.db.example"):
        if candidate.is_file():
            return candidate
    return None
