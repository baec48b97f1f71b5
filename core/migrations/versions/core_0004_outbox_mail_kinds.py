"""what kind of mail each outbox row is, and an index to count an address's recent ones

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-12-03 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0004"
down_revision: str | Sequence[str] | None = "core_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # rows written before this revision keep no kind: they are older than any window
    op.add_column("outbox_mails", sa.Column("template", sa.String(length=120), nullable=True))
    op.create_index(
        "ix_outbox_mails_recent",
        "outbox_mails",
        ["to_address", "template", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_mails_recent", table_name="outbox_mails")
    with op.batch_alter_table("outbox_mails") as batch:
        batch.drop_column("template")
