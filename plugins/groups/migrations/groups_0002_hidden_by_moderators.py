"""groups and forum posts the moderators hid after a member's report

Revision ID: groups_0002
Revises: groups_0001
Create Date: 2026-12-04 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "groups_0002"
down_revision: str | Sequence[str] | None = "groups_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("groups_groups", "groups_forum_posts")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table, sa.Column("hidden_at", core.api.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN hidden_at")
