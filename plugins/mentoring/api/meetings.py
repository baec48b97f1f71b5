"""A mentorship's meetings: the mentee schedules one, the mentor approves or declines it,
either party proposes to move or cancel it and the other answers, both confirm it took place,
and each gives feedback on it, through the services the meeting pages call.

Times are ISO 8601 both ways, and answers give them in UTC. A time sent with an offset
(``+13:00``, ``Z``) is that instant; one sent without is read on the caller's clock (the time
zone of their profile), as the pages read their forms, and refused when that clock skips the
time or shows it twice (the nights the clocks change)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select

from core.api import (
    InvalidInput,
    PageArguments,
    User,
    allowed_actions,
    db,
    next_link,
    page_schema,
    time_page,
)
from plugins.mentoring.api import bp
from plugins.mentoring.models import RESCHEDULE, Meeting, MeetingChange
from plugins.mentoring.services import followups, lifecycle, meetings

WHEN = (
    "An ISO 8601 time, in whole minutes (seconds other than 0 are refused: 422). With an "
    "offset (`2027-03-29T08:00:00+13:00`, or `Z`) it is that instant; without one it is read "
    "on the caller's clock, the time zone of their profile, and refused (422) when that clock "
    "skips it or shows it twice. Answers give times in UTC."
)


# ---- what a meeting looks like -------------------------------------------------------------


class ChangeSchema(ma.Schema):
    """A party's pending proposal to move or cancel the meeting."""

    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "reschedule or cancel."})
    proposed_by_id = ma.fields.Integer(required=True)
    starts_at = ma.fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "The new time (UTC)."}
    )
    duration_minutes = ma.fields.Integer(required=True, allow_none=True)
    place = ma.fields.String(required=True, allow_none=True)
    message = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    answers = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={
            "description": "What the caller may answer now: accept and refuse (the other "
            "party), withdraw (the proposer)."
        },
    )

    @ma.pre_dump
    def for_caller(self, change: MeetingChange, **_: Any) -> dict[str, Any]:
        return {
            "id": change.id,
            "kind": change.kind,
            "proposed_by_id": change.proposed_by_id,
            "starts_at": change.starts_at,
            "duration_minutes": change.duration_minutes,
            "place": change.place,
            "message": change.message,
            "created_at": change.created_at,
            "answers": list(allowed_actions(change, current_user)),
        }


class FeedbackSchema(ma.Schema):
    rating = ma.fields.Integer(required=True, metadata={"description": "1 to 5."})
    comment = ma.fields.String(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class MeetingSchema(ma.Schema):
    """A meeting as its parties see it."""

    id = ma.fields.Integer(required=True)
    mentorship_id = ma.fields.Integer(required=True)
    other_id = ma.fields.Integer(required=True, metadata={"description": "The other party."})
    other_name = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True,
        metadata={
            "description": "proposed (awaiting the mentor), scheduled, declined, cancelled, "
            "held (both confirmed it took place) or missed."
        },
    )
    starts_at = ma.fields.AwareDateTime(required=True, metadata={"description": "In UTC."})
    duration_minutes = ma.fields.Integer(required=True)
    place = ma.fields.String(required=True, metadata={"description": "An address or a link."})
    agenda = ma.fields.String(required=True)
    is_final = ma.fields.Boolean(
        required=True, metadata={"description": "Held, it completes the mentorship."}
    )
    created_at = ma.fields.AwareDateTime(required=True)
    decided_at = ma.fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "When the mentor answered."}
    )
    held_at = ma.fields.AwareDateTime(required=True, allow_none=True)

    @ma.pre_dump
    def for_caller(self, meeting: Meeting, **_: Any) -> dict[str, Any]:
        return _facts(meeting)


class MeetingDetailSchema(MeetingSchema):
    """A meeting as its page shows it to the caller: what they may do with it now."""

    amendment = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "The version of the agreement this meeting departs from it with "
            "(more meetings, or later, than agreed), answered along with the meeting."
        },
    )
    change = ma.fields.Nested(ChangeSchema, required=True, allow_none=True)
    my_confirmation = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": 'The caller\'s answer to "did it take place?": pending, consented '
            "or declined; null before either party answered."
        },
    )
    their_confirmation = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "The other party's."}
    )
    can_confirm = ma.fields.Boolean(
        required=True,
        metadata={"description": "The meeting has begun and the caller has yet to confirm it."},
    )
    actions = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={
            "description": "What the caller may do now: approve, decline, withdraw, confirm, "
            "missed, propose_change."
        },
    )
    my_feedback = ma.fields.Nested(FeedbackSchema, required=True, allow_none=True)

    @ma.pre_dump
    def for_caller(self, meeting: Meeting, **_: Any) -> dict[str, Any]:
        return _facts(meeting) | _details(meeting)


