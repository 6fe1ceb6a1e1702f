"""The store's tables (SQLModel). The schema changes only through Alembic revisions.

Item sequences are packed int32 blobs (see `alkd_tui.store.packing`); item references inside a
dataset are item *indices* (`item.idx`), 0-based, so arrays and models use them directly.
Timestamps are UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

# A constraint naming convention, so that Alembic batch migrations on SQLite can find and
# alter constraints by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SPLITS = ("train", "valid", "test")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the store keeps UTC)."""
    return datetime.now(UTC)


def sql_timestamp(moment: datetime) -> str:
    """A UTC time as the store writes it in raw SQL (what SQLAlchemy's SQLite DateTime reads)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _fk(target: str, *, nullable: bool, ondelete: str = "CASCADE", use_alter: bool = False) -> Any:
    """A foreign-key column to `target` (e.g. "dataset.id") that follows deletes.

    `use_alter` marks the one link of a reference cycle (model <-> selection) so that table
    sorting can break it; SQLite still declares it inline.
    """
    return Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey(target, ondelete=ondelete, use_alter=use_alter),
            nullable=nullable,
            index=True,
        ),
    )


class Dataset(SQLModel, table=True):
    """An imported session dataset: where it came from, how it was preprocessed, its stats."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    format: str
    source: str = ""
    description: str = ""
    options: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    stats: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    n_items: int = 0
    n_sessions: int = 0
    n_clicks: int = 0
    alkd_version: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class Item(SQLModel, table=True):
    """One item of a dataset: its index (what models use), external id, title, attributes."""

    __table_args__ = (
        UniqueConstraint("dataset_id", "idx"),
        UniqueConstraint("dataset_id", "external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int | None = _fk("dataset.id", nullable=False)
    idx: int
    external_id: str
    title: str | None = None
    attributes: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class Session(SQLModel, table=True):
    """One instance of a dataset: the ordered input items and the next item (the target)."""

    __table_args__ = (
        UniqueConstraint("dataset_id", "idx"),
        Index("ix_session_dataset_split", "dataset_id", "split"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int | None = _fk("dataset.id", nullable=False)
    idx: int
    external_id: str
    split: str
    items: bytes = Field(sa_type=LargeBinary)
    length: int
    target: int
    start_time: float | None = None


class Run(SQLModel, table=True):
    """One invocation of a pipeline job: its config, environment, status and timings."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    name: str = ""
    status: str = "running"
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    env: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    seed: int | None = None
    error: str | None = None
    steps: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """Per step of a pipeline run: status, seconds, what it made."""
    parent_id: int | None = _fk("run.id", nullable=True, ondelete="SET NULL")
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    owner: str | None = None
    """The process running it (`alkd_tui.store.owners`): a run whose process is gone is
    shown as interrupted, not running."""


class RunMetric(SQLModel, table=True):
    """One figure a run measured (a step's metric on a split, a timing, a count)."""

    __table_args__ = (UniqueConstraint("run_id", "step", "split", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = _fk("run.id", nullable=False)
    step: str = ""
    split: str = ""
    name: str
    value: float


class RecModel(SQLModel, table=True):
    """A trained recommender: teacher, student or distilled; its config, checkpoint, metrics."""

    __tablename__ = "model"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    dataset_id: int | None = _fk("dataset.id", nullable=False)
    architecture: str
    role: str = Field(index=True)
    dim: int
    status: str = "training"
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    history: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    """Per epoch: loss, validation figures, seconds (the learning curve); distillation's
    starts with epoch 0, the student before it."""
    checkpoint_path: str | None = None
    checkpoint_sha256: str | None = None
    parent_id: int | None = _fk("model.id", nullable=True, ondelete="SET NULL")
    selection_id: int | None = _fk(
        "selection.id", nullable=True, ondelete="SET NULL", use_alter=True
    )
    run_id: int | None = _fk("run.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


class Selection(SQLModel, table=True):
    """A budget of sessions chosen for the LLM by a strategy, with the policy's figures."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    dataset_id: int | None = _fk("dataset.id", nullable=False)
    strategy: str
    budget: int
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    pool_size: int = 0
    size: int = 0
    k_star: int | None = None
    gamma: float | None = None
    teacher_model_id: int | None = _fk("model.id", nullable=True, ondelete="SET NULL")
    run_id: int | None = _fk("run.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    reviews_required: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    """Reviewers who must decide each label before the decision stands (docs/review.md)."""


class SelectionMember(SQLModel, table=True):
    """One session of a selection: when it was drawn and why (probability, gain, difficulty)."""

    __tablename__ = "selection_member"
    __table_args__ = (
        UniqueConstraint("selection_id", "order"),
        UniqueConstraint("selection_id", "session_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    selection_id: int | None = _fk("selection.id", nullable=False)
    session_id: int | None = _fk("session.id", nullable=False)
    order: int
    probability: float | None = None
    gain: float | None = None
    difficulty: float | None = None


class TeacherRequest(SQLModel, table=True):
    """One question to a teacher and its answer: everything needed to audit and replay it.

    Stored before it is sent and updated as the answer arrives; unique on (model, prompt
    hash), so an identical prompt is never asked of the same model twice.
    """

    __tablename__ = "teacher_request"
    __table_args__ = (UniqueConstraint("model_name", "prompt_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int | None = _fk("session.id", nullable=False)
    selection_id: int | None = _fk("selection.id", nullable=True, ondelete="SET NULL")
    run_id: int | None = _fk("run.id", nullable=True, ondelete="SET NULL")
    backend: str
    model_name: str
    model_digest: str | None = None
    server_version: str | None = None
    template_version: str = ""
    prompt_hash: str
    prompt: str = ""
    candidates: list[int] | None = Field(default=None, sa_type=JSON)
    options: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="pending", index=True)
    raw_response: str | None = None
    thinking: str | None = None
    """A thinking model's reasoning before its answer (kept, never parsed)."""
    ranking: list[int] | None = Field(default=None, sa_type=JSON)
    scores: list[float] | None = Field(default=None, sa_type=JSON)
    parse_status: str | None = None
    parse_notes: list[str] | None = Field(default=None, sa_type=JSON)
    latency_s: float | None = None
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    attempts: int = 0
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    answered_at: datetime | None = None
    claimed_by: str | None = Field(default=None, index=True)
    """The labelling job asking it now (`alkd_tui.store.owners`); other jobs skip it."""
    claimed_until: float | None = None
    """Unix time the claim lasts until: the job renews it while it lives; a claim that ran
    out, or whose process is gone, may be taken over."""


class ReviewEvent(SQLModel, table=True):
    """One review decision on a teacher answer; append-only (the DB refuses updates/deletes).

    A label's review status is its latest event.
    """

    __tablename__ = "review_event"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = _fk("teacher_request.id", nullable=False)
    action: str
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    note: str = ""
    reviewer: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class Hint(SQLModel, table=True):
    """A short hint an LLM wrote from the teacher recommender's rankings (the paper's Module 1)."""

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int | None = _fk("dataset.id", nullable=False)
    model_name: str
    text: str
    request_id: int | None = _fk("teacher_request.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


class RequestUse(SQLModel, table=True):
    """Which sessions a teacher request answers. Sessions whose questions are identical (same
    prompt to the same model) share one request, and so one answer and one review status.

    `selection_id` and `created_at` are those of the job that first linked the two; `used_at`
    is when a labelling job last did (a job whose question was answered before registers it
    again). A session's label from a model is its most recently used answered request
    (`store.label_use.SELECTION_USES`)."""

    __tablename__ = "request_use"
    __table_args__ = (UniqueConstraint("request_id", "session_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = _fk("teacher_request.id", nullable=False)
    session_id: int | None = _fk("session.id", nullable=False)
    selection_id: int | None = _fk("selection.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime = Field(default_factory=utcnow)
