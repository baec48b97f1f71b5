"""kudos seen and mailed

Revision ID: kudos_0002
Revises: kudos_0001
Create Date: 2026-12-04 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "kudos_0002"
down_revision: str | Sequence[str] | None = "kudos_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kudos_given", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("seen_at", core.api.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("mailed_at", core.api.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("kudos_given", schema=None) as batch_op:
        batch_op.drop_column("mailed_at")
        batch_op.drop_column("seen_at")
