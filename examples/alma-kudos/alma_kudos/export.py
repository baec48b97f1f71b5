"""The kudos part of a member's data export (hook ``export_member_data``): the kudos they
gave and received, the other member named by display name."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from alma_kudos.models import Kudos
from core.api import ExportPart, User, db


def kudos_part(user: User) -> ExportPart | None:
    given = _kudos(Kudos.giver_id, Kudos.receiver_id, user, "to")
    received = _kudos(Kudos.receiver_id, Kudos.giver_id, user, "from")
    if not (given or received):
        return None
    return ExportPart(
        "kudos",
        {"given": given, "received": received},
        about=_("The kudos you gave and received."),
    )


def _kudos(own_side: Any, other_side: Any, user: User, other_label: str) -> list[dict[str, Any]]:
    other = aliased(User)
    rows = db.session.execute(
        select(Kudos, other.display_name)
        .join(other, other.id == other_side)
        .where(own_side == user.id)
        .order_by(Kudos.id)
    ).all()
    return [
        {
            other_label: name,
            "message": kudos.message,
            "status": kudos.status,
            "sent_at": kudos.created_at,
        }
        for kudos, name in rows
    ]
