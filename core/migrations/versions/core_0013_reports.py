"""core_reports: members report content to the moderators; a profile hidden by them

Revision ID: core_0013
Revises: core_0012
Create Date: 2026-12-04 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "core_0013"
down_revision: str | Sequence[str] | None = "core_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "core_reports"
OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    # add_column is an ALTER TABLE on both backends: never a batch copy of users (core_0007)
    op.add_column(
        "users",
        sa.Column("profile_hidden_at", core.api.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("snapshot_title", sa.String(length=300), nullable=False),
        sa.Column("snapshot_text", sa.Text(), nullable=False),
        sa.Column("snapshot_url", sa.String(length=500), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", core.api.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "reason IN ('spam', 'harassment', 'inappropriate', 'personal_data', 'other')",
            name=op.f(f"ck_{TABLE}_reason"),
        ),
        sa.CheckConstraint(
            "state IN ('open', 'hidden', 'dismissed', 'restored')", name=op.f(f"ck_{TABLE}_state")
        ),
        sa.CheckConstraint("length(text) <= 2000", name=op.f(f"ck_{TABLE}_text_length")),
        sa.CheckConstraint(
            "(state = 'open' AND decided_at IS NULL) "
            "OR (state <> 'open' AND decided_at IS NOT NULL)",
            name=op.f(f"ck_{TABLE}_decided_when_closed"),
        ),
        *(
            sa.ForeignKeyConstraint(
                [column],
                ["users.id"],
                name=op.f(f"fk_{TABLE}_{column}_users"),
                ondelete="SET NULL",
            )
            for column in ("reporter_id", "author_id", "decided_by_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(
        "uq_core_reports_open",
        TABLE,
        ["reporter_id", "kind", "item_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index("ix_core_reports_state", TABLE, ["state", "created_at"])
    op.create_index("ix_core_reports_reporter", TABLE, ["reporter_id", "created_at"])
    op.create_index("ix_core_reports_item", TABLE, ["kind", "item_id"])


def downgrade() -> None:
    op.drop_table(TABLE)
    op.execute("ALTER TABLE users DROP COLUMN profile_hidden_at")
