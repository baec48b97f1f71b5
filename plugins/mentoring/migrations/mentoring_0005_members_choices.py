"""mentoring part 5: whether a member offers mentoring or looks for a mentor, moved from core

Revision ID: mentoring_0005
Revises: mentoring_0004
Create Date: 2026-12-04 16:00:00.000000

Core's ``users.wants_to_mentor`` and ``users.wants_to_be_mentored`` are copied into each
member's ``mentoring_members`` row (made, with the settings' defaults, for members who chose
either and had none). Core's migration dropping them (core_0007) is marked ``after_plugins``:
it runs once this one has copied them. On a database where they are already gone (mentoring
enabled after that), there is nothing to copy.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mentoring_0005"
down_revision: str | Sequence[str] | None = "mentoring_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("wants_to_mentor", "wants_to_be_mentored")
INDEX = "ix_mentoring_members_mentors"
MENTORS = "wants_to_mentor IS TRUE"


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column(
            "mentoring_members",
            sa.Column(column, sa.Boolean(), server_default=sa.false(), nullable=False),
        )
    if _core_still_has_them():
        _copy_from_users()
    op.create_index(
        INDEX,
        "mentoring_members",
        ["user_id"],
        unique=False,
        sqlite_where=sa.text(MENTORS),
        postgresql_where=sa.text(MENTORS),
    )


def _core_still_has_them() -> bool:
    users = sa.inspect(op.get_bind()).get_columns("users")
    return set(COLUMNS) <= {column["name"] for column in users}


def _copy_from_users() -> None:
    users = sa.table("users", sa.column("id"), *(sa.column(c, sa.Boolean()) for c in COLUMNS))
    members = sa.table(
        "mentoring_members",
        sa.column("user_id"),
        sa.column("capacity"),
        sa.column("accepting", sa.Boolean()),
        sa.column("mentee_count"),
        *(sa.column(column, sa.Boolean()) for column in COLUMNS),
    )
    without_row = ~sa.exists().where(members.c.user_id == users.c.id)
    chose = sa.or_(users.c.wants_to_mentor.is_(True), users.c.wants_to_be_mentored.is_(True))
    op.execute(  # the defaults of mentoring's settings, as services.NEW_MEMBER
        members.insert().from_select(
            ["user_id", "capacity", "accepting", "mentee_count", *COLUMNS],
            sa.select(
                users.c.id,
                sa.literal(1),
                sa.true(),
                sa.literal(0),
                *(users.c[column] for column in COLUMNS),
            ).where(chose, without_row),
        )
    )
    op.execute(
        members.update().values(
            {
                members.c[column]: sa.select(users.c[column])
                .where(users.c.id == members.c.user_id)
                .scalar_subquery()
                for column in COLUMNS
            }
        )
    )


def downgrade() -> None:
    """The choices go with the columns (core_0007's downgrade brings core's back empty)."""
    op.drop_index(INDEX, table_name="mentoring_members")
    for column in reversed(COLUMNS):  # ALTER TABLE on SQLite too, as core_0007 explains
        op.execute(f"ALTER TABLE mentoring_members DROP COLUMN {column}")
