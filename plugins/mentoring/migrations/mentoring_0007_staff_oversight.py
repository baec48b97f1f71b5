"""mentoring part 7: the staff's oversight: their nudges to stuck pairs, their changes of an
agreement

Revision ID: mentoring_0007
Revises: mentoring_0006
Create Date: 2026-12-04 18:40:00.000000

``mentoring_staff_nudges`` keeps, per pair and rule by which it is stuck, when staff last
nudged it (at most once a day). An index on ``mentoring_mentorships (created_at, id)``
serves the staff's list, newest first. A version of the agreement set by staff (an extended
end date) is marked ``by_staff``; it is approved at once, which a check keeps true.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "mentoring_0007"
down_revision: str | Sequence[str] | None = "mentoring_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONS = "mentoring_agreement_versions"
RULES = "rule IN ('request', 'agreement', 'meeting', 'end')"


def upgrade() -> None:
    op.create_table(
        "mentoring_staff_nudges",
        sa.Column("mentorship_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("sent_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(RULES, name=op.f("ck_mentoring_staff_nudges_rule")),
        sa.ForeignKeyConstraint(
            ["mentorship_id"],
            ["mentoring_mentorships.id"],
            name=op.f("fk_mentoring_staff_nudges_mentorship_id_mentoring_mentorships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["users.id"],
            name=op.f("fk_mentoring_staff_nudges_sent_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("mentorship_id", "rule", name=op.f("pk_mentoring_staff_nudges")),
    )
    op.create_index(
        "ix_mentoring_mentorships_created",
        "mentoring_mentorships",
        ["created_at", "id"],
        unique=False,
    )
    # ALTER TABLE, never a batch copy: copying the table drops the old one, and with SQLite's
    # foreign keys on that sets the meetings' amendment_id (ON DELETE SET NULL) to NULL
    false = "false" if op.get_bind().dialect.name == "postgresql" else "0"
    op.execute(
        f"ALTER TABLE {VERSIONS} ADD COLUMN by_staff BOOLEAN NOT NULL DEFAULT {false}"
        f" CONSTRAINT ck_{VERSIONS}_staff_change_in_force CHECK (NOT by_staff OR status = 'approved')"
    )


def downgrade() -> None:
    with op.batch_alter_table(VERSIONS, schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(f"ck_{VERSIONS}_staff_change_in_force"), type_="check")
        batch_op.drop_column("by_staff")
    op.drop_index("ix_mentoring_mentorships_created", table_name="mentoring_mentorships")
    op.drop_table("mentoring_staff_nudges")
