"""A thinking model's reasoning, kept with its answer (never parsed).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("teacher_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("thinking", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("teacher_request", schema=None) as batch_op:
        batch_op.drop_column("thinking")
