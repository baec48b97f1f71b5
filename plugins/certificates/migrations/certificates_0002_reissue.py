"""certificates part 2: a revoked certificate may be reissued

A reissue is a new certificate (a new number, a new PDF) for the same goal and holder, linked
to the revoked one it replaces. So (goal, holder) is unique among the certificates that stand
(not revoked) only, and a certificate is reissued at most once.

Revision ID: certificates_0002
Revises: certificates_0001
Create Date: 2026-12-04 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "certificates_0002"
down_revision: str | Sequence[str] | None = "certificates_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "certificates_certificates"
STANDING = "revoked_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("reissued_from_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f(f"fk_{TABLE}_reissued_from_id_{TABLE}"),
            TABLE,
            ["reissued_from_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_unique_constraint(
            batch_op.f(f"uq_{TABLE}_reissued_from_id"), ["reissued_from_id"]
        )
        batch_op.drop_constraint("uq_certificates_certificates_goal_user", type_="unique")
        batch_op.create_index(
            "ix_certificates_certificates_standing_goal_user",
            ["goal_id", "user_id"],
            unique=True,
            sqlite_where=sa.text(STANDING),
            postgresql_where=sa.text(STANDING),
        )


def downgrade() -> None:
    # the reissues go: before this revision a goal had one certificate per holder
    op.execute(f"DELETE FROM {TABLE} WHERE reissued_from_id IS NOT NULL")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_certificates_certificates_standing_goal_user")
        batch_op.create_unique_constraint(
            "uq_certificates_certificates_goal_user", ["goal_id", "user_id"]
        )
        batch_op.drop_constraint(batch_op.f(f"uq_{TABLE}_reissued_from_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f(f"fk_{TABLE}_reissued_from_id_{TABLE}"), type_="foreignkey"
        )
        batch_op.drop_column("reissued_from_id")
