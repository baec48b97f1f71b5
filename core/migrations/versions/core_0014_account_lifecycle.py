"""a member's own account lifecycle: deactivated, deletion due, erased; and an audit log that
may forget an erased member's name

Revision ID: core_0014
Revises: core_0013
Create Date: 2026-12-04 18:30:00

The audit log stays append-only, with one exception the erasure needs: a row's
``actor_label`` or ``target_label`` (an e-mail address) may be replaced by the words
``former member`` and by nothing else, every other column unchanged. The triggers of core_0008
are replaced by ones that allow exactly that.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0014"
down_revision: str | Sequence[str] | None = "core_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS = {
    "deactivated_at": None,
    "deletion_due_at": (
        "ck_users_deletion_deactivates",
        "deletion_due_at IS NULL OR deactivated_at IS NOT NULL",
    ),
    "erased_at": ("ck_users_erased_inactive", "erased_at IS NULL OR deactivated_at IS NOT NULL"),
}

TABLE = "core_audit_log"
REFUSAL = "core_audit_log is append-only"
FORMER = "former member"
UNCHANGED = ("id", "created_at", "actor_id", "actor_role", "act", "target_kind", "target_id")
UNCHANGED_TEXT = ("reason", "client_address")


def _only_labels_forgotten(same: str) -> str:
    """SQL true when an UPDATE changes nothing but a label, into ``former member``."""
    kept = [same.format(column=column) for column in UNCHANGED + UNCHANGED_TEXT]
    labels = [
        f"({same.format(column=label)} OR NEW.{label} = '{FORMER}')"
        for label in ("actor_label", "target_label")
    ]
    return " AND ".join(kept + labels)


SQLITE_SAME = "NEW.{column} IS OLD.{column}"
POSTGRESQL_SAME = "NEW.{column} IS NOT DISTINCT FROM OLD.{column}"

SQLITE_UPDATE_TRIGGER = (
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    f"WHEN NOT ({_only_labels_forgotten(SQLITE_SAME)}) "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
)
SQLITE_OLD_UPDATE_TRIGGER = (
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
)
POSTGRESQL_UPGRADE = [
    f"DROP TRIGGER {TABLE}_append_only ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_append_only BEFORE DELETE OR TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_refuse_change()""",
    f"""CREATE FUNCTION {TABLE}_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF {_only_labels_forgotten(POSTGRESQL_SAME)} THEN RETURN NEW; END IF;
      RAISE EXCEPTION '{REFUSAL}';
    END $$""",
    f"""CREATE TRIGGER {TABLE}_forget_labels_only BEFORE UPDATE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse_update()""",
]
POSTGRESQL_DOWNGRADE = [
    f"DROP TRIGGER {TABLE}_forget_labels_only ON {TABLE}",
    f"DROP FUNCTION {TABLE}_refuse_update()",
    f"DROP TRIGGER {TABLE}_append_only ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_refuse_change()""",
]


def upgrade() -> None:
    bind = op.get_bind()
    timestamp = sa.DateTime(timezone=True).compile(dialect=bind.dialect)
    # ALTER TABLE, never a batch copy of users (see core_0007): each CHECK goes with its column
    for name, check in CHECKS.items():
        constraint = f" CONSTRAINT {check[0]} CHECK ({check[1]})" if check else ""
        op.execute(f"ALTER TABLE users ADD COLUMN {name} {timestamp}{constraint}")
    if bind.dialect.name == "postgresql":
        for statement in POSTGRESQL_UPGRADE:
            op.execute(statement)
    else:
        op.execute(f"DROP TRIGGER {TABLE}_no_update")
        op.execute(SQLITE_UPDATE_TRIGGER)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWNGRADE:
            op.execute(statement)
    else:
        op.execute(f"DROP TRIGGER {TABLE}_no_update")
        op.execute(SQLITE_OLD_UPDATE_TRIGGER)
    for name in reversed(CHECKS):
        op.execute(f"ALTER TABLE users DROP COLUMN {name}")
