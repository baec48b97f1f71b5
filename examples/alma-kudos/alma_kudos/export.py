"""The kudos part of a member's data export (hook ``export_member_data``): the kudos they
gave and received, the other member named by display name."""

from __future__ import annotations

from sqlalchemy import or_, select

from alma_kudos.models import Kudos
from core.api import ExportPart, User, db


def kudos_part(user: User) -> ExportPart | None:
    kudos = db.session.scalars(
        select(Kudos)
        .where(or_(Kudos.giver_id == user.id, Kudos.receiver_id == user.id))
        .order_by(Kudos.id)
    ).all()
    if not kudos:
        return None
    return ExportPart(
        "kudos",
        {
            "given": [
                {"to": k.receiver.display_name, "message": k.message, "sent_at": k.created_at}
                for k in kudos
                if k.giver_id == user.id
            ],
            "received": [
                {"from": k.giver.display_name, "message": k.message, "sent_at": k.created_at}
                for k in kudos
                if k.receiver_id == user.id
            ],
        },
        about="The kudos you gave and received.",
    )
