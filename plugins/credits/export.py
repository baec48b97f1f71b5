"""The credits part of a member's data export (hook ``export_member_data``): their ledger."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from core.api import ExportPart, User, db
from plugins.credits.models import CreditEntry


def credits_part(user: User) -> ExportPart | None:
    entries = db.session.scalars(
        select(CreditEntry).where(CreditEntry.user_id == user.id).order_by(CreditEntry.id)
    ).all()
    if not entries:
        return None
    return ExportPart(
        "credits",
        {
            "balance": sum(entry.points for entry in entries),
            "ledger": [
                {
                    "points": entry.points,
                    "entry": entry.entry_kind,
                    "for": entry.kind,
                    "detail": entry.detail,
                    "url": entry.url,
                    "created_at": entry.created_at,
                }
                for entry in entries
            ],
        },
        about=_("Your credits ledger: each entry, what it was for, and your balance."),
    )
