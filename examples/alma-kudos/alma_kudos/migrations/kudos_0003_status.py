"""kudos status

Revision ID: kudos_0003
Revises: kudos_0002
Create Date: 2026-12-04 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "kudos_0003"
down_revision: str | Sequence[str] | None = "kudos_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kudos_given", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), server_default="sent", nullable=False)
        )
    # kudos whose goal the receiver completed were kept (declined ones were deleted)
    op.execute(
        "UPDATE kudos_given SET status = 'kept' WHERE EXISTS (SELECT 1 FROM goals"
        " WHERE goals.key = 'kudos:' || kudos_given.id AND goals.completed_at IS NOT NULL)"
    )


def downgrade() -> None:
    # before statuses, declined and withdrawn kudos were deleted
    op.execute("DELETE FROM kudos_given WHERE status IN ('declined', 'withdrawn')")
    with op.batch_alter_table("kudos_given", schema=None) as batch_op:
        batch_op.drop_column("status")