def _facts(meeting: Meeting) -> dict[str, Any]:
    other = meeting.mentorship.other_party(current_user)
    return {
        "id": meeting.id,
        "mentorship_id": meeting.mentorship_id,
        "other_id": other.id,
        "other_name": other.display_name,
        "status": meeting.status,
        "starts_at": meeting.starts_at,
        "duration_minutes": meeting.duration_minutes,
        "place": meeting.place,
        "agenda": meeting.agenda,
        "is_final": meeting.is_final,
        "created_at": meeting.created_at,
        "decided_at": meeting.decided_at,
        "held_at": meeting.held_at,
    }


def _details(meeting: Meeting) -> dict[str, Any]:
    confirmations = meetings.confirmations(meeting)
    mine = confirmations.get(current_user.id)
    actions = allowed_actions(meeting, current_user)
    return {
        "amendment": meeting.amendment.number if meeting.amendment else None,
        "change": meetings.pending_change(meeting),
        "my_confirmation": mine,
        "their_confirmation": confirmations.get(meeting.mentorship.other_party(current_user).id),
        "can_confirm": "confirm" in actions and mine != "consented",
        "actions": list(actions),
        "my_feedback": followups.feedback_of(meeting, current_user),
    }


# ---- what a client sends -------------------------------------------------------------------


def _whole_minute(sent: datetime) -> None:
    """A meeting starts on a minute, as the pages' forms send it: two meetings a second apart
    would be two at once that the database's one-at-a-time rule (on the exact time) misses,
    and a time cut silently would not be the one sent."""
    offset = sent.utcoffset()
    if sent.second or sent.microsecond or (offset is not None and offset.seconds % 60):
        raise ma.ValidationError(
            _("Give the time in whole minutes: its seconds must be 0 (10:00:00, not 10:00:01).")
        )


class ScheduleSchema(ma.Schema):
    starts_at = ma.fields.DateTime(
        required=True, validate=_whole_minute, metadata={"description": WHEN}
    )
    duration_minutes = ma.fields.Integer(required=True, metadata={"description": "15 to 480."})
    place = ma.fields.String(
        required=True, metadata={"description": "An address or a video link; up to 300."}
    )
    agenda = ma.fields.String(load_default="", metadata={"description": "Up to 4000."})
    is_final = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "The final meeting (once the agreement is approved)."},
    )


class MeetingDeclineSchema(ma.Schema):
    message = ma.fields.String(
        required=True, metadata={"description": "Why, and which time would suit better."}
    )


class ChangeProposalSchema(ma.Schema):
    """A move names what changes; what it leaves out stays as it is."""

    kind = ma.fields.String(required=True, metadata={"description": "reschedule or cancel."})
    starts_at = ma.fields.DateTime(
        load_default=None,
        validate=_whole_minute,
        metadata={"description": WHEN + " A move's; default: unchanged."},
    )
    duration_minutes = ma.fields.Integer(
        load_default=None, metadata={"description": "A move's; default: unchanged."}
    )
    place = ma.fields.String(
        load_default="", metadata={"description": "A move's; default: unchanged."}
    )
    message = ma.fields.String(load_default="", metadata={"description": "To the other party."})


class FeedbackInputSchema(ma.Schema):
    rating = ma.fields.Integer(required=True, metadata={"description": "1 to 5."})
    comment = ma.fields.String(load_default="", metadata={"description": "Up to 2000."})


def _utc(sent: datetime, user: User) -> datetime:
    """The UTC time a client sent: an aware time is that instant, a naive one a time on the
    member's clock (:func:`meetings.meeting_start`)."""
    if sent.tzinfo is None:
        return meetings.meeting_start(sent.date(), sent.time(), user)
    try:
        return sent.astimezone(UTC)
    except OverflowError:  # the first or last hours of the calendar
        raise InvalidInput(_("Choose a time in the next three years.")) from None


def _moved_start(meeting: Meeting, sent: datetime | None, user: User) -> datetime:
    """The start a move proposes: the meeting's own if none was sent; a naive time as the
    change form reads it (:func:`meetings.moved_start`)."""
    if sent is None:
        return meeting.starts_at
    if sent.tzinfo is None:
        return meetings.moved_start(meeting, sent.date(), sent.time(), user)
    return _utc(sent, user)


# ---- reading -------------------------------------------------------------------------------


@bp.get("/mentorships/<int:mentorship_id>/meetings")
@bp.arguments(PageArguments, location="query")
@bp.response(200, page_schema(MeetingSchema))
def mentorship_meetings(arguments: dict[str, Any], mentorship_id: int) -> Any:
    """A mentorship's meetings, whatever their status, by time as its page lists them, a page
    at a time (``?after=`` the ``next`` cursor of the page before)."""
    mentorship = lifecycle.mentorship_for(mentorship_id, current_user, parties=True)
    return _by_time(meetings.mentorship_meetings_by_time(mentorship), arguments)


@bp.get("/meetings")
@bp.arguments(PageArguments, location="query")
@bp.response(200, page_schema(MeetingSchema))
def upcoming(arguments: dict[str, Any]) -> Any:
    """The caller's meetings still to come, proposed or scheduled, in all their mentorships,
    soonest first as their calendar lists them, a page at a time (``?after=``): a meeting
    that begins while the caller pages drops out without shifting the next page."""
    return _by_time(meetings.upcoming_by_time(current_user), arguments)


