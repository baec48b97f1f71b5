"""credits part 2: staff adjust a member's credits by hand

An adjustment is a ledger entry of its own kind (``adjustment``, source ``adjustment``, its
source id the audit log's row), of any sign but zero; it is undone like any other entry, by a
reversal linked to it, whose sign is then the opposite of the adjustment's.

Revision ID: credits_0002
Revises: credits_0001
Create Date: 2026-12-04 18:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "credits_0002"
down_revision: str | Sequence[str] | None = "credits_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "credits_entries"
BEFORE = {
    "source_type": "source_type IN ('activity', 'goal')",
    "entry_kind": "entry_kind IN ('credit', 'reversal')",
    "credit_or_reversal": (
        "(entry_kind = 'credit' AND points >= 0 AND reverses_id IS NULL)"
        " OR (entry_kind = 'reversal' AND points <= 0 AND reverses_id IS NOT NULL)"
    ),
}
AFTER = {
    "source_type": "source_type IN ('activity', 'goal', 'adjustment')",
    "entry_kind": "entry_kind IN ('credit', 'reversal', 'adjustment')",
    "credit_or_reversal": (
        "(entry_kind = 'credit' AND points >= 0 AND reverses_id IS NULL"
        " AND source_type <> 'adjustment')"
        " OR (entry_kind = 'adjustment' AND points <> 0 AND reverses_id IS NULL"
        " AND source_type = 'adjustment')"
        " OR (entry_kind = 'reversal' AND reverses_id IS NOT NULL"
        " AND (points <= 0 OR source_type = 'adjustment'))"
    ),
}


def upgrade() -> None:
    _checks(AFTER)


def downgrade() -> None:
    # the adjustments go, and their reversals with them (ON DELETE CASCADE); the balances
    # are made the ledger's sums again
    op.execute(f"DELETE FROM {TABLE} WHERE source_type = 'adjustment'")
    op.execute(
        "UPDATE credits_balances SET total = (SELECT COALESCE(SUM(points), 0) FROM"
        f" {TABLE} WHERE {TABLE}.user_id = credits_balances.user_id)"
    )
    _checks(BEFORE)


def _checks(checks: dict[str, str]) -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name, condition in checks.items():
            batch_op.drop_constraint(batch_op.f(f"ck_{TABLE}_{name}"), type_="check")
            batch_op.create_check_constraint(batch_op.f(f"ck_{TABLE}_{name}"), condition)
