"""a row per login (core_login_sessions) replaces the session epoch; users.last_login_at

Revision ID: core_0010
Revises: core_0009
Create Date: 2026-12-04 17:00:00

Session cookies now name their row, so logging out ends a session on the server. Cookies
made before this revision name none: every member logs in once more after the upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "core_0010"
down_revision: str | Sequence[str] | None = "core_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "core_login_sessions"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("created_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{TABLE}_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(op.f(f"ix_{TABLE}_user_id"), TABLE, ["user_id"])
    # ALTER TABLE, never a batch copy of users (see core_0007)
    op.execute("ALTER TABLE users DROP COLUMN session_epoch")
    op.add_column(
        "users", sa.Column("last_login_at", core.api.UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    """Back to epochs: every session starts again at epoch 0."""
    op.execute("ALTER TABLE users DROP COLUMN last_login_at")
    op.add_column(
        "users", sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
    )
    op.drop_table(TABLE)