def _by_time(query: Select[Any], arguments: dict[str, Any]) -> Any:
    page = time_page(query, Meeting.starts_at, Meeting.id, arguments)
    return page, 200, next_link(page)


@bp.get("/meetings/<int:meeting_id>")
@bp.response(200, MeetingDetailSchema)
def meeting(meeting_id: int) -> Meeting:
    """One meeting, with its pending change, both parties' confirmations, the caller's
    feedback and what the caller may do with it now."""
    return meetings.meeting_for(meeting_id, current_user)


# ---- scheduling and answering --------------------------------------------------------------


@bp.post("/mentorships/<int:mentorship_id>/meetings")
@bp.arguments(ScheduleSchema)
@bp.response(201, MeetingDetailSchema)
def schedule(plan: dict[str, Any], mentorship_id: int) -> Meeting:
    """The mentee proposes a meeting; the mentor is asked to approve it."""
    starts_at = _utc(plan.pop("starts_at"), current_user)
    proposed = meetings.schedule(
        mentorship_id, current_user, meetings.MeetingPlan(starts_at=starts_at, **plan)
    )
    db.session.commit()
    return proposed


def _answered(meeting_id: int) -> Meeting:
    """The meeting after an action, committed, for the answer."""
    db.session.commit()
    return meetings.meeting_for(meeting_id, current_user)


@bp.post("/meetings/<int:meeting_id>/approve")
@bp.response(200, MeetingDetailSchema)
def approve_meeting(meeting_id: int) -> Meeting:
    """The mentor approves a proposed meeting: it is scheduled."""
    meetings.approve(meeting_id, current_user)
    return _answered(meeting_id)


@bp.post("/meetings/<int:meeting_id>/decline")
@bp.arguments(MeetingDeclineSchema)
@bp.response(200, MeetingDetailSchema)
def decline_meeting(answer: dict[str, Any], meeting_id: int) -> Meeting:
    """The mentor declines a proposed meeting, with a message the mentee reads."""
    meetings.decline(meeting_id, current_user, answer["message"])
    return _answered(meeting_id)


@bp.post("/meetings/<int:meeting_id>/withdraw")
@bp.response(200, MeetingDetailSchema)
def withdraw_meeting(meeting_id: int) -> Meeting:
    """The mentee takes back a meeting the mentor has not answered yet."""
    meetings.withdraw(meeting_id, current_user)
    return _answered(meeting_id)


# ---- moving or cancelling ------------------------------------------------------------------


@bp.post("/meetings/<int:meeting_id>/changes")
@bp.arguments(ChangeProposalSchema)
@bp.response(201, MeetingDetailSchema)
def propose_change(proposal: dict[str, Any], meeting_id: int) -> Meeting:
    """Either party proposes to move or cancel a scheduled meeting still to come; the other
    answers. The meeting is answered, its ``change`` the proposal."""
    plan = None
    if proposal["kind"] == RESCHEDULE:
        found = meetings.meeting_for(meeting_id, current_user)
        duration = proposal["duration_minutes"]
        plan = meetings.MeetingPlan(
            starts_at=_moved_start(found, proposal["starts_at"], current_user),
            duration_minutes=found.duration_minutes if duration is None else duration,
            place=proposal["place"],
        )
    meetings.propose_change(meeting_id, current_user, proposal["kind"], plan, proposal["message"])
    return _answered(meeting_id)


@bp.post("/meetings/changes/<int:change_id>/<answer>")
@bp.response(200, MeetingDetailSchema)
def answer_change(change_id: int, answer: str) -> Meeting:
    """Answer a proposed change: ``accept`` or ``refuse`` it (the other party), or
    ``withdraw`` it (its proposer). Accepted, the meeting moves or is cancelled."""
    answered = meetings.answer_change(change_id, current_user, answer)
    return _answered(answered.meeting_id)


# ---- did it take place? --------------------------------------------------------------------


@bp.post("/meetings/<int:meeting_id>/confirm")
@bp.response(200, MeetingDetailSchema)
def confirm(meeting_id: int) -> Meeting:
    """The caller confirms the meeting took place, once it has begun; it is held when both
    have (and a final meeting completes the mentorship). Confirming again changes nothing."""
    meetings.confirm_held(meeting_id, current_user)
    return _answered(meeting_id)


@bp.post("/meetings/<int:meeting_id>/missed")
@bp.response(200, MeetingDetailSchema)
def missed(meeting_id: int) -> Meeting:
    """The caller says the meeting did not take place: it does not count."""
    meetings.report_missed(meeting_id, current_user)
    return _answered(meeting_id)


@bp.put("/meetings/<int:meeting_id>/feedback")
@bp.arguments(FeedbackInputSchema)
@bp.response(200, FeedbackSchema)
def feedback(given: dict[str, Any], meeting_id: int) -> Any:
    """The caller's rating and comment on a meeting both confirmed took place (theirs alone
    to read); sent again, it replaces the one before."""
    kept = followups.give_feedback(meeting_id, current_user, given["rating"], given["comment"])
    db.session.commit()
    return kept
