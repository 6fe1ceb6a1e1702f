"""How many reviewers must decide each label of a selection before its decision stands
(1: the latest decision stands, as before).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("selection", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reviews_required", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    with op.batch_alter_table("selection", schema=None) as batch_op:
        batch_op.drop_column("reviews_required")
