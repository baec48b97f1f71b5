"""mentoring part 3: a chat message's client key, one message per sender and key

Revision ID: mentoring_0003
Revises: mentoring_0002
Create Date: 2026-12-04 12:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mentoring_0003"
down_revision: str | Sequence[str] | None = "mentoring_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Messages stored before have no key (NULL): a unique constraint lets NULLs repeat.
    with op.batch_alter_table("mentoring_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_mentoring_messages_mentorship_id_sender_id_client_key"),
            ["mentorship_id", "sender_id", "client_key"],
        )


def downgrade() -> None:
    with op.batch_alter_table("mentoring_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_mentoring_messages_mentorship_id_sender_id_client_key"), type_="unique"
        )
        batch_op.drop_column("client_key")
