"""Mentoring's pages: thin views that parse, authorize through the services, and render."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from core.api import (
    ConfirmForm,
    InvalidInput,
    User,
    db,
    language_names,
    page_number,
    whole_number,
    writes_on_get,
)
from plugins.mentoring import agreements, meetings, services
from plugins.mentoring.choices import looks_for_mentor, offers_mentoring
from plugins.mentoring.forms import (
    ChatForm,
    DeclineForm,
    MentorSettingsForm,
    RequestForm,
    TerminateForm,
)
from plugins.mentoring.models import HELD

bp = Blueprint(
    "mentoring",
    __name__,
    url_prefix="/mentoring",
    template_folder="templates",
    static_folder="static",
)

LINK = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


@bp.app_template_filter("chat_text")
def chat_text(body: str) -> Markup:
    """Plain text, escaped, with web links made clickable (and kept from the page's rights)."""
    parts, last = [], 0
    for match in LINK.finditer(body):
        url = match.group(0)
        parts.append(escape(body[last : match.start()]))
        parts.append(
            Markup(
                '<a href="{0}" rel="nofollow noopener noreferrer" target="_blank">{0}</a>'
            ).format(url)
        )
        last = match.end()
    parts.append(escape(body[last:]))
    return Markup("").join(parts)


# Template globals, not a context processor: the state badge macro is imported without
# context ({% from "mentoring/_state.html" import state_badge %}) and sees only globals.
bp.add_app_template_global(services.state_label, "mentorship_state_label")
bp.add_app_template_global(services.decline_reason_label, "decline_reason_label")
bp.add_app_template_global(meetings.status_label, "meeting_status_label")
bp.add_app_template_global(meetings.amendment_reason, "amendment_reason")
bp.add_app_template_global(offers_mentoring)
bp.add_app_template_global(looks_for_mentor)


@bp.get("/mentors")
@login_required  # profiles are for members: see core/templates/profile/data.html
def directory():
    page = services.search_mentors(
        text=request.args.get("q", ""),
        topic=request.args.get("topic", ""),
        language=request.args.get("language", ""),
        with_room=request.args.get("free") == "1",
        page=page_number(),
    )
    return render_template("mentoring/directory.html", result=page, languages=language_names())


@bp.route("/request/<int:mentor_id>", methods=["GET", "POST"])
@login_required
def request_mentorship(mentor_id: int):
    mentor = db.session.get(User, mentor_id)
    if mentor is None or not offers_mentoring(mentor) or not mentor.email_confirmed:
        abort(404)
    form = RequestForm()
    if form.validate_on_submit():
        try:
            mentorship = services.send_request(
                current_user, mentor, form.message.data, form.topics.data or ""
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
        available=services.is_available_mentor(mentor),
        existing=services.open_mentorship_between(current_user, mentor),
    ), status


@bp.get("/")
@login_required
def index():
    return render_template(
        "mentoring/index.html",
        mentorships=services.mentorships_of(current_user),
        unread=services.unread_by_mentorship(current_user),
    )


def _before_id() -> int | None:
    """``?before=N``, the message to page back from; anything but a usable id (an id beyond
    what the database can hold would fail the query) means the newest page."""
    return whole_number(request.args.get("before"), below=2**63) or None


@bp.get("/<int:mentorship_id>")
@login_required
@writes_on_get  # showing the chat marks it read
def mentorship(mentorship_id: int):
    found = services.mentorship_for(mentorship_id, current_user, parties=True)
    before = _before_id()
    if found.has_chat and before is None:
        services.read_up_to(found, current_user.id)
    agreement = agreements.current_agreement(found)
    in_force = agreement.in_force
    today = meetings.today_of(current_user)
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
        end_proposal=services.early_end_proposal(found),
        chat=services.chat_page(found, before),
        chat_form=ChatForm(),
        decline_form=DeclineForm(),
        terminate_form=TerminateForm(),
        button_form=ConfirmForm(),
    )
    db.session.commit()  # the read mark; after the page, which a commit would expire
    return page


def act(back: str, action, success: str):
    """Run a change from a form post (a service call), commit it or show why it was refused,
    and go back to the page ``back``."""
    try:
        action()
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(back)


