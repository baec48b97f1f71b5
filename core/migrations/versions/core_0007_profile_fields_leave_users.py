"""the members' mentoring choices leave core's users table (the mentoring plugin keeps them)

Members are indexed by name instead of mentors by name: a directory (mentoring's) reads a page
of members along it, checking each against its own table's index.

Revision ID: core_0007
Revises: core_0006
Create Date: 2026-12-04 16:00:00

Runs after the plugins' migrations of the same ``alma db upgrade`` (``after_plugins``), so
that mentoring_0005 has copied the two columns into its own table before they go. A site
without mentoring enabled loses them: nothing there reads them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0007"
down_revision: str | Sequence[str] | None = "core_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

after_plugins = True  # see core/schema.py

COLUMNS = ("wants_to_mentor", "wants_to_be_mentored")
# the index of core_0003, on the first column; members by name, whatever they do, replace it
INDEX = "ix_users_mentors_by_name"
INDEXED = "wants_to_mentor IS TRUE AND email_confirmed_at IS NOT NULL"
BY_NAME = "ix_users_by_name"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="users")
    op.create_index(BY_NAME, "users", ["display_name", "id"], unique=False)
    for column in COLUMNS:
        # ALTER TABLE, never a batch copy of the table: on SQLite, dropping the old ``users``
        # would delete, by its foreign keys' ON DELETE CASCADE, every row that refers to it
        op.execute(f"ALTER TABLE users DROP COLUMN {column}")


def downgrade() -> None:
    """The columns come back empty (false): their values live on in the plugin's table."""
    op.drop_index(BY_NAME, table_name="users")
    for column in COLUMNS:
        op.add_column(
            "users", sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index(
        INDEX,
        "users",
        ["display_name", "id"],
        unique=False,
        sqlite_where=sa.text(INDEXED),
        postgresql_where=sa.text(INDEXED),
    )
