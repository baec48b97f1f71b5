"""An erased member's credits go with them (``member_erasing``): their entries and their
balance. Nothing changes when a member deactivates: what they earned waits for them."""

from __future__ import annotations

from sqlalchemy import delete

from core.api import User, db, forget_mentions
from plugins.credits.models import CreditBalance, CreditEntry


def erase_member(user: User) -> None:
    db.session.execute(delete(CreditEntry).where(CreditEntry.user_id == user.id))
    db.session.execute(delete(CreditBalance).where(CreditBalance.user_id == user.id))
    # others' entries for a goal they shared name it by its title, which may name them
    forget_mentions(user, CreditEntry.detail)
