"""mentoring part 4: a proposal still unanswered when its mentorship ends is "ended"

Revision ID: mentoring_0004
Revises: mentoring_0003
Create Date: 2026-12-04 14:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "mentoring_0004"
down_revision: str | Sequence[str] | None = "mentoring_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = {
    "mentoring_agreement_versions": ("proposed", "approved", "returned", "rejected"),
    "mentoring_meeting_changes": ("proposed", "accepted", "rejected", "withdrawn"),
}
ENDED = "ended"


def upgrade() -> None:
    for table, statuses in STATUSES.items():
        _allow_statuses(table, (*statuses, ENDED))


def downgrade() -> None:
    for table, statuses in STATUSES.items():
        # the nearest earlier status: no one agreed to it
        op.execute(f"UPDATE {table} SET status = 'rejected' WHERE status = '{ENDED}'")
        _allow_statuses(table, statuses)


def _allow_statuses(table: str, statuses: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{status}'" for status in statuses)
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(f"ck_{table}_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f(f"ck_{table}_status"), f"status IN ({allowed})")
