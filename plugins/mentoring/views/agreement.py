"""The agreement's pages: fill or amend it, answer a proposed version, compare versions."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.api import ConfirmForm, InvalidInput, db, require_form, run_action, today_of
from plugins.mentoring.forms import AgreementForm, CommentForm, filled
from plugins.mentoring.services import agreements, lifecycle, meetings

bp = Blueprint("mentoring_agreement", __name__, url_prefix="/mentoring")


def _agreement_page(mentorship_id: int) -> str:
    return url_for("mentoring_agreement.agreement", mentorship_id=mentorship_id)


@bp.route("/<int:mentorship_id>/agreement", methods=["GET", "POST"])
@login_required
def agreement(mentorship_id: int):
    mentorship = lifecycle.mentorship_for(mentorship_id, current_user, parties=True)
    versions = agreements.versions_of(mentorship)
    current = agreements.current_agreement_of(versions)
    in_force, awaiting = current.in_force, current.awaiting
    form = AgreementForm(
        obj=agreements.terms_to_start_from(in_force, versions, today_of(current_user))
    )
    if form.validate_on_submit():
        try:
            _propose(mentorship, form)
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(
                _("Sent: %(name)s is asked to approve it.", name=_other_name(mentorship)), "success"
            )
            return redirect(_agreement_page(mentorship.id))
    return render_template(
        "mentoring/agreement.html",
        mentorship=mentorship,
        role=mentorship.party_role(current_user),
        other=mentorship.other_party(current_user),
        in_force=in_force,
        awaiting=awaiting,
        # an amendment a meeting needs is answered on the meeting's page
        awaiting_meeting=agreements.meeting_asking_for(awaiting) if awaiting else None,
        versions=versions,
        held=meetings.held_count(mentorship),
        form=form,
        comment_form=CommentForm(),
        button_form=ConfirmForm(),
        labels=agreements.term_labels(),
        compare=agreements.compare,
    ), 400 if form.is_submitted() else 200


def _propose(mentorship, form: AgreementForm) -> None:
    terms = agreements.Terms.entered(
        starts_on=filled(form.starts_on.data),
        ends_on=filled(form.ends_on.data),
        meetings_planned=filled(form.meetings_planned.data),
        channels=filled(form.channels.data),
        contact_every_days=form.contact_every_days.data,
        agenda=form.agenda.data,
        notes=form.notes.data,
    )
    agreements.propose(mentorship, current_user, terms, form.reason.data or "")


def _other_name(mentorship) -> str:
    return mentorship.other_party(current_user).display_name


@bp.post("/agreement/<int:version_id>/approve")
@login_required
def approve(version_id: int):
    version, _mentorship = agreements.version_for(version_id, current_user)
    back = _agreement_page(version.mentorship_id)
    require_form(ConfirmForm(), back)
    return run_action(
        lambda: agreements.approve(version_id, current_user),
        success=_("Approved. The agreement is in force."),
        back=back,
    )


@bp.post("/agreement/<int:version_id>/send-back")
@login_required
def send_back(version_id: int):
    version, _mentorship = agreements.version_for(version_id, current_user)
    back = _agreement_page(version.mentorship_id)
    form = CommentForm()
    require_form(form, back)
    return run_action(
        lambda: agreements.send_back(version_id, current_user, filled(form.comment.data)),
        success=_("Sent back with your comment."),
        back=back,
    )


@bp.get("/<int:mentorship_id>/agreement/versions/<int:number>")
@login_required
def version(mentorship_id: int, number: int):
    """One version as it was sent, with the answer it got: readable by the pair only."""
    found = agreements.version_numbered(mentorship_id, current_user, number)
    mentorship = lifecycle.mentorship_for(mentorship_id, current_user, parties=True)
    return render_template(
        "mentoring/agreement_version.html",
        mentorship=mentorship,
        other=mentorship.other_party(current_user),
        version=found,
        labels=agreements.term_labels(),
    )


@bp.get("/<int:mentorship_id>/agreement/compare")
@login_required
def compare(mentorship_id: int):
    mentorship = lifecycle.mentorship_for(mentorship_id, current_user)
    versions = agreements.versions_of(mentorship)
    try:
        old, new = agreements.versions_compared(
            mentorship,
            current_user,
            versions,
            request.args.get("a", type=int),
            request.args.get("b", type=int),
        )
    except InvalidInput as nothing_to_compare:
        flash(str(nothing_to_compare), "info")
        return redirect(_agreement_page(mentorship.id))
    return render_template(
        "mentoring/agreement_compare.html",
        mentorship=mentorship,
        other=mentorship.other_party(current_user),
        versions=versions,
        old=old,
        new=new,
        changes=agreements.compare(old, new),
    )
