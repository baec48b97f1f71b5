"""each job's last failure (job_failures), for the console's System section

Revision ID: core_0011
Revises: core_0010
Create Date: 2026-12-04 17:15:00

``job_runs`` keeps each job's last run that completed; a run that raised left no trace but a
log line. An admin now sees the last error beside the job, without reading the server's logs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "core_0011"
down_revision: str | Sequence[str] | None = "core_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "job_failures"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("job_id", sa.String(length=120), nullable=False),
        sa.Column("failed_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f(f"pk_{TABLE}")),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
