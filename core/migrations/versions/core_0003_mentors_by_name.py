"""an index of the members who offer mentoring, by name (a directory reads a page along it)

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-11-29 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0003"
down_revision: str | Sequence[str] | None = "core_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MENTORS = "wants_to_mentor IS TRUE AND email_confirmed_at IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_users_mentors_by_name",
        "users",
        ["display_name", "id"],
        unique=False,
        sqlite_where=sa.text(MENTORS),
        postgresql_where=sa.text(MENTORS),
    )


def downgrade() -> None:
    op.drop_index("ix_users_mentors_by_name", table_name="users")
