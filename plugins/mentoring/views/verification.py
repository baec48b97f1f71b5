"""A mentor's identity check: the member sends their document (from their Mentoring area), and
coordinators decide in the console's Verification section (blueprint
``mentoring_verification``, under ``/admin/verification``)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from core.api import (
    AdminSection,
    page_number,
    page_of,
    rate_limited,
    require_form,
    run_action,
    staff_required,
)
from plugins.mentoring.forms import ApproveMentorForm, RejectMentorForm, VerificationForm
from plugins.mentoring.services import verification
from plugins.mentoring.views.blueprint import bp as mentoring_bp

QUEUE_PAGE_SIZE = 10  # each check shows its document

bp = Blueprint("mentoring_verification", __name__, url_prefix="/admin/verification")

SECTION = AdminSection(
    _l("Verification"),
    "mentoring_verification.queue",
    "coordinator",
    count=verification.count_waiting,
    note=_l("Mentors whose identity to check before members can find them."),
    order=20,
    count_label=_l("to verify"),
)


# ---- the member sends their document --------------------------------------------------------


def _mentoring_area() -> str:
    return url_for("profile.area", user_id=current_user.id, area="mentoring")


@mentoring_bp.url_value_preprocessor
def _room_for_a_document(endpoint: str | None, values: object) -> None:
    """The site refuses bodies a little over a photo's size; a document may be 5 MB. This runs
    before the request's form is first read (by the CSRF check), unlike a view or a
    ``before_request``."""
    if endpoint == "mentoring.send_verification":
        request.max_content_length = verification.MAX_DOCUMENT_BYTES + 200_000


@mentoring_bp.post("/verification")
@login_required
@rate_limited("mentoring-verification", "10/day")  # each document is stored until decided
def send_verification():
    back = _mentoring_area() + "#mentor-verification"
    form = VerificationForm()
    require_form(form, back)
    upload = form.document.data
    if upload is None or not upload.filename:
        if not form.by_mail.data:
            flash(_("Choose your document's file, or say you will send it by e-mail."), "danger")
            return redirect(back)
        return run_action(
            lambda: verification.promise_by_mail(current_user),
            success=_("Thank you: send your document by e-mail and a coordinator checks it."),
            back=back,
        )
    return run_action(
        lambda: verification.submit_document(current_user, upload),
        success=_("Thank you: a coordinator checks your document and you will hear by e-mail."),
        back=back,
    )


# ---- coordinators decide --------------------------------------------------------------------


@bp.get("")
@staff_required(SECTION.role)
def queue():
    page = page_of(verification.queue_query(), page_number(), QUEUE_PAGE_SIZE)
    return render_template(
        "mentoring/verification_queue.html",
        page=page,
        required=verification.required(),
        address=verification.mail_address(),
        approve_form=ApproveMentorForm(),
        reject_form=RejectMentorForm(),
    )


@bp.get("/<int:user_id>/document")
@staff_required(SECTION.role)
def document(user_id: int):
    """The document a member sent, to staff only: shown in the page (an image, or a PDF in a
    frame of the queue), never cached, its type the one read from its content."""
    found = verification.pending_document(user_id)
    response = send_file(found.path, mimetype=found.mime_type, max_age=0, conditional=False)
    response.headers["Content-Disposition"] = "inline"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    # shown in a frame of the queue, and nowhere else; it runs nothing
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/<int:user_id>/approve")
@staff_required(SECTION.role)
def approve(user_id: int):
    form = ApproveMentorForm()
    return _decide(
        form,
        lambda: verification.approve(current_user, user_id, form.reason.data or ""),
        _("The mentor is verified: members can find them now, and they are told by e-mail."),
    )


@bp.post("/<int:user_id>/reject")
@staff_required(SECTION.role)
def reject(user_id: int):
    form = RejectMentorForm()
    return _decide(
        form,
        lambda: verification.reject(current_user, user_id, form.message.data or ""),
        _("The check is rejected: the member reads your message by e-mail."),
    )


def _decide(form, act, success: str):
    back = url_for("mentoring_verification.queue")
    require_form(form, back)
    return run_action(act, success=success, back=back)
