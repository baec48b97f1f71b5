"""staff roles (coordinator, admin) replace is_admin; the append-only audit log of staff acts

Revision ID: core_0008
Revises: core_0007
Create Date: 2026-12-04 16:40:00

Today's administrators become admins. The audit log refuses UPDATE and DELETE in the database
itself (a trigger on each backend), so no code path of the app can rewrite what staff did.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "core_0008"
down_revision: str | Sequence[str] | None = "core_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE_CHECK = "CONSTRAINT ck_users_role CHECK (role IN ('coordinator', 'admin'))"
TABLE = "core_audit_log"
REFUSAL = "core_audit_log is append-only"
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    for verb in ("UPDATE", "DELETE")
]
POSTGRESQL_TRIGGER = [
    f"""CREATE FUNCTION {TABLE}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$""",
    f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_refuse_change()""",
]


def upgrade() -> None:
    # ALTER TABLE, never a batch copy of users (see core_0007): the CHECK goes with the column
    op.execute(f"ALTER TABLE users ADD COLUMN role VARCHAR(16) {ROLE_CHECK}")
    op.execute("UPDATE users SET role = 'admin' WHERE is_admin")
    op.execute("ALTER TABLE users DROP COLUMN is_admin")
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("act", sa.String(length=80), nullable=False),
        sa.Column("target_kind", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("target_label", sa.String(length=254), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("client_address", sa.String(length=45), nullable=True),
        sa.CheckConstraint("reason <> ''", name=op.f("ck_core_audit_log_reason_given")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_audit_log")),
    )
    op.create_index("ix_core_audit_log_created", TABLE, ["created_at", "id"])
    op.create_index("ix_core_audit_log_actor", TABLE, ["actor_id", "created_at"])
    op.create_index("ix_core_audit_log_target", TABLE, ["target_kind", "target_id", "created_at"])
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGER if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    """Admins become administrators again; coordinators become members; the log is dropped."""
    op.drop_table(TABLE)  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {TABLE}_refuse_change()")
    op.add_column(
        "users", sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.execute("UPDATE users SET is_admin = (role = 'admin') WHERE role IS NOT NULL")
    op.execute("ALTER TABLE users DROP COLUMN role")
