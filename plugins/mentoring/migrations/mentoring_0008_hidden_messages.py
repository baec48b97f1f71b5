"""chat messages the moderators hid after the other party reported them

Revision ID: mentoring_0008
Revises: mentoring_0007
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "mentoring_0008"
down_revision: str | Sequence[str] | None = "mentoring_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "mentoring_messages"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("hidden_at", core.api.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute(f"ALTER TABLE {TABLE} DROP COLUMN hidden_at")
