"""The credits ledger and each member's balance.

The ledger is history: one entry per activity or goal and beneficiary (a unique constraint,
so the same event can never be credited twice, even by two transactions at once), and one
reversing entry when an activity is undone (unique too, so nothing is reversed twice). The
balance row is the ledger's sum kept up to date in the same transaction as each entry, so
showing a member's total never sums their ledger.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.api import Model, utcnow

ACTIVITY, GOAL, ADJUSTMENT = "activity", "goal", "adjustment"
SOURCE_TYPES = (ACTIVITY, GOAL, ADJUSTMENT)
CREDIT, REVERSAL = "credit", "reversal"  # and ADJUSTMENT, an entry kind of its own
ENTRY_KINDS = (CREDIT, REVERSAL, ADJUSTMENT)
ADJUSTMENT_KIND = "credits.adjustment"


class CreditEntry(Model):
    """Points a member earned for one activity or goal (``credit``), or took back when the
    activity was undone (``reversal``, negative, linked to the entry it reverses); or points
    an admin gave or took by hand (``adjustment``, any sign but zero, its source the audit
    log's row, its detail the reason the member reads), undone by a reversal too."""

    __tablename__ = "credits_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source_type: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int]  # the activity's or the goal's id
    entry_kind: Mapped[str] = mapped_column(String(16), default=CREDIT)
    kind: Mapped[str] = mapped_column(String(80))  # the activity or goal kind: the reason
    detail: Mapped[str | None] = mapped_column(String(200))  # a goal's title
    url: Mapped[str | None] = mapped_column(String(500))  # what the credits were for
    points: Mapped[int]
    # the rule's points when the member's daily cap cut this entry down (NULL: not capped)
    capped_from: Mapped[int | None]
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("credits_entries.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("source_type", "source_id", "user_id", "entry_kind"),
        CheckConstraint(f"source_type IN {SOURCE_TYPES}", name="source_type"),
        CheckConstraint(f"entry_kind IN {ENTRY_KINDS}", name="entry_kind"),
        CheckConstraint(
            "(entry_kind = 'credit' AND points >= 0 AND reverses_id IS NULL"
            " AND source_type <> 'adjustment')"
            " OR (entry_kind = 'adjustment' AND points <> 0 AND reverses_id IS NULL"
            " AND source_type = 'adjustment')"
            " OR (entry_kind = 'reversal' AND reverses_id IS NOT NULL"
            " AND (points <= 0 OR source_type = 'adjustment'))",
            name="credit_or_reversal",
        ),
        CheckConstraint(
            "capped_from IS NULL OR (entry_kind = 'credit' AND capped_from > points)",
            name="capped_below_rule",
        ),
        # a member's ledger, newest first, a page at a time; and today's points for the cap
        Index("ix_credits_entries_user_created", "user_id", "created_at", "id"),
        # the last 30 days' top contributors, read from the index alone
        Index("ix_credits_entries_created", "created_at", "user_id", "points"),
    )

    @property
    def is_reversal(self) -> bool:
        return self.entry_kind == REVERSAL

    @property
    def is_adjustment(self) -> bool:
        return self.source_type == ADJUSTMENT

    @property
    def is_capped(self) -> bool:
        return self.capped_from is not None


class CreditBalance(Model):
    """A member's credit total: the sum of their ledger, updated with every entry."""

    __tablename__ = "credits_balances"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    total: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        CheckConstraint("total >= 0", name="not_negative"),
        Index("ix_credits_balances_total", "total"),
    )
