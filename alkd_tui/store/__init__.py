"""The store (a SQLite file or a PostgreSQL database): tables, engine, migrations (packed item sequences: `packing`)."""

from alkd_tui.store.db import Store, open_store
from alkd_tui.store.migrate import current_revision, head_revision, upgrade_to_head
from alkd_tui.store.models import (
    SPLITS,
    Dataset,
    Hint,
    Item,
    RecModel,
    RequestUse,
    ReviewEvent,
    Run,
    RunMetric,
    Selection,
    SelectionMember,
    Session,
    TeacherRequest,
    sql_timestamp,
    utcnow,
)

__all__ = [
    "SPLITS",
    "Dataset",
    "Hint",
    "Item",
    "RecModel",
    "RequestUse",
    "ReviewEvent",
    "Run",
    "RunMetric",
    "Selection",
    "SelectionMember",
    "Session",
    "Store",
    "TeacherRequest",
    "current_revision",
    "head_revision",
    "open_store",
    "sql_timestamp",
    "upgrade_to_head",
    "utcnow",
]
