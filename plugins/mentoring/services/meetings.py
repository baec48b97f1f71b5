"""Meetings. The mentee proposes one; the mentor approves it (scheduled) or declines it.
Either party proposes to move or cancel a scheduled meeting, and the other confirms. Once it
has begun, each party confirms it took place: that is their consent to the core goal
"attended the meeting", whose completion marks the meeting held. A meeting beyond the agreed
number, or after the agreed end, carries the amendment of the agreement it needs.

Times are aware UTC datetimes here; the views convert from and to each member's time zone."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core.api import (
    Goal,
    InvalidInput,
    NotFound,
    Step,
    Transitions,
    User,
    consent_to_goal,
    db,
    decline_goal,
    emit_webhook,
    format_when,
    from_local,
    local_clock,
    local_date,
    notify,
    occurs_twice,
    propose_goal,
    reading_as,
    site_path,
    utcnow,
    wake_job_after_commit,
    zone_of,
)
from plugins.mentoring.models import (
    ACCEPTED_CHANGE,
    ACTIVE,
    APPROVED,
    CANCEL,
    CANCELLED,
    DECLINED_MEETING,
    HELD,
    LIVE_MEETING_STATUSES,
    MISSED,
    OTHER_PARTY,
    PAIRED_STATES,
    PROPOSED,
    PROPOSER,
    REJECTED,
    RESCHEDULE,
    SCHEDULED,
    WITHDRAWN_CHANGE,
    AgreementVersion,
    Meeting,
    MeetingChange,
    Mentorship,
)
from plugins.mentoring.services import agreements
from plugins.mentoring.services.ending import complete_mentorship
from plugins.mentoring.services.lifecycle import (
    MENTORSHIP,
    by_either_party,
    mentorship_for,
    mentorship_of_subject,
    mentorship_path,
    mentorship_subject,
)

MEETING_ATTENDED = "mentoring.meeting_attended"
MENTORSHIP_FINISHED = "mentoring.finished"
FEEDBACK_JOB_ID = "mentoring.meeting_feedback"
MAX_PLACE = 300
MAX_AGENDA = 4000
TITLE_LENGTH = Goal.title.type.length


@dataclass(frozen=True)
class MeetingPlan:
    starts_at: datetime  # aware
    duration_minutes: int
    place: str
    agenda: str = ""
    is_final: bool = False


# ---- reading -------------------------------------------------------------------------------


def meeting_for(meeting_id: int, user: User, *, lock: bool = False) -> Meeting:
    """The meeting, if ``user`` is a party of its mentorship (404 if none, 403 if not theirs).
    ``lock`` locks the mentorship: every change of its meetings holds that lock."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(_("This meeting does not exist."))
    mentorship_for(meeting.mentorship_id, user, lock=lock)
    if lock:
        db.session.refresh(meeting)
    return meeting


def meetings_of_mentorship(mentorship: Mentorship) -> list[Meeting]:
    return list(db.session.scalars(mentorship_meetings_by_time(mentorship)))


def mentorship_meetings_by_time(mentorship: Mentorship) -> Select[Meeting]:
    """The query of a mentorship's meetings in the order its page lists them (by time), for
    a caller that reads them a page at a time."""
    return (
        select(Meeting)
        .where(Meeting.mentorship_id == mentorship.id)
        .order_by(Meeting.starts_at, Meeting.id)
    )


def meetings_of(user: User, since: datetime | None = None, until: datetime | None = None):
    """The member's meetings in every mentorship, by time, with their mentorship loaded."""
    return list(db.session.scalars(_meetings_by_time(user, since, until)))