def require_form(form, back: str) -> None:
    """Stop with the form's errors shown on the page ``back`` unless the post is valid."""
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
        abort(redirect(back))


def _page_of(mentorship_id: int) -> str:
    return url_for("mentoring.mentorship", mentorship_id=mentorship_id)


def _act(mentorship_id: int, action, success: str):
    return act(_page_of(mentorship_id), action, success)


def _require_form(form) -> None:
    require_form(form, _page_of(request.view_args["mentorship_id"]))


@bp.post("/<int:mentorship_id>/accept")
@login_required
def accept(mentorship_id: int):
    _require_form(ConfirmForm())
    return _act(
        mentorship_id,
        lambda: services.accept_request(mentorship_id, current_user),
        _("You accepted the request. Say hello in the chat!"),
    )


@bp.post("/<int:mentorship_id>/decline")
@login_required
def decline(mentorship_id: int):
    form = DeclineForm()
    _require_form(form)
    return _act(
        mentorship_id,
        lambda: services.decline_request(
            mentorship_id, current_user, form.reason.data, form.message.data
        ),
        _("You declined the request; the mentee has your message."),
    )


@bp.post("/<int:mentorship_id>/withdraw")
@login_required
def withdraw(mentorship_id: int):
    _require_form(ConfirmForm())
    return _act(
        mentorship_id,
        lambda: services.withdraw_request(mentorship_id, current_user),
        _("You withdrew your request."),
    )


@bp.post("/<int:mentorship_id>/terminate")
@login_required
def terminate(mentorship_id: int):
    form = TerminateForm()
    _require_form(form)
    return _act(
        mentorship_id,
        lambda: services.terminate(mentorship_id, current_user, form.message.data),
        _("The mentorship has ended."),
    )


@bp.post("/<int:mentorship_id>/end/propose")
@login_required
def propose_early_end(mentorship_id: int):
    form = TerminateForm()
    _require_form(form)
    return _act(
        mentorship_id,
        lambda: services.propose_early_end(mentorship_id, current_user, form.message.data),
        _("You proposed to end the mentorship early; it ends once the other party agrees."),
    )


@bp.post("/<int:mentorship_id>/end/<any(agree, refuse, withdraw):answer>")
@login_required
def answer_early_end(mentorship_id: int, answer: str):
    _require_form(ConfirmForm())
    return _act(
        mentorship_id,
        lambda: services.answer_early_end(mentorship_id, current_user, answer),
        {
            "agree": _("The mentorship has ended early, by mutual consent."),
            "refuse": _("The mentorship goes on."),
            "withdraw": _("You took back your proposal to end early."),
        }[answer],
    )


@bp.post("/<int:mentorship_id>/messages")
@login_required
def post_message(mentorship_id: int):
    """The chat without JavaScript: a plain form post, then the page again."""
    form = ChatForm()
    _require_form(form)
    try:
        services.post_message(mentorship_id, current_user, form.body.data, form.key.data or None)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
    return redirect(url_for("mentoring.mentorship", mentorship_id=mentorship_id) + "#chat")


@bp.get("/<int:mentorship_id>/messages")
@login_required
def older_messages(mentorship_id: int):
    """Chat history for the page's script, newest last: the newest page, the one before
    ``?before=``, or the one after ``?after=`` (what a page missed while offline)."""
    found = services.mentorship_for(mentorship_id, current_user)
    # ?after=N: what followed the message N (0: from the first), else ?before= or the newest
    after = whole_number(request.args.get("after"), below=2**63)
    if after is not None:
        chat = services.chat_page_after(found, after)
    else:
        chat = services.chat_page(found, _before_id())
    return jsonify(
        messages=[services.message_payload(m, m.sender) for m in chat.messages],
        has_older=chat.has_older,
        has_newer=chat.has_newer,
    )


@bp.post("/settings")
@login_required
def mentor_settings():
    form = MentorSettingsForm()
    if form.validate_on_submit():
        try:
            services.update_mentor_settings(
                current_user, capacity=form.capacity.data, accepting=form.accepting.data
            )
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("Your mentoring settings are saved."), "success")
    else:
        flash(_("Choose a capacity between 1 and 20 mentees."), "danger")
    return redirect(url_for("profile.data") + "#my-mentoring")
