"""The certificates part of a member's data export (hook ``export_member_data``): each
certificate's details, and the PDF of each one rendered."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import undefer

from core.api import ExportPart, User, db
from plugins.certificates.models import Certificate


def certificates_part(user: User) -> ExportPart | None:
    certificates = db.session.scalars(
        select(Certificate)
        .where(Certificate.user_id == user.id)
        .options(undefer(Certificate.pdf))
        .order_by(Certificate.id)
    ).all()
    if not certificates:
        return None
    return ExportPart(
        "certificates",
        {
            "certificates": [
                {
                    "number": certificate.number,
                    "achievement": certificate.achievement,
                    "goal": certificate.goal_title,
                    "completed_on": certificate.completed_on,
                    "issued_at": certificate.issued_at,
                    "revoked_at": certificate.revoked_at,
                    "pdf": certificate.filename if certificate.pdf else None,
                }
                for certificate in certificates
            ]
        },
        {certificate.filename: certificate.pdf for certificate in certificates if certificate.pdf},
        about=_("Your certificates, and the PDF of each one."),
    )
