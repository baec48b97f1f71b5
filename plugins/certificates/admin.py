"""Certificates in the staff's console (admins only, as the issue's "System" part says):
find a certificate, revoke it with a reason, reissue a revoked one. Each act is one row of
the audit log, written by the services."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.api import AdminSection, page_number, page_of, require_form, run_action, staff_required
from plugins.certificates import services
from plugins.certificates.forms import CertificateActForm

PAGE_SIZE = 50

bp = Blueprint(
    "certificates_admin", __name__, url_prefix="/admin/certificates", template_folder="templates"
)

SECTION = AdminSection(
    _l("Certificates"),
    "certificates_admin.index",
    "admin",
    note=_l("Find a certificate; revoke it with a reason, reissue a revoked one."),
    order=600,
)


@bp.get("/")
@staff_required(SECTION.role)
def index():
    text = request.args.get("q", "").strip()
    page = page_of(services.certificates_query(text), page_number(), PAGE_SIZE)
    return render_template("certificates/admin/index.html", page=page, q=text)


@bp.get("/<number>")
@staff_required(SECTION.role)
def certificate(number: str):
    shown = services.certificate_by_number(number)
    return render_template(
        "certificates/admin/certificate.html",
        certificate=shown,
        reissue=services.reissue_of(shown),
        original=services.certificate_by_id(shown.reissued_from_id),
        reason_form=CertificateActForm(),
    )


@bp.post("/<number>/revoke")
@staff_required(SECTION.role)
def revoke(number: str):
    return _act(number, services.revoke_certificate, _("The certificate is revoked."))


@bp.post("/<number>/reissue")
@staff_required(SECTION.role)
def reissue(number: str):
    return _act(
        number,
        services.reissue_certificate,
        _("The certificate is reissued: its holder gets the new one in a moment."),
    )


def _act(number: str, act, success: str):
    shown = services.certificate_by_number(number)
    back = url_for("certificates_admin.certificate", number=shown.number)
    form = CertificateActForm()
    require_form(form, back)
    return run_action(
        lambda: act(shown.number, form.reason.data or "", current_user._get_current_object()),
        success=success,
        back=back,
    )
