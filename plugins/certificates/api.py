"""Certificates in alma's HTTP API (``/api/v1/certificates``): the member's own, who sees
them, the holder's PDF, and the public verification, through the same services as the
pages."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, current_app
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.api import (
    ApiBlueprint,
    PageArguments,
    Problem,
    cursor_page,
    db,
    next_link,
    page_schema,
    public,
)
from plugins.certificates import services
from plugins.certificates.models import Certificate
from plugins.certificates.pdf import pdf_download

bp = ApiBlueprint(
    "certificates",
    __name__,
    url_prefix="/certificates",
    description="Certificates of completed goals, and their public verification.",
)


class CertificateSchema(ma.Schema):
    """One of the member's certificates, as their profile lists it."""

    number = ma.fields.String(required=True)
    achievement = ma.fields.String(required=True, metadata={"description": "What it is for."})
    goal_title = ma.fields.String(required=True)
    completed_on = ma.fields.Date(required=True)
    issued_at = ma.fields.AwareDateTime(required=True)
    ready = ma.fields.Boolean(
        required=True, attribute="is_ready", metadata={"description": "Its PDF is rendered."}
    )
    revoked_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    shown_on_profile = ma.fields.Boolean(required=True)
    name_on_verification = ma.fields.Boolean(required=True)


class VisibilityInSchema(ma.Schema):
    """The holder's choice, as the certificates page offers it; one left out stays as it is
    (an empty object changes nothing)."""

    shown_on_profile = ma.fields.Boolean(
        metadata={"description": "Listed on the holder's profile for other members."}
    )
    name_on_verification = ma.fields.Boolean(
        metadata={"description": "The holder's name on the public verification."}
    )


class VerificationSchema(ma.Schema):
    """What the public verification page shows."""

    number = ma.fields.String(required=True)
    valid = ma.fields.Boolean(required=True, metadata={"description": "Issued and not revoked."})
    revoked_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    replaced = ma.fields.Boolean(
        required=True, metadata={"description": "Revoked and reissued under a new number."}
    )
    holder_name = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "null: the holder chose not to show their name."},
    )
    achievement = ma.fields.String(required=True)
    completed_on = ma.fields.Date(required=True)
    issued_by = ma.fields.String(required=True)


PDF_RESPONSE = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


@bp.get("")
@bp.arguments(PageArguments, location="query")
@bp.response(200, page_schema(CertificateSchema))
def certificates(arguments: dict[str, Any]) -> Any:
    """The member's certificates, newest first."""
    query = select(Certificate).where(Certificate.user_id == current_user.id)
    page = cursor_page(query, Certificate.id, arguments)
    return page, 200, next_link(page)


@bp.patch("/<number>")
@bp.arguments(VisibilityInSchema)
@bp.response(200, CertificateSchema)
def choose_visibility(choice: dict[str, Any], number: str) -> Certificate:
    """The holder chooses whether the certificate is on their profile and their name on its
    verification, as on their certificates page; another member's is not found (404)."""
    certificate = services.choose_visibility(number, current_user, **choice)
    db.session.commit()
    return certificate


@bp.get("/<number>/pdf")
@bp.doc(responses={"200": {"description": "The certificate's PDF.", "content": PDF_RESPONSE}})
def pdf(number: str) -> Response:
    """The holder's PDF, as the download on their profile gives it."""
    certificate = services.owned_certificate(number, current_user, with_pdf=True)
    if certificate.is_revoked:
        raise Problem("refused", _("This certificate was revoked: its PDF is no longer offered."))
    if not certificate.is_ready:
        raise Problem("refused", _("Your certificate is being prepared: refresh in a moment."))
    return pdf_download(certificate)


@bp.get("/<number>/verify")
@public
@bp.response(200, VerificationSchema)
def verify(number: str) -> dict[str, Any]:
    """Anyone: is this certificate genuine and valid, as the public verification page says."""
    certificate = services.certificate_by_number(number)
    revoked = certificate.is_revoked
    return {
        "number": certificate.number,
        "valid": not revoked,
        "revoked_at": certificate.revoked_at,
        "replaced": revoked and services.reissue_of(certificate) is not None,
        "holder_name": certificate.holder_name if certificate.name_on_verification else None,
        "achievement": certificate.achievement,
        "completed_on": certificate.completed_on,
        "issued_by": current_app.config["SITE_NAME"],
    }
