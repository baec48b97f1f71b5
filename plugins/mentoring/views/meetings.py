"""Meetings' pages: schedule, answer, move or cancel, confirm, feedback; the calendar and its
iCalendar downloads and feed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.api import (
    ConfirmForm,
    InvalidInput,
    db,
    external_url,
    local_clock,
    require_form,
    run_action,
    today_of,
)
from plugins.mentoring import ical
from plugins.mentoring.forms import (
    FeedbackForm,
    MeetingChangeForm,
    MeetingDeclineForm,
    MeetingForm,
    filled,
)
from plugins.mentoring.models import ACTIVE, CANCEL, RESCHEDULE
from plugins.mentoring.services import followups, lifecycle, meetings
from plugins.mentoring.views.blueprint import _page_of

bp = Blueprint("mentoring_meetings", __name__, url_prefix="/mentoring")


def _meeting_page(meeting_id: int) -> str:
    return url_for("mentoring_meetings.meeting", meeting_id=meeting_id)


def _plan(form, starts_at: datetime, **more) -> meetings.MeetingPlan:
    return meetings.MeetingPlan(
        starts_at=starts_at,
        duration_minutes=form.duration_minutes.data,
        place=form.place.data or "",
        **more,
    )


@bp.route("/<int:mentorship_id>/meetings/new", methods=["GET", "POST"])
@login_required
def schedule(mentorship_id: int):
    mentorship = lifecycle.mentorship_for(mentorship_id, current_user)
    try:  # the mentor gets a 403 page (NotAllowed); a mentorship not under way, its page
        lifecycle.MENTORSHIP.check(mentorship, current_user, "schedule")
    except InvalidInput as error:
        flash(str(error), "danger")
        return redirect(_page_of(mentorship.id))
    form = MeetingForm()
    if request.method == "GET":
        form.day.data = today_of(current_user) + timedelta(days=7)
    if form.validate_on_submit():
        try:
            starts_at = meetings.meeting_start(
                filled(form.day.data), filled(form.time.data), current_user
            )
            plan = _plan(
                form, starts_at, agenda=form.agenda.data or "", is_final=form.is_final.data
            )
            meeting = meetings.schedule(mentorship.id, current_user, plan)
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(
                _(
                    "Sent: %(name)s is asked to approve the meeting.",
                    name=mentorship.mentor.display_name,
                ),
                "success",
            )
            return redirect(_meeting_page(meeting.id))
    return render_template(
        "mentoring/meeting_new.html",
        mentorship=mentorship,
        other=mentorship.mentor,
        form=form,
        may_be_final=mentorship.state == ACTIVE,
    ), 400 if form.is_submitted() else 200


@bp.get("/meetings/<int:meeting_id>")
@login_required
def meeting(meeting_id: int):
    found = meetings.meeting_for(meeting_id, current_user)
    mentorship = found.mentorship
    change = meetings.pending_change(found)
    return render_template(
        "mentoring/meeting.html",
        meeting=found,
        mentorship=mentorship,
        role=mentorship.party_role(current_user),
        other=mentorship.other_party(current_user),
        change=change,
        differences=meetings.change_differences(found, change) if change else [],
        confirmations=meetings.confirmations(found),
        can_confirm=meetings.can_confirm(found),
        feedback=followups.feedback_of(found, current_user),
        button_form=ConfirmForm(),
        decline_form=MeetingDeclineForm(),
        change_form=_change_form_of(found),
    )


def _change_form_of(meeting) -> MeetingChangeForm:
    """'Propose a change' opens on the meeting as it is, on the member's clock: they edit
    what changes."""
    starts = local_clock(meeting.starts_at, current_user)
    return MeetingChangeForm(
        formdata=None,
        kind=RESCHEDULE,
        day=starts.date(),
        time=starts.time(),
        duration_minutes=meeting.duration_minutes,
        place=meeting.place,
    )


def _answer(meeting_id: int, action, success: str, form=None):
    meetings.meeting_for(meeting_id, current_user)  # 404 and 403 before the form's errors
    back = _meeting_page(meeting_id)
    require_form(form or ConfirmForm(), back)
    return run_action(action, success=success, back=back)


@bp.post("/meetings/<int:meeting_id>/approve")
@login_required
def approve(meeting_id: int):
    return _answer(
        meeting_id,
        lambda: meetings.approve(meeting_id, current_user),
        _("Approved: the meeting is in both your calendars."),
    )


@bp.post("/meetings/<int:meeting_id>/decline")
@login_required
def decline(meeting_id: int):
    form = MeetingDeclineForm()
    return _answer(
        meeting_id,
        lambda: meetings.decline(meeting_id, current_user, filled(form.message.data)),
        _("Declined; the mentee has your message."),
        form,
    )


@bp.post("/meetings/<int:meeting_id>/withdraw")
@login_required
def withdraw(meeting_id: int):
    return _answer(
        meeting_id,
        lambda: meetings.withdraw(meeting_id, current_user),
        _("You took back the meeting."),
    )


@bp.post("/meetings/<int:meeting_id>/confirm")
@login_required
def confirm(meeting_id: int):
    return _answer(
        meeting_id,
        lambda: meetings.confirm_held(meeting_id, current_user),
        _("Thank you: you confirmed the meeting took place."),
    )


@bp.post("/meetings/<int:meeting_id>/missed")
@login_required
def missed(meeting_id: int):
    return _answer(
        meeting_id,
        lambda: meetings.report_missed(meeting_id, current_user),
        _("Noted: the meeting did not take place."),
    )


@bp.post("/meetings/<int:meeting_id>/change")
@login_required
def propose_change(meeting_id: int):
    form = MeetingChangeForm()

    def change():
        plan = None
        if form.kind.data == RESCHEDULE:
            if form.day.data is None or form.time.data is None:
                raise InvalidInput(_("Choose the new date and time."))
            meeting = meetings.meeting_for(meeting_id, current_user)
            plan = _plan(
                form, meetings.moved_start(meeting, form.day.data, form.time.data, current_user)
            )
        meetings.propose_change(
            meeting_id, current_user, form.kind.data, plan, form.message.data or ""
        )

    success = (
        _("You proposed to cancel the meeting; the other party confirms.")
        if form.kind.data == CANCEL
        else _("You proposed a change; the other party confirms.")
    )
    return _answer(meeting_id, change, success, form)


@bp.post("/meetings/changes/<int:change_id>/<answer>")
@login_required
def answer_change(change_id: int, answer: str):
    step = meetings.change_step(answer)  # 404 for an answer the table does not know
    meeting_id = meetings.change_for(change_id, current_user).meeting_id
    return _answer(
        meeting_id,
        lambda: meetings.answer_change(change_id, current_user, answer),
        step.done,
    )


@bp.route("/meetings/<int:meeting_id>/feedback", methods=["GET", "POST"])
@login_required
def feedback(meeting_id: int):
    found = meetings.meeting_for(meeting_id, current_user)
    given = followups.feedback_of(found, current_user)
    form = FeedbackForm(obj=given)
    if form.validate_on_submit():
        try:
            followups.give_feedback(
                found.id, current_user, form.rating.data, form.comment.data or ""
            )
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("Thank you for your feedback."), "success")
            return redirect(_meeting_page(found.id))
    return render_template(
        "mentoring/feedback.html",
        meeting=found,
        mentorship=found.mentorship,
        other=found.mentorship.other_party(current_user),
        form=form,
        given=given,
    ), 400 if form.errors else 200


# ---- calendar ------------------------------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>.ics")
@login_required
def meeting_ics(meeting_id: int):
    found = meetings.meeting_for(meeting_id, current_user)
    body = ical.calendar_of([found], current_user, name=_("Mentoring meeting"))
    return _ics(body, f"meeting-{found.id}.ics")


@bp.get("/calendar/feed/<token>.ics")
def feed(token: str):
    """The secret feed calendar apps subscribe to: no login, the token is the key."""
    owner = ical.feed_owner(token)
    if owner is None:
        abort(404)
    body = ical.calendar_of(ical.feed_meetings(owner), owner, name=_("Mentoring meetings"))
    return _ics(body, None)


def _ics(body: bytes, filename: str | None) -> Response:
    response = Response(body, mimetype="text/calendar")
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/calendar")
@login_required
def calendar():
    day = _month_asked() or today_of(current_user)
    return render_template(
        "mentoring/calendar.html",
        month=meetings.month_of(current_user, day),
        upcoming=meetings.upcoming_of(current_user),
        today=today_of(current_user),
        has_feed=ical.has_feed(current_user),
        button_form=ConfirmForm(),
    )


def _month_asked() -> date | None:
    value = request.args.get("month", "")
    try:
        asked = datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        return None
    return asked if 1970 <= asked.year <= 2100 else None


NEW_FEED_TOKEN = "mentoring_new_feed"  # in the session, from the post to the page showing it


@bp.post("/calendar/feed")
@login_required
def new_feed():
    require_form(ConfirmForm(), url_for("mentoring_meetings.calendar"))
    token = ical.new_feed(current_user)
    db.session.commit()
    # shown by the page the browser is sent to, so that a reload does not make another
    session[NEW_FEED_TOKEN] = token
    return redirect(url_for("mentoring_meetings.show_new_feed"))


@bp.get("/calendar/feed")
@login_required
def show_new_feed():
    """The new address, once: only its hash is stored, and the session forgets it here."""
    token = session.pop(NEW_FEED_TOKEN, None)
    if token is None:
        return redirect(url_for("mentoring_meetings.calendar"))
    return render_template(
        "mentoring/calendar_feed.html",
        address=external_url("mentoring_meetings.feed", token=token),
        button_form=ConfirmForm(),
    )


@bp.post("/calendar/feed/revoke")
@login_required
def revoke_feed():
    back = url_for("mentoring_meetings.calendar")
    require_form(ConfirmForm(), back)
    return run_action(
        lambda: ical.revoke_feed(current_user),
        success=_("Your calendar address no longer works; apps subscribed to it stop updating."),
        back=back,
    )
