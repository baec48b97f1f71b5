"""mentoring part 6: a mentor's identity check by staff (``mentoring_verifications``)

Revision ID: mentoring_0006
Revises: mentoring_0005
Create Date: 2026-12-04 19:00:00.000000

With the setting ``verification = "staff"`` (the default) only mentors whose identity a
coordinator verified are listed in the directory and can receive or accept requests.

Mentors who already offer mentoring when this runs are recorded as **verified**: they were
admitted under the rules of their time, members may be waiting on their answer or mentored
by them, and hiding every one of them from the directory at once (until each sends a
document) would stop the programme overnight. An operator who wants them checked too can
reject them one by one from the console later. Their rows hold no document, and the
decision names no coordinator (``decided_by_id`` is empty).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "mentoring_0006"
down_revision: str | Sequence[str] | None = "mentoring_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "mentoring_verifications"
PENDING = "state = 'pending'"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("by_mail", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("document_name", sa.String(length=64), nullable=True),
        sa.Column("document_type", sa.String(length=32), nullable=True),
        sa.Column("submitted_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", core.api.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'verified', 'rejected')", name=op.f(f"ck_{TABLE}_state")
        ),
        sa.CheckConstraint(
            "document_name IS NULL OR state = 'pending'",
            name=op.f(f"ck_{TABLE}_document_until_decided"),
        ),
        sa.CheckConstraint(
            "state <> 'pending' OR document_name IS NOT NULL OR by_mail",
            name=op.f(f"ck_{TABLE}_pending_has_proof"),
        ),
        sa.CheckConstraint(
            "(document_name IS NULL) = (document_type IS NULL)",
            name=op.f(f"ck_{TABLE}_document_typed"),
        ),
        sa.CheckConstraint(
            "(state = 'pending') = (decided_at IS NULL)", name=op.f(f"ck_{TABLE}_decided_when")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{TABLE}_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f(f"fk_{TABLE}_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(
        "ix_mentoring_verifications_queue",
        TABLE,
        ["submitted_at"],
        unique=False,
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )
    _verify_todays_mentors()


def _verify_todays_mentors() -> None:
    members = sa.table(
        "mentoring_members", sa.column("user_id"), sa.column("wants_to_mentor", sa.Boolean())
    )
    checks = sa.table(
        TABLE,
        sa.column("user_id"),
        sa.column("state"),
        sa.column("submitted_at"),
        sa.column("decided_at"),
    )
    now = sa.literal(core.api.utcnow(), core.api.UTCDateTime(timezone=True))
    op.execute(
        checks.insert().from_select(
            ["user_id", "state", "submitted_at", "decided_at"],
            sa.select(members.c.user_id, sa.literal("verified"), now, now).where(
                members.c.wants_to_mentor.is_(True)
            ),
        )
    )


def downgrade() -> None:
    op.drop_index(
        "ix_mentoring_verifications_queue",
        table_name=TABLE,
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )
    op.drop_table(TABLE)
