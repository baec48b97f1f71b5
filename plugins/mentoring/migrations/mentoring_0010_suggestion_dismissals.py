"""mentoring part 10: a mentee's dismissed suggestions ("Not for me")

Revision ID: mentoring_0010
Revises: mentoring_0009
Create Date: 2026-12-04 21:30:00

``mentoring_suggestion_dismissals`` holds one row per mentee and mentor the mentee no longer
wants suggested (its primary key keeps the pair unique); both go with either member's
account. The index on ``mentor_id`` serves the cascade when a mentor's account is deleted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "mentoring_0010"
down_revision: str | Sequence[str] | None = "mentoring_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "mentoring_suggestion_dismissals"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("mentee_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("created_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mentee_id <> mentor_id", name=op.f(f"ck_{TABLE}_not_self")),
        sa.ForeignKeyConstraint(
            ["mentee_id"],
            ["users.id"],
            name=op.f(f"fk_{TABLE}_mentee_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["users.id"],
            name=op.f(f"fk_{TABLE}_mentor_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mentee_id", "mentor_id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(op.f(f"ix_{TABLE}_mentor_id"), TABLE, ["mentor_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{TABLE}_mentor_id"), table_name=TABLE)
    op.drop_table(TABLE)
