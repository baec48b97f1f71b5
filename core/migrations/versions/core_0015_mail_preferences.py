"""mail kinds: each member's choice per kind, mails held for the daily digest, and the kind
and unsubscribe address of each outbox mail

Revision ID: core_0015
Revises: core_0014
Create Date: 2026-12-04 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "core_0015"
down_revision: str | Sequence[str] | None = "core_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFERENCES = "core_mail_preferences"
HELD = "core_held_mails"


def upgrade() -> None:
    op.create_table(
        PREFERENCES,
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=80), nullable=False),
        sa.Column("choice", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "choice IN ('now', 'digest', 'off')", name=op.f(f"ck_{PREFERENCES}_choice")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f(f"fk_{PREFERENCES}_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f(f"pk_{PREFERENCES}")),
    )
    op.create_table(
        HELD,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=80), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("created_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{HELD}_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{HELD}")),
    )
    op.create_index("ix_core_held_mails_due_at", HELD, ["due_at"])
    op.create_index("ix_core_held_mails_user_id_due_at", HELD, ["user_id", "due_at"])
    op.add_column("outbox_mails", sa.Column("kind", sa.String(length=80), nullable=True))
    op.add_column(
        "outbox_mails", sa.Column("unsubscribe_url", sa.String(length=500), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox_mails") as batch:
        batch.drop_column("unsubscribe_url")
        batch.drop_column("kind")
    op.drop_table(HELD)
    op.drop_table(PREFERENCES)
