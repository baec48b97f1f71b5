"""What alma does on its own around meetings: reminders before them, a request for feedback
after them, and a nudge after a long silence. Each is a scheduler job that finds what is due
from the tables and claims it with a conditional UPDATE in the same unit of work as the mail
it queues: a job that runs twice, late, or in two processes at once sends each mail once, and
one that missed runs (downtime) catches up on its next run. Like services.py, these functions
flush and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, false, func, or_, select, update

from core.api import (
    InvalidInput,
    NotAllowed,
    User,
    db,
    external_url,
    format_when,
    reading_as,
    rows_changed,
    send_mail,
    utcnow,
)
from plugins.mentoring.models import (
    HELD,
    PAIRED_STATES,
    SCHEDULED,
    ChatMessage,
    Meeting,
    MeetingFeedback,
    Mentorship,
)
from plugins.mentoring.services.agreements import agreement_in_force
from plugins.mentoring.services.meetings import meeting_for
from plugins.mentoring.services.settings import settings

MAX_COMMENT = 2000


def _claim(model, row_id: int, column: str, condition: ColumnElement | None = None) -> bool:
    """Stamp ``column`` of one row, unless someone did already: True if this call did."""
    stamped = getattr(model, column)
    query = update(model).where(
        model.id == row_id, or_(stamped.is_(None), condition if condition is not None else false())
    )
    stamped_now = rows_changed(
        query.values({column: utcnow()}).execution_options(synchronize_session=False)
    )
    return stamped_now == 1


# ---- reminders -----------------------------------------------------------------------------


def send_reminders() -> int:
    """Job: a reminder to both parties of each approved meeting starting within the
    configured hours. A meeting whose time passed during downtime gets none."""
    now = utcnow()
    due = db.session.scalars(
        select(Meeting.id).where(
            Meeting.status == SCHEDULED,
            Meeting.reminded_at.is_(None),
            Meeting.starts_at > now,
            Meeting.starts_at <= now + timedelta(hours=settings().reminder_hours_before),
        )
    ).all()
    return _mail_both_once(
        due,
        "reminded_at",
        lambda other: _("Reminder: your meeting with %(name)s", name=other.display_name),
        "mentoring/mail/meeting_reminder",
        "mentoring_meetings.meeting",
    )


def _mail_both_once(meeting_ids, stamp: str, subject, template: str, page: str) -> int:
    """Mail both parties of each meeting this run claims by setting its column ``stamp``;
    ``subject(other party)`` and the meeting's ``page`` (an endpoint) make what differs per
    job."""
    sent = 0
    for meeting_id in meeting_ids:
        if not _claim(Meeting, meeting_id, stamp):
            continue
        meeting = db.session.get_one(Meeting, meeting_id)
        for party in _parties(meeting.mentorship):
            other = meeting.mentorship.other_party(party)
            with reading_as(party):
                send_mail(
                    party.email,
                    subject(other),
                    template,
                    user=party,
                    other=other,
                    meeting=meeting,
                    when=format_when(meeting.starts_at, "zoned"),
                    link=external_url(page, meeting_id=meeting.id),
                )
            sent += 1
    return sent


# ---- feedback after a meeting --------------------------------------------------------------


def request_feedback() -> int:
    """Job: once a meeting is held (both confirmed it), each party is asked by e-mail for a
    rating and a comment."""
    due = db.session.scalars(
        select(Meeting.id).where(Meeting.status == HELD, Meeting.feedback_requested_at.is_(None))
    ).all()
    return _mail_both_once(
        due,
        "feedback_requested_at",
        lambda other: _("How was your meeting with %(name)s?", name=other.display_name),
        "mentoring/mail/feedback_request",
        "mentoring_meetings.feedback",
    )


def feedback_of(meeting: Meeting, user: User) -> MeetingFeedback | None:
    return db.session.get(MeetingFeedback, (meeting.id, user.id))


def give_feedback(meeting_id: int, user: User, rating: int, comment: str) -> MeetingFeedback:
    """A party rates a meeting that took place; giving it again changes it."""
    meeting = meeting_for(meeting_id, user, lock=True)
    if meeting.status != HELD:
        raise NotAllowed(_("Feedback is for meetings both of you confirmed took place."))
    if rating not in range(1, 6):
        raise InvalidInput(_("Choose a rating from 1 to 5."))
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(_("Keep your comment under %(n)d characters.", n=MAX_COMMENT))
    feedback = feedback_of(meeting, user)
    if feedback is None:
        feedback = MeetingFeedback(meeting_id=meeting.id, user_id=user.id)
        db.session.add(feedback)
    feedback.rating, feedback.comment, feedback.updated_at = rating, comment, utcnow()
    db.session.flush()
    return feedback


# ---- a nudge after a long silence ----------------------------------------------------------


@dataclass(frozen=True)
class Silence:
    mentorship: Mentorship
    last_contact: datetime
    period_days: int


def nudge_silent_pairs() -> int:
    """Job: pairs with no meeting and no chat message for longer than they agreed to keep in
    touch (or the configured fallback) get an e-mail each, asking how it goes; at most once
    per such period."""
    sent = 0
    for silence in silent_pairs(utcnow()):
        period = timedelta(days=silence.period_days)
        if not _claim(
            Mentorship,
            silence.mentorship.id,
            "nudged_at",
            Mentorship.nudged_at <= utcnow() - period,
        ):
            continue
        for party in _parties(silence.mentorship):
            other = silence.mentorship.other_party(party)
            with reading_as(party):
                send_mail(
                    party.email,
                    _("How is your mentorship with %(name)s going?", name=other.display_name),
                    "mentoring/mail/silence_nudge",
                    user=party,
                    other=other,
                    days=(utcnow() - silence.last_contact).days,
                    link=external_url("mentoring.mentorship", mentorship_id=silence.mentorship.id),
                )
            sent += 1
    return sent


def silent_pairs(now: datetime) -> list[Silence]:
    """Mentorships under way whose last contact is older than their period, and which were
    not nudged within the period."""
    fallback = settings().inactivity_fallback_days
    last_message = (
        select(func.max(ChatMessage.created_at))
        .where(ChatMessage.mentorship_id == Mentorship.id)
        .scalar_subquery()
    )
    last_meeting = (
        select(func.max(Meeting.starts_at))
        .where(Meeting.mentorship_id == Mentorship.id, Meeting.status == HELD)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Mentorship, last_message, last_meeting).where(Mentorship.state.in_(PAIRED_STATES))
    ).all()
    silences = []
    for mentorship, message_at, meeting_at in rows:
        in_force = agreement_in_force(mentorship)
        period = in_force.contact_every_days if in_force else fallback
        contacts = [mentorship.state_changed_at, message_at, meeting_at]
        last_contact = max(moment for moment in contacts if moment is not None)
        cutoff = now - timedelta(days=period)
        nudged_recently = mentorship.nudged_at is not None and mentorship.nudged_at > cutoff
        if last_contact < cutoff and not nudged_recently:
            silences.append(Silence(mentorship, last_contact, period))
    return silences


def _parties(mentorship: Mentorship) -> tuple[User, User]:
    return mentorship.mentee, mentorship.mentor
