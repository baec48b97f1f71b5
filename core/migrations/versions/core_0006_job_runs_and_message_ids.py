"""each job's last run (an overdue job runs as a scheduler starts); a mail's Message-ID kept

Revision ID: core_0006
Revises: core_0005
Create Date: 2026-12-04 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "core_0006"
down_revision: str | Sequence[str] | None = "core_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job_id", sa.String(length=120), nullable=False),
        sa.Column("last_run_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_runs")),
    )
    op.add_column("outbox_mails", sa.Column("message_id", sa.String(length=250), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_mails") as batch:
        batch.drop_column("message_id")
    op.drop_table("job_runs")
