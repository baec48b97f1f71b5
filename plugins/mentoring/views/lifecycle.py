"""A mentorship's pages from the request on: ask a mentor, my mentorships, the mentorship's
page, and the mentor's answer (accept, decline) or the mentee's withdrawal."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.api import ConfirmForm, InvalidInput, db, today_of, writes_on_get
from plugins.mentoring.forms import ChatForm, DeclineForm, RequestForm, TerminateForm, filled
from plugins.mentoring.models import HELD
from plugins.mentoring.services import agreements, ending, lifecycle, meetings
from plugins.mentoring.services import chat as chats
from plugins.mentoring.services import directory as mentor_directory
from plugins.mentoring.views.blueprint import _act, _require_form, bp
from plugins.mentoring.views.chat import _before_id
from plugins.mentoring.views.suggestions import suggestions_for_viewer


@bp.route("/request/<int:mentor_id>", methods=["GET", "POST"])
@login_required
def request_mentorship(mentor_id: int):
    mentor = lifecycle.mentor_to_ask(mentor_id)
    if mentor is None:
        abort(404)
    form = RequestForm()
    if form.validate_on_submit():
        try:
            lifecycle.REQUESTS.hit()
            mentorship = lifecycle.send_request(
                current_user, mentor, filled(form.message.data), form.topics.data or ""
            )
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            page = url_for("mentoring.mentorship", mentorship_id=mentorship.id)
            sent = _("Your request is on its way to %(name)s.", name=mentor.display_name)
            db.session.commit()  # after reading them: the commit expires both
            flash(sent, "success")
            return redirect(page)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "mentoring/request.html",
        form=form,
        mentor=mentor,
        available=mentor_directory.is_available_mentor(mentor),
        existing=lifecycle.open_mentorship_between(current_user, mentor),
    ), status


@bp.get("/")
@login_required
def index():
    return render_template(
        "mentoring/index.html",
        mentorships=lifecycle.mentorships_of(current_user),
        unread=chats.unread_by_mentorship(current_user),
        suggestions=suggestions_for_viewer(),
    )


@bp.get("/<int:mentorship_id>")
@login_required
@writes_on_get  # showing the chat marks it read
def mentorship(mentorship_id: int):
    found = lifecycle.mentorship_for(mentorship_id, current_user, parties=True)
    before = _before_id()
    if found.has_chat and before is None:
        chats.read_up_to(found, current_user.id)
    agreement = agreements.current_agreement(found)
    in_force = agreement.in_force
    today = today_of(current_user)
    planned = meetings.meetings_of_mentorship(found)
    page = render_template(
        "mentoring/mentorship.html",
        mentorship=found,
        role=found.party_role(current_user),
        other=found.other_party(current_user),
        in_force=in_force,
        days_left=(in_force.ends_on - today).days if in_force else None,
        awaiting=agreement.awaiting,
        meetings=planned,
        held=sum(meeting.status == HELD for meeting in planned),
        end_proposal=ending.early_end_proposal(found),
        chat=chats.chat_page(found, before),
        chat_form=ChatForm(),
        decline_form=DeclineForm(),
        terminate_form=TerminateForm(),
        button_form=ConfirmForm(),
    )
    db.session.commit()  # the read mark; after the page, which a commit would expire
    return page


@bp.post("/<int:mentorship_id>/accept")
@login_required
def accept(mentorship_id: int):
    _require_form(ConfirmForm())
    return _act(
        mentorship_id,
        lambda: lifecycle.accept_request(mentorship_id, current_user),
        _("You accepted the request. Say hello in the chat!"),
    )


@bp.post("/<int:mentorship_id>/decline")
@login_required
def decline(mentorship_id: int):
    form = DeclineForm()
    _require_form(form)
    return _act(
        mentorship_id,
        lambda: lifecycle.decline_request(
            mentorship_id, current_user, form.reason.data, filled(form.message.data)
        ),
        _("You declined the request; the mentee has your message."),
    )


@bp.post("/<int:mentorship_id>/withdraw")
@login_required
def withdraw(mentorship_id: int):
    _require_form(ConfirmForm())
    return _act(
        mentorship_id,
        lambda: lifecycle.withdraw_request(mentorship_id, current_user),
        _("You withdrew your request."),
    )
