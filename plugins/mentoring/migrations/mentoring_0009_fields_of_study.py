"""fields of study each member chose as mentor and as mentee

Revision ID: mentoring_0009
Revises: mentoring_0008
Create Date: 2026-12-04 21:30:00

The codes are those of the operator's list of fields (``fields_file``), not a table: a code
the list drops stays here, unshown, and is reported at startup.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mentoring_0009"
down_revision: str | Sequence[str] | None = "mentoring_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "mentoring_member_fields"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=6), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.CheckConstraint("role IN ('mentor', 'mentee')", name=op.f(f"ck_{TABLE}_field_role")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{TABLE}_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", "code", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index("ix_mentoring_member_fields_code", TABLE, ["code", "role"])


def downgrade() -> None:
    op.drop_index("ix_mentoring_member_fields_code", table_name=TABLE)
    op.drop_table(TABLE)