def _meetings_by_time(
    user: User, since: datetime | None = None, until: datetime | None = None
) -> Select[Meeting]:
    query = (
        select(Meeting)
        .join(Mentorship, Mentorship.id == Meeting.mentorship_id)
        .where(or_(Mentorship.mentee_id == user.id, Mentorship.mentor_id == user.id))
        .options(
            joinedload(Meeting.mentorship).joinedload(Mentorship.mentee),
            joinedload(Meeting.mentorship).joinedload(Mentorship.mentor),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    if since is not None:
        query = query.where(Meeting.starts_at >= since)
    if until is not None:
        query = query.where(Meeting.starts_at < until)
    return query


@dataclass(frozen=True)
class Month:
    """A month of a member's calendar, on their own clock."""

    first: date  # its first day
    weeks: list[list[date]]  # the whole weeks (Monday first) that cover it
    meetings: list[Meeting]  # by time
    by_day: dict[date, list[Meeting]]

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return _month_after(self.first)


def _month_after(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def month_of(user: User, day: date) -> Month:
    """The month of ``day`` with the member's meetings in it, each on its day in their time
    zone (a meeting late on the last evening of the month, their time, is in it)."""
    first = day.replace(day=1)
    since = from_local_in_range(first, time.min, user)
    until = from_local_in_range(_month_after(first), time.min, user)
    found = meetings_of(user, since=since, until=until)
    by_day: dict[date, list[Meeting]] = {}
    for meeting in found:
        by_day.setdefault(local_date(meeting.starts_at, user), []).append(meeting)
    weeks = calendar.Calendar().monthdatescalendar(first.year, first.month)
    return Month(first, weeks, found, by_day)


def held_count(mentorship: Mentorship) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(Meeting)
        .where(Meeting.mentorship_id == mentorship.id, Meeting.status == HELD)
    ).scalar_one()


def upcoming_of(user: User, limit: int = 20) -> list[Meeting]:
    """The member's meetings still to come that are proposed or scheduled."""
    return list(db.session.scalars(upcoming_by_time(user).limit(limit)))


def upcoming_by_time(user: User) -> Select[Meeting]:
    """The query of :func:`upcoming_of`, for a caller that reads it a page at a time."""
    still_open = Meeting.status.in_((PROPOSED, SCHEDULED))
    return _meetings_by_time(user, since=utcnow()).where(still_open)


def change_for(change_id: int, user: User) -> MeetingChange:
    change = db.session.get(MeetingChange, change_id)
    if change is None:
        raise NotFound(_("This change does not exist."))
    meeting_for(change.meeting_id, user)
    return change


def pending_change(meeting: Meeting) -> MeetingChange | None:
    return db.session.scalar(
        select(MeetingChange).where(
            MeetingChange.meeting_id == meeting.id, MeetingChange.status == PROPOSED
        )
    )


def confirmations(meeting: Meeting) -> dict[int, str]:
    """Each party's answer to "did it take place?", by user id: pending, consented,
    declined (nothing before the first answer)."""
    if meeting.goal_id is None:
        return {}
    goal = db.session.get_one(Goal, meeting.goal_id)
    return {party.user_id: party.decision for party in goal.parties}


def can_confirm(meeting: Meeting, now: datetime | None = None) -> bool:
    return meeting.status == SCHEDULED and (now or utcnow()) >= meeting.starts_at


# ---- the meeting's transitions ---------------------------------------------------------------


def _paired(meeting: Meeting) -> bool:
    return meeting.mentorship.state in PAIRED_STATES


def _still_to_come(meeting: Meeting) -> bool:
    return meeting.starts_at > utcnow()


def _open_to_change(meeting: Meeting) -> bool:
    return _still_to_come(meeting) and pending_change(meeting) is None


def _refuse_answer(meeting: Meeting) -> str:
    if not _paired(meeting):  # its proposed meetings were cancelled
        return _("This mentorship has ended.")
    return _("This meeting was already answered.")


def _refuse_confirmation(meeting: Meeting) -> str:
    if meeting.status == SCHEDULED:
        return _("You can confirm a meeting once it has begun.")
    return _("Only a scheduled meeting can be confirmed.")


def _refuse_change(meeting: Meeting) -> str:
    if meeting.status == SCHEDULED and _still_to_come(meeting):
        return _("A change of this meeting already awaits an answer.")
    return _("Only a scheduled meeting still to come can be moved or cancelled.")


def _mentors_answer(action: str, to: str, label: Any) -> Step:
    """The mentor's answer to a proposed meeting, while the mentorship is under way."""
    not_yours = _l("Only the mentor answers a proposed meeting.")
    return Step(
        PROPOSED,
        action,
        "mentor",
        to,
        label,
        when=_paired,
        not_now=_refuse_answer,
        not_yours=not_yours,
    )


# What each party may do with a meeting, and when. The mentee proposes it (a step of the
# mentorship's table, lifecycle.MENTORSHIP); once it has begun, both confirm it took place
# (it is held when both have) or say it did not; a change of a scheduled meeting is answered
# through MEETING_CHANGE.
MEETING = Transitions(
    Meeting,
    state=lambda meeting: meeting.status,
    sides=lambda meeting, member: meeting.mentorship.sides_of(member),
    steps=[
        _mentors_answer("approve", SCHEDULED, _l("Approve")),
        _mentors_answer("decline", DECLINED_MEETING, _l("Decline")),
        Step(
            PROPOSED,
            "withdraw",
            "mentee",
            CANCELLED,
            _l("Take it back"),
            not_now=_l("This meeting was already answered: propose to cancel it."),
            not_yours=_l("Only the mentee can take back a proposed meeting."),
        ),
        *by_either_party(
            SCHEDULED,
            "confirm",
            HELD,
            label=_l("Yes, it took place"),
            when=can_confirm,
            not_now=_refuse_confirmation,
        ),
        *by_either_party(
            SCHEDULED,
            "missed",
            MISSED,
            label=_l("No, it did not"),
            when=can_confirm,
            not_now=_l("Only a scheduled meeting that has begun can be reported missed."),
        ),
        *by_either_party(
            SCHEDULED,
            "propose_change",
            SCHEDULED,
            label=_l("Propose a change"),
            when=_open_to_change,
            not_now=_refuse_change,
        ),
    ],
    not_now=_l("This meeting was already answered."),
    not_yours=_l("This meeting is not yours."),
)


# ---- proposing and answering -----------------------------------------------------------------


def schedule(mentorship_id: int, mentee: User, plan: MeetingPlan) -> Meeting:
    """The mentee proposes a meeting; the mentor is asked to approve it."""
    mentorship = mentorship_for(mentorship_id, mentee, lock=True)
    MENTORSHIP.check(mentorship, mentee, "schedule")
    place, agenda = _checked(plan)
    if plan.is_final:
        _check_final(mentorship)
    meeting = Meeting(
        mentorship_id=mentorship.id,
        starts_at=plan.starts_at,
        duration_minutes=plan.duration_minutes,
        place=place,
        agenda=agenda,
        is_final=plan.is_final,
        status=PROPOSED,
    )
    meeting.amendment = agreements.propose_departure(
        mentorship,
        mentee,
        extra_meeting=_is_extra_meeting(mentorship),
        until=local_date(plan.starts_at, mentee),
        reason=_(
            "A meeting on %(when)s",
            when=format_when(plan.starts_at, "zoned", zone=zone_of(mentee)),
        ),
    )
    try:
        with db.session.begin_nested():
            db.session.add(meeting)
    except IntegrityError:  # the database's "one meeting at a time" (a double submit)
        raise InvalidInput(_("You already have a meeting at that time.")) from None
    with reading_as(mentorship.mentor):
        notify(
            mentorship.mentor,
            _(
                "%(name)s proposes a meeting on %(when)s.",
                name=mentee.display_name,
                when=format_when(plan.starts_at, "zoned"),
            ),
            url=meeting_path(meeting.id),
            email_subject=_("%(name)s proposes a meeting", name=mentee.display_name),
            mail_kind="mentoring.meetings",
        )
    return meeting


def approve(meeting_id: int, mentor: User) -> Meeting:
    meeting, mentorship = _proposed_meeting_for_mentor(meeting_id, mentor, "approve")
    if meeting.starts_at <= utcnow():
        raise InvalidInput(_("This meeting's time has passed: ask for a new time."))
    if meeting.amendment is not None:
        agreements.decide(meeting.amendment, mentor, APPROVED)
    meeting.status = SCHEDULED
    meeting.decided_at = utcnow()
    meeting.sequence += 1  # calendars that imported the tentative meeting take the update
    db.session.flush()
    with reading_as(mentorship.mentee):
        notify(
            mentorship.mentee,
            _(
                "%(name)s approved the meeting on %(when)s.",
                name=mentor.display_name,
                when=format_when(meeting.starts_at, "zoned"),
            ),
            url=meeting_path(meeting.id),
            email_subject=_("%(name)s approved your meeting", name=mentor.display_name),
            mail_kind="mentoring.meetings",
        )
    return meeting


def decline(meeting_id: int, mentor: User, message: str) -> Meeting:
    message = message.strip()
    if not message:
        raise InvalidInput(_("Say why, and which time would suit you better."))
    meeting, mentorship = _proposed_meeting_for_mentor(meeting_id, mentor, "decline")
    if meeting.amendment is not None:
        agreements.decide(meeting.amendment, mentor, REJECTED, message)
    meeting.status = DECLINED_MEETING
    meeting.decided_at = utcnow()
    meeting.sequence += 1
    db.session.flush()
    with reading_as(mentorship.mentee):
        notify(
            mentorship.mentee,
            _(
                "%(name)s declined the meeting on %(when)s: “%(message)s”",
                name=mentor.display_name,
                when=format_when(meeting.starts_at, "zoned"),
                message=message,
            ),
            url=meeting_path(meeting.id),
            email_subject=_("%(name)s declined your meeting", name=mentor.display_name),
            mail_kind="mentoring.meetings",
        )
    return meeting


def withdraw(meeting_id: int, mentee: User) -> Meeting:
    """The mentee takes back a meeting the mentor has not answered yet."""
    meeting = meeting_for(meeting_id, mentee, lock=True)
    MEETING.check(meeting, mentee, "withdraw")
    if meeting.amendment is not None:
        agreements.withdraw_departure(meeting.amendment, mentee)
    meeting.status = CANCELLED
    meeting.sequence += 1
    db.session.flush()
    return meeting


def propose_change(
    meeting_id: int, user: User, kind: str, plan: MeetingPlan | None, message: str
) -> MeetingChange:
    """Either party proposes to move (``plan`` gives the new time, length and place) or cancel
    a scheduled meeting that has not begun; the other confirms."""
    meeting = meeting_for(meeting_id, user, lock=True)
    mentorship = meeting.mentorship
    MEETING.check(meeting, user, "propose_change")
    if kind not in (RESCHEDULE, CANCEL):
        raise InvalidInput(_("Choose to move or to cancel the meeting."))
    change = MeetingChange(
        meeting_id=meeting.id, kind=kind, proposed_by_id=user.id, message=message.strip()[:2000]
    )
    if kind == RESCHEDULE:
        if plan is None:
            raise InvalidInput(_("Choose the new time."))
        plan = replace(plan, place=plan.place.strip() or meeting.place)
        change.place = _checked(plan)[0]
        change.starts_at, change.duration_minutes = plan.starts_at, plan.duration_minutes
        if not change_differences(meeting, change):
            raise InvalidInput(_("Nothing changed: edit the time, the length or the place."))
        amendment = agreements.propose_departure(
            mentorship,
            user,
            extra_meeting=False,
            until=local_date(plan.starts_at, user),
            reason=_(
                "A meeting moved to %(when)s",
                when=format_when(plan.starts_at, "zoned", zone=zone_of(user)),
            ),
        )
        change.amendment_id = amendment.id if amendment else None
    db.session.add(change)
    db.session.flush()
    _tell_other_of_change(meeting, change, user)
    return change


def _tell_other_of_change(meeting: Meeting, change: MeetingChange, user: User) -> None:
    """The other party hears what the change is: a cancellation, or what a move changes."""
    other = meeting.mentorship.other_party(user)
    with reading_as(other):
        when = format_when(meeting.starts_at, "zoned")
        if change.kind == CANCEL:
            message = _(
                "%(name)s proposes to cancel the meeting of %(when)s.",
                name=user.display_name,
                when=when,
            )
        else:
            message = _(
                "%(name)s proposes to change the meeting of %(when)s: %(changes)s.",
                name=user.display_name,
                when=when,
                changes="; ".join(
                    f"{d.label}: {d.old} → {d.new}"
                    for d in change_differences(meeting, change, "zoned")
                ),
            )
        notify(
            other,
            message,
            url=meeting_path(meeting.id),
            email_subject=_("%(name)s proposes a change to your meeting", name=user.display_name),
            mail_kind="mentoring.meetings",
        )


@dataclass(frozen=True)
class Difference:
    label: str
    old: str
    new: str


def change_differences(
    meeting: Meeting, change: MeetingChange, shape: str = "datetime"
) -> list[Difference]:
    """What a move changes of the meeting (its time, length, place), old and new, as the
    current reader reads them (times in ``shape``); nothing for a cancellation."""
    if change.kind != RESCHEDULE:
        return []

    def minutes(n: int) -> str:
        return ngettext("%(num)d minute", "%(num)d minutes", n)

    aspects: list[tuple[str, Any, Any, Callable[[Any], str]]] = [
        (
            _("Time"),
            meeting.starts_at,
            change.starts_at,
            lambda moment: format_when(moment, shape),
        ),
        (_("Length"), meeting.duration_minutes, change.duration_minutes, minutes),
        (_("Place"), meeting.place, change.place or meeting.place, str),
    ]
    return [
        Difference(label, shown(old), shown(new))
        for label, old, new, shown in aspects
        if old != new
    ]


ACCEPT, REFUSE, WITHDRAW = "accept", "refuse", "withdraw"


def _side_of(change: MeetingChange, user: User) -> set[str]:
    """{PROPOSER} or {OTHER_PARTY}; nothing for a member who is neither."""
    if change.meeting.mentorship.party_role(user) is None:
        return set()
    return {PROPOSER} if change.proposed_by_id == user.id else {OTHER_PARTY}


def _time_ahead(change: MeetingChange) -> bool:
    """Are the meeting, and the time a move proposes, still to come?"""
    meeting, now = change.meeting, utcnow()
    return (
        meeting.status == SCHEDULED
        and meeting.starts_at > now
        and (change.kind == CANCEL or (change.starts_at is not None and change.starts_at > now))
    )


ALREADY_ANSWERED = _l("This change was already answered.")


def _refuse_acceptance(change: MeetingChange) -> str:
    if change.status != PROPOSED:
        return str(ALREADY_ANSWERED)
    if change.meeting.status != SCHEDULED or change.meeting.starts_at <= utcnow():
        return _("This meeting has begun or ended: it can no longer change.")
    return _("The proposed time has passed: propose another one.")


# A meeting change's transitions, the one place that says who may answer it and how. Only a
# proposed change is answered, and accepted only while the meeting and the proposed time are
# to come; the services check this table and the meeting's page asks it what to offer.
MEETING_CHANGE = Transitions(
    MeetingChange,
    state=lambda change: change.status,
    sides=_side_of,
    steps=[
        Step(
            PROPOSED,
            ACCEPT,
            OTHER_PARTY,
            ACCEPTED_CHANGE,
            _l("Agree"),
            _l("Done: the meeting changed."),
            when=_time_ahead,
            not_now=_refuse_acceptance,
        ),
        Step(
            PROPOSED,
            REFUSE,
            OTHER_PARTY,
            REJECTED,
            _l("Keep it as it is"),
            _l("The meeting stays as it was."),
        ),
        Step(
            PROPOSED,
            WITHDRAW,
            PROPOSER,
            WITHDRAWN_CHANGE,
            _l("Take it back"),
            _l("You took back your change."),
            not_yours=_l("Only the member who proposed the change can take it back."),
        ),
    ],
    not_now=ALREADY_ANSWERED,
    not_yours=_l("The other party answers your proposal, not you."),
    unknown=_l("There is no such answer to a change."),
)


def change_step(answer: str) -> Step:
    """The step ``answer`` makes from a proposed change (the only kind that takes answers),
    with its words; not found for an answer the table does not know."""
    for step in MEETING_CHANGE.steps:
        if step.action == answer:
            return step
    raise NotFound(_("There is no such answer to a change."))


def answer_change(change_id: int, user: User, answer: str) -> MeetingChange:
    """The other party accepts (the meeting moves, or is cancelled) or refuses a change; the
    proposer may withdraw it. Any amendment the change carries shares its fate."""
    change_step(answer)
    change = change_for(change_id, user)
    meeting = meeting_for(change.meeting_id, user, lock=True)
    db.session.refresh(change)
    if meeting.mentorship.state not in PAIRED_STATES:  # its pending changes ended with it
        raise InvalidInput(_("This mentorship has ended."))
    step = MEETING_CHANGE.check(change, user, answer)
    amendment = change.amendment_id and db.session.get(AgreementVersion, change.amendment_id)
    if amendment and step.to == WITHDRAWN_CHANGE:
        agreements.withdraw_departure(amendment, user)
    elif amendment:
        agreements.decide(amendment, user, APPROVED if step.to == ACCEPTED_CHANGE else REJECTED)
    change.status, change.decided_at = step.to, utcnow()
    if step.to == ACCEPTED_CHANGE:
        _apply(meeting, change)
    db.session.flush()
    _tell_proposer(change, user)
    return change


def _tell_proposer(change: MeetingChange, user: User) -> None:
    """The proposer hears the other party's answer (a withdrawal is their own doing)."""
    with reading_as(change.proposed_by):
        if change.status == ACCEPTED_CHANGE:
            notify(
                change.proposed_by,
                _("%(name)s agreed to your change of the meeting.", name=user.display_name),
                url=meeting_path(change.meeting_id),
                email_subject=_("%(name)s agreed to change your meeting", name=user.display_name),
                mail_kind="mentoring.meetings",
            )
        elif change.status == REJECTED:
            notify(
                change.proposed_by,
                _("%(name)s keeps the meeting as it was.", name=user.display_name),
                url=meeting_path(change.meeting_id),
            )


def _apply(meeting: Meeting, change: MeetingChange) -> None:
    try:
        with db.session.begin_nested():
            if change.kind == CANCEL:
                meeting.status = CANCELLED
            else:
                # a move names both (the check constraint reschedule_has_time)
                assert change.starts_at is not None and change.duration_minutes is not None
                meeting.starts_at = change.starts_at
                meeting.duration_minutes = change.duration_minutes
                meeting.place = change.place or meeting.place
                meeting.reminded_at = None  # a reminder for the new time
            meeting.sequence += 1
    except IntegrityError:  # the database's "one meeting at a time"
        raise InvalidInput(_("You already have another meeting at that time.")) from None


# ---- did it take place? --------------------------------------------------------------------


def confirm_held(meeting_id: int, user: User) -> Meeting:
    """A party confirms the meeting took place: their consent to its goal. The second
    confirmation completes the goal, and :func:`goal_completed` marks the meeting held."""
    meeting = meeting_for(meeting_id, user, lock=True)
    MEETING.check(meeting, user, "confirm")
    goal = _attendance_goal(meeting)
    if confirmations(meeting).get(user.id) != "pending":
        return meeting  # confirmed before (a double submit): the other party heard of it then
    consent_to_goal(goal.id, user)
    db.session.refresh(meeting)
    if meeting.status == SCHEDULED:
        other = meeting.mentorship.other_party(user)
        with reading_as(other):
            notify(
                other,
                _(
                    "%(name)s confirmed your meeting of %(when)s took place: confirm it too.",
                    name=user.display_name,
                    when=format_when(meeting.starts_at, "zoned"),
                ),
                url=meeting_path(meeting.id),
            )
    return meeting


def report_missed(meeting_id: int, user: User) -> Meeting:
    """A party says the meeting did not take place: it cannot count."""
    meeting = meeting_for(meeting_id, user, lock=True)
    MEETING.check(meeting, user, "missed")
    decline_goal(_attendance_goal(meeting).id, user)  # see goal_declined
    db.session.refresh(meeting)
    return meeting


def _attendance_goal(meeting: Meeting) -> Goal:
    """The meeting's goal, proposed at the first confirmation (not before: until the meeting
    begins there is nothing to consent to)."""
    mentorship = meeting.mentorship
    goal = propose_goal(
        MEETING_ATTENDED,
        _attendance_title(meeting),
        [mentorship.mentee, mentorship.mentor],
        subject=f"mentoring.meeting:{meeting.id}",
        key=f"mentoring.meeting:{meeting.id}",
        url=meeting_path(meeting.id),
    )
    meeting.goal_id = goal.id
    db.session.flush()
    return goal


def _attendance_title(meeting: Meeting) -> str:
    """The title of a meeting's goal, read by both parties on their profiles: its date and
    time on each party's clock (once when they share a time zone), so neither reads the
    other's date as theirs and two meetings of one day have different titles."""
    mentorship = meeting.mentorship
    zones = dict.fromkeys(zone_of(party) for party in (mentorship.mentee, mentorship.mentor))
    when = " / ".join(format_when(meeting.starts_at, "zoned", zone=zone) for zone in zones)
    for longest in (TITLE_LENGTH, 24):  # long names give way to the date
        title = _(
            "Meeting of %(mentee)s and %(mentor)s, %(when)s",
            mentee=_shortened(mentorship.mentee.display_name, longest),
            mentor=_shortened(mentorship.mentor.display_name, longest),
            when=when,
        )
        if len(title) <= TITLE_LENGTH:
            break
    return title[:TITLE_LENGTH]


def _shortened(name: str, longest: int) -> str:
    return name if len(name) <= longest else name[: longest - 1] + "…"


def goal_completed(goal: Goal) -> None:
    """Core says a goal completed (whether consented on the meeting page or on a profile):
    a meeting's goal marks it held, and the final meeting finishes the mentorship through
    the goal "finished the mentorship", consented by both through their confirmations."""
    if goal.kind == MEETING_ATTENDED:
        meeting = db.session.scalar(select(Meeting).where(Meeting.goal_id == goal.id))
        if meeting is None or meeting.status != SCHEDULED:
            return
        meeting.status = HELD
        meeting.held_at = utcnow()
        db.session.flush()
        emit_webhook(
            "meeting.held",
            {
                "meeting_id": meeting.id,
                "mentorship_id": meeting.mentorship_id,
                "final": meeting.is_final,
            },
            ordering_key=f"mentorship:{meeting.mentorship_id}",
        )
        wake_job_after_commit(FEEDBACK_JOB_ID)
        if meeting.is_final and meeting.mentorship.state == ACTIVE:
            _finish(meeting.mentorship, goal.parties)
    elif goal.kind == MENTORSHIP_FINISHED:
        mentorship = mentorship_of_subject(goal.subject) if goal.subject else None
        if mentorship is not None:
            complete_mentorship(mentorship)


def goal_declined(goal: Goal) -> None:
    """Core says a party declined a goal (on the meeting page or on their profile): a
    meeting's goal marks it missed, and the other party hears of it."""
    if goal.kind != MEETING_ATTENDED:
        return
    meeting = db.session.scalar(select(Meeting).where(Meeting.goal_id == goal.id))
    if meeting is None or meeting.status != SCHEDULED:
        return
    meeting.status = MISSED
    db.session.flush()
    declined_by = next(party.user for party in goal.parties if party.decision == "declined")
    other = meeting.mentorship.other_party(declined_by)
    with reading_as(other):
        notify(
            other,
            _(
                "%(name)s says your meeting of %(when)s did not take place.",
                name=declined_by.display_name,
                when=format_when(meeting.starts_at, "zoned"),
            ),
            url=meeting_path(meeting.id),
        )


def _finish(mentorship: Mentorship, parties) -> None:
    finished = propose_goal(
        MENTORSHIP_FINISHED,
        _(
            "Mentorship of %(mentee)s with %(mentor)s",
            mentee=mentorship.mentee.display_name,
            mentor=mentorship.mentor.display_name,
        ),
        [mentorship.mentee, mentorship.mentor],
        subject=mentorship_subject(mentorship),
        key=f"mentoring.finished:{mentorship.id}",
        url=mentorship_path(mentorship.id),
    )
    for party in parties:  # each confirmed the final meeting: that is their consent
        if finished.completed_at is None:
            finished = consent_to_goal(finished.id, party.user)


def describe_finished(goal: Goal) -> list[tuple[str, str]]:
    """The facts of a finished mentorship, for a certificate (``GoalKind.describe``)."""
    mentorship = mentorship_of_subject(goal.subject) if goal.subject else None
    if mentorship is None:
        return []
    started = mentorship.started_at or mentorship.created_at
    ended = goal.completed_at or mentorship.state_changed_at
    return [
        (_("Mentor"), mentorship.mentor.display_name),
        (_("Mentee"), mentorship.mentee.display_name),
        (_("Period"), f"{format_when(started, 'long')} \N{EN DASH} {format_when(ended, 'long')}"),
        (_("Meetings held"), str(held_count(mentorship))),
    ]


# ---- helpers -------------------------------------------------------------------------------


def _proposed_meeting_for_mentor(
    meeting_id: int, mentor: User, answer: str
) -> tuple[Meeting, Mentorship]:
    meeting = meeting_for(meeting_id, mentor, lock=True)
    MEETING.check(meeting, mentor, answer)
    return meeting, meeting.mentorship


def _checked(plan: MeetingPlan) -> tuple[str, str]:
    place, agenda = plan.place.strip(), plan.agenda.strip()
    if plan.starts_at <= utcnow():
        raise InvalidInput(_("Choose a time in the future."))
    if plan.starts_at > utcnow() + timedelta(days=3 * 366):
        raise InvalidInput(_("Choose a time in the next three years."))
    if not 15 <= plan.duration_minutes <= 480:
        raise InvalidInput(_("A meeting lasts between 15 minutes and 8 hours."))
    if not place:
        raise InvalidInput(_("Say where you meet, or paste the video link."))
    if len(place) > MAX_PLACE:
        raise InvalidInput(_("Keep the place under %(n)d characters.", n=MAX_PLACE))
    if len(agenda) > MAX_AGENDA:
        raise InvalidInput(_("Keep the agenda under %(n)d characters.", n=MAX_AGENDA))
    return place, agenda


def _check_final(mentorship: Mentorship) -> None:
    if mentorship.state != ACTIVE:
        raise InvalidInput(_("The final meeting comes once the agreement is approved."))
    final = db.session.scalar(
        select(Meeting.id).where(
            Meeting.mentorship_id == mentorship.id,
            Meeting.is_final.is_(True),
            Meeting.status.in_(LIVE_MEETING_STATUSES),
        )
    )
    if final is not None:
        raise InvalidInput(_("You already have a final meeting: cancel it to choose another."))


def _is_extra_meeting(mentorship: Mentorship) -> bool:
    """Would one more meeting exceed the number the agreement in force plans?"""
    in_force = agreements.agreement_in_force(mentorship)
    if in_force is None:
        return False
    live = db.session.execute(
        select(func.count())
        .select_from(Meeting)
        .where(
            Meeting.mentorship_id == mentorship.id,
            Meeting.status.in_(LIVE_MEETING_STATUSES),
        )
    ).scalar_one()
    return live >= in_force.meetings_planned


def from_local_in_range(day: date, time_of_day: time, user: User) -> datetime:
    """The UTC time of a date and time on ``user``'s clock, refused at the ends of the
    calendar (the first or last hours of year 1 or 9999, in UTC)."""
    try:
        return from_local(day, time_of_day, user)
    except OverflowError:
        raise InvalidInput(_("Choose a time in the next three years.")) from None


def meeting_start(day: date, time_of_day: time, user: User) -> datetime:
    """The UTC time of a meeting at ``time_of_day`` on ``day`` on ``user``'s clock. A time
    their clock skips (the night it goes forward), or shows twice (the night it goes back),
    is refused rather than silently moved or guessed."""
    starts = from_local_in_range(day, time_of_day, user)
    if local_clock(starts, user).replace(tzinfo=None) != datetime.combine(day, time_of_day):
        raise InvalidInput(
            _("The clocks skip this time that night where you are: choose another time.")
        )
    if occurs_twice(local_clock(starts, user)):
        raise InvalidInput(
            _(
                "The clocks go back that night where you are, so this time comes twice: "
                "choose another time."
            )
        )
    return starts


def moved_start(meeting: Meeting, day: date, time_of_day: time, user: User) -> datetime:
    """The start a change proposes from the date and time ``user`` sent: the meeting's own
    start when they are its date and time (to the minute, as the form shows it) on their
    clock, which may be one their clock shows twice; else :func:`meeting_start`."""
    shown = local_clock(meeting.starts_at, user).replace(second=0, microsecond=0, tzinfo=None)
    if shown == datetime.combine(day, time_of_day):
        return meeting.starts_at
    return meeting_start(day, time_of_day, user)


def meeting_path(meeting_id: int) -> str:
    return site_path("mentoring_meetings.meeting", meeting_id=meeting_id)


def amendment_reason(version: AgreementVersion) -> str:
    """Why a version of the agreement was proposed, as the current reader reads it. The
    amendment a meeting or a move needed names the meeting's time on the reader's clock, taken
    from the move or the meeting it belongs to. Its stored text, written on the proposer's
    clock, is what is left when neither is found, or when the meeting moved since: the time
    it was first proposed for is kept nowhere else."""
    change = db.session.scalar(
        select(MeetingChange).where(MeetingChange.amendment_id == version.id)
    )
    if change is not None and change.starts_at is not None:
        return _("A meeting moved to %(when)s", when=format_when(change.starts_at, "zoned"))
    meeting = db.session.scalar(select(Meeting).where(Meeting.amendment_id == version.id))
    if meeting is not None and not _was_moved(meeting):
        return _("A meeting on %(when)s", when=format_when(meeting.starts_at, "zoned"))
    return version.reason


def _was_moved(meeting: Meeting) -> bool:
    moved = select(MeetingChange.id).where(
        MeetingChange.meeting_id == meeting.id,
        MeetingChange.kind == RESCHEDULE,
        MeetingChange.status == ACCEPTED_CHANGE,
    )
    return db.session.scalar(moved.limit(1)) is not None


STATUS_LABELS = {  # lazy: each translated when shown
    "proposed": _l("awaiting the mentor's approval"),
    "scheduled": _l("scheduled"),
    "declined": _l("declined"),
    "cancelled": _l("cancelled"),
    "held": _l("took place"),
    "missed": _l("did not take place"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS[status])
