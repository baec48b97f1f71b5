"""Certificates' pages: the holder's download and sharing choices, and the public
verification page. Thin: parse, authorize through the services, render."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.api import NotFound, db
from plugins.certificates import services
from plugins.certificates.forms import VerifyForm, VisibilityForm
from plugins.certificates.pdf import pdf_download

bp = Blueprint(
    "certificates",
    __name__,
    url_prefix="/certificates",
    template_folder="templates",
    static_folder="static",
)


def _mentoring_area():
    return redirect(url_for("profile.area", user_id=current_user.id, area="mentoring"))


@bp.get("/<number>.pdf")
@login_required
def download(number: str):
    """The holder's PDF, as it was rendered; anyone else gets a 404."""
    certificate = services.owned_certificate(number, current_user, with_pdf=True)
    if certificate.is_revoked:
        flash(_("This certificate was revoked: its PDF is no longer offered."), "danger")
        return _mentoring_area()
    if not certificate.is_ready:
        flash(_("Your certificate is being prepared: refresh in a moment."), "info")
        return _mentoring_area()
    return pdf_download(certificate)


@bp.post("/<number>/visibility")
@login_required
def visibility(number: str):
    form = VisibilityForm()
    if not form.validate_on_submit():
        flash(_("Your choice could not be saved; please try again."), "danger")
        return _mentoring_area()
    services.choose_visibility(
        number,
        current_user,
        shown_on_profile=form.shown_on_profile.data,
        name_on_verification=form.name_on_verification.data,
    )
    db.session.commit()
    flash(_("Your choice for certificate %(number)s is saved.", number=number.upper()), "success")
    return _mentoring_area()


@bp.get("/verify")
def verify_form():
    """Where someone holding a printed certificate types its number."""
    form = VerifyForm(request.args)
    if form.number.data and form.validate():
        number = services.normalized_number(form.number.data)
        return redirect(url_for("certificates.verify", number=number or "-"))
    return render_template("certificates/verify_form.html", form=form)


@bp.get("/verify/<number>")
def verify(number: str):
    """Public: is this certificate genuine, whom was it issued to, is it still valid."""
    try:
        certificate = services.certificate_by_number(number)
    except NotFound:
        return render_template(
            "certificates/verify.html", certificate=None, number=number, form=VerifyForm()
        ), 404
    return render_template(
        "certificates/verify.html",
        certificate=certificate,
        number=number,
        replaced=certificate.is_revoked and services.reissue_of(certificate) is not None,
    )
