"""a member's suspension by staff: since when, and until when (none: until lifted)

Revision ID: core_0009
Revises: core_0008
Create Date: 2026-12-04 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "core_0009"
down_revision: str | Sequence[str] | None = "core_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("suspended_at", "suspended_until")


def upgrade() -> None:
    # add_column is an ALTER TABLE on both backends: never a batch copy of users (core_0007)
    for name in COLUMNS:
        op.add_column("users", sa.Column(name, core.api.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for name in COLUMNS:
        op.execute(f"ALTER TABLE users DROP COLUMN {name}")
