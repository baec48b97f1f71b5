"""A mentorship's life from the request: sent, accepted, declined, withdrawn or expired; its
states, its events, and where its page is. They flush, never commit: the caller (a view, a
socket handler, a job) owns the unit of work."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.orm import joinedload

from core.api import (
    InvalidInput,
    NotAllowed,
    NotFound,
    Step,
    Transitions,
    User,
    db,
    emit_webhook,
    get_optional,
    has_role,
    insert_on_conflict,
    notify,
    rate_limit,
    reading_as,
    record_activity,
    rows_changed,
    site_path,
    utcnow,
)
from plugins.mentoring.choices import offers_mentoring
from plugins.mentoring.models import (
    ACCEPTED,
    ACTIVE,
    COMPLETED,
    DECLINE_REASONS,
    DECLINED,
    EXPIRED,
    OPEN_STATES,
    PAIRED_STATES,
    PROPOSED,
    REQUESTED,
    TERMINATED,
    WITHDRAWN,
    AgreementVersion,
    EndProposal,
    MentoringMember,
    Mentorship,
    MentorshipEvent,
)
from plugins.mentoring.services import verification
from plugins.mentoring.services.directory import (
    _locked_member,
    is_available_mentor,
    mentoring_member,
)
from plugins.mentoring.services.settings import settings

REQUEST_SENT = "mentoring.request_sent"
REQUEST_ACCEPTED = "mentoring.request_accepted"
REQUEST_DECLINED = "mentoring.request_declined"


MAX_REQUEST_MESSAGE = 2000
REQUESTS = rate_limit("mentoring-request", "10/day")  # asking, from the page or the API


def count_mentorships(*states: str) -> int:
    return db.session.execute(
        select(func.count()).select_from(Mentorship).where(Mentorship.state.in_(states))
    ).scalar_one()


# ---- mentorships ---------------------------------------------------------------------------


def mentorship_for(
    mentorship_id: int,
    user: User,
    *,
    lock: bool = False,
    share: bool = False,
    parties: bool = False,
) -> Mentorship:
    """The mentorship, if ``user`` is one of its two parties (404 if none, 403 if not theirs).
    ``lock`` holds it for a change of state; ``share`` keeps its state from changing until
    the unit of work ends (a message posted while the other party ends the mentorship).
    ``parties`` loads both members with it, for a page that shows them."""
    query = _mentorship_query(lock=lock, share=share and not lock, parties=parties)
    mentorship = db.session.scalar(query, {"mentorship_id": mentorship_id})
    if mentorship is None:
        raise NotFound(_("This mentorship does not exist."))
    if mentorship.party_role(user) is None:
        raise NotAllowed(_("This mentorship is not yours."))
    return mentorship


@functools.cache
def _mentorship_query(*, lock: bool, share: bool, parties: bool) -> Select[Mentorship]:
    """The statement of :func:`mentorship_for`, built once per kind (every page and write
    of a mentorship runs one: building it was a tenth of a chat message)."""
    query = select(Mentorship).where(Mentorship.id == bindparam("mentorship_id"))
    if parties:
        query = query.options(joinedload(Mentorship.mentee), joinedload(Mentorship.mentor))
    if lock or share:
        query = query.with_for_update(read=share).execution_options(populate_existing=True)
    return query


def mentorship_for_staff(mentorship_id: int, *, lock: bool = False) -> Mentorship:
    """Any mentorship, for the programme's staff (the console's views check the role), with
    both members; ``lock`` holds it for a change of state."""
    query = select(Mentorship).where(Mentorship.id == mentorship_id)
    if lock:  # the members load apart: PostgreSQL locks no nullable side of an outer join
        query = query.with_for_update().execution_options(populate_existing=True)
    else:
        query = query.options(joinedload(Mentorship.mentee), joinedload(Mentorship.mentor))
    mentorship = db.session.scalar(query)
    if mentorship is None:
        raise NotFound(_("This mentorship does not exist."))
    return mentorship


def staff_target(mentorship: Mentorship) -> tuple[str, int, str]:
    """The mentorship as the audit log names the target of a staff act on it."""
    return ("mentorship", mentorship.id, f"{mentorship.mentee.email} → {mentorship.mentor.email}")


def mentorships_of(user: User) -> list[Mentorship]:
    return list(
        db.session.scalars(
            select(Mentorship)
            .where(or_(Mentorship.mentee_id == user.id, Mentorship.mentor_id == user.id))
            .options(joinedload(Mentorship.mentee), joinedload(Mentorship.mentor))
            .order_by(Mentorship.state_changed_at.desc(), Mentorship.id.desc())
        )
    )


def open_mentorship_between(mentee: User, mentor: User) -> Mentorship | None:
    """The pair's request or mentorship still under way, if any (there is at most one)."""
    return db.session.scalar(
        select(Mentorship).where(
            Mentorship.mentee_id == mentee.id,
            Mentorship.mentor_id == mentor.id,
            Mentorship.state.in_(OPEN_STATES),
        )
    )


def mentor_to_ask(mentor_id: int) -> User | None:
    """The member whose request page (or the API) may take a request: one who offers
    mentoring, their address confirmed (whether they have room is ``send_request``'s)."""
    mentor = db.session.get(User, mentor_id)
    if mentor is None or not offers_mentoring(mentor) or not mentor.email_confirmed:
        return None
    return mentor


def send_request(mentee: User, mentor: User, message: str, topics: str = "") -> Mentorship:
    """A mentee asks a mentor; the mentor is told by e-mail and alert."""
    message, topics = message.strip(), " ".join(topics.split())
    if mentee.id == mentor.id:
        raise InvalidInput(_("You cannot be your own mentor."))
    if not is_available_mentor(mentor):
        raise InvalidInput(_("%(name)s is not taking new mentees now.", name=mentor.display_name))
    if not message:
        raise InvalidInput(_("Tell %(name)s what you hope for.", name=mentor.display_name))
    if len(message) > MAX_REQUEST_MESSAGE:
        raise InvalidInput(_("Keep your message under %(n)d characters.", n=MAX_REQUEST_MESSAGE))
    if len(topics) > 300:
        raise InvalidInput(_("Keep the topics under 300 characters."))
    _locked_member(mentee)  # one request at a time per mentee: the pending count holds
    limit = settings().max_pending_requests
    if _pending_requests_of(mentee) >= limit:
        raise InvalidInput(
            _(
                "You have %(n)d pending requests, the most at once: wait for an answer or "
                "withdraw one.",
                n=limit,
            )
        )
    mentorship = db.session.scalar(  # nothing if the pair has an open one (a unique index)
        insert_on_conflict(Mentorship)
        .values(
            mentee_id=mentee.id,
            mentor_id=mentor.id,
            state=REQUESTED,
            message=message,
            topics=topics,
            expires_at=utcnow() + timedelta(days=settings().request_expiry_days),
        )
        .on_conflict_do_nothing()
        .returning(Mentorship)
    )
    if mentorship is None:
        raise InvalidInput(
            _("You already have a request or mentorship with %(name)s.", name=mentor.display_name)
        )
    _record_event(mentorship, None, REQUESTED, mentee, message=message)
    with reading_as(mentor):
        notify(  # the message in full in the mail, as on the request's page
            mentor,
            _(
                "%(name)s asks you to be their mentor: “%(message)s”",
                name=mentee.display_name,
                message=message,
            ),
            url=_page(mentorship),
            email_subject=_("Mentorship request from %(name)s", name=mentee.display_name),
            mail_kind="mentoring.requests",
        )
    record_activity(
        REQUEST_SENT, mentee, subject=mentorship_subject(mentorship), url=_page(mentorship)
    )
    return mentorship


def _pending_requests_of(mentee: User) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(Mentorship)
        .where(Mentorship.mentee_id == mentee.id, Mentorship.state == REQUESTED)
    ).scalar_one()


def accept_request(mentorship_id: int, mentor: User) -> Mentorship:
    mentorship = _transition(mentorship_id, mentor, "accept")
    if not verification.is_verified(mentor):  # the caller rolls the move back
        raise InvalidInput(
            _("Your identity is not verified yet: you can accept mentees once it is.")
        )
    mentoring_member(mentor)
    took_room = rows_changed(  # waits for a concurrent accept, then looks again
        update(MentoringMember)
        .where(
            MentoringMember.user_id == mentor.id,
            MentoringMember.mentee_count < MentoringMember.capacity,
        )
        .values(mentee_count=MentoringMember.mentee_count + 1)
    )
    if took_room != 1:
        raise InvalidInput(
            _("You have no room for another mentee: raise your capacity in My data first.")
        )
    with reading_as(mentorship.mentee):
        notify(
            mentorship.mentee,
            _("%(name)s accepted your mentorship request.", name=mentor.display_name),
            url=_page(mentorship),
            email_subject=_("%(name)s accepted your request", name=mentor.display_name),
            mail_kind="mentoring.requests",
        )
    record_activity(
        REQUEST_ACCEPTED, mentor, subject=mentorship_subject(mentorship), url=_page(mentorship)
    )
    return mentorship


def decline_request(mentorship_id: int, mentor: User, reason: str, message: str) -> Mentorship:
    message = message.strip()
    if reason not in DECLINE_REASONS:
        raise InvalidInput(_("Choose a reason from the list."))
    if not message:
        raise InvalidInput(_("Write a few words to the mentee: they will read them."))
    if len(message) > MAX_REQUEST_MESSAGE:
        raise InvalidInput(_("Keep your message under %(n)d characters.", n=MAX_REQUEST_MESSAGE))
    mentorship = _transition(mentorship_id, mentor, "decline", reason=reason, message=message)
    with reading_as(mentorship.mentee):
        notify(
            mentorship.mentee,
            _(
                "%(name)s declined your mentorship request: “%(message)s”",
                name=mentor.display_name,
                message=message,
            ),
            url=_page(mentorship),
            email_subject=_("%(name)s declined your request", name=mentor.display_name),
            mail_kind="mentoring.requests",
        )
    record_activity(
        REQUEST_DECLINED, mentor, subject=mentorship_subject(mentorship), url=_page(mentorship)
    )
    return mentorship


def withdraw_request(mentorship_id: int, mentee: User) -> Mentorship:
    mentorship = _transition(mentorship_id, mentee, "withdraw")
    with reading_as(mentorship.mentor):
        notify(
            mentorship.mentor,
            _("%(name)s withdrew their mentorship request.", name=mentee.display_name),
            url=_page(mentorship),
            email_subject=_("%(name)s withdrew their request", name=mentee.display_name),
            mail_kind="mentoring.requests",
        )
    return mentorship


def expire_requests() -> int:
    """Job: requests unanswered past their expiry end, with a notice to both."""
    due = db.session.scalars(
        select(Mentorship.id).where(
            Mentorship.state == REQUESTED, Mentorship.expires_at <= utcnow()
        )
    ).all()
    for mentorship_id in due:
        mentorship = db.session.scalar(
            select(Mentorship).where(Mentorship.id == mentorship_id).with_for_update()
        )
        if mentorship is None or mentorship.state != REQUESTED:
            continue
        move(mentorship, EXPIRED, None)
        for party in (mentorship.mentee, mentorship.mentor):
            with reading_as(party):
                notify(
                    party,
                    _(
                        "Your request to %(name)s expired without an answer. You can "
                        "ask another mentor.",
                        name=mentorship.mentor.display_name,
                    )
                    if party is mentorship.mentee
                    else _(
                        "The mentorship request of %(name)s expired.",
                        name=mentorship.mentee.display_name,
                    ),
                    url=_page(mentorship),
                    email_subject=_("A mentorship request expired"),
                    mail_kind="mentoring.requests",
                )
    return len(due)


def decline_requests_to(mentor: User) -> None:
    """``member_suspended``: the requests waiting for ``mentor``'s answer are declined, and
    each mentee told so without a reason (the suspension is not theirs to know)."""
    pending = db.session.scalars(
        select(Mentorship)
        .where(Mentorship.mentor_id == mentor.id, Mentorship.state == REQUESTED)
        .with_for_update()
    ).all()
    for mentorship in pending:
        move(mentorship, DECLINED, None, reason="other")
        with reading_as(mentorship.mentee):
            notify(
                mentorship.mentee,
                _(
                    "%(name)s cannot take your mentorship request at the moment. You can "
                    "ask another mentor.",
                    name=mentor.display_name,
                ),
                url=_page(mentorship),
                email_subject=_("Your request to %(name)s was declined", name=mentor.display_name),
                mail_kind="mentoring.requests",
            )


def _transition(
    mentorship_id: int,
    actor: User,
    action: str,
    *,
    reason: str | None = None,
    message: str = "",
) -> Mentorship:
    """Take ``action`` on the mentorship (locked for the change), if :data:`MENTORSHIP` lets
    ``actor`` take it now: the mentorship moves to the step's state."""
    mentorship = mentorship_for(mentorship_id, actor, lock=True)
    step = MENTORSHIP.check(mentorship, actor, action)
    move(mentorship, step.to, actor, reason=reason, message=message)
    return mentorship


def move(
    mentorship: Mentorship,
    to_state: str,
    actor: User | None,
    *,
    reason: str | None = None,
    message: str = "",
) -> None:
    from_state = mentorship.state
    mentorship.state = to_state
    mentorship.state_changed_at = utcnow()
    _record_event(mentorship, from_state, to_state, actor, reason=reason, message=message)
    db.session.flush()


def _record_event(
    mentorship: Mentorship,
    from_state: str | None,
    to_state: str,
    actor: User | None,
    *,
    reason: str | None = None,
    message: str = "",
) -> None:
    # added to the session, not appended to mentorship.events: that would load the history
    db.session.add(
        MentorshipEvent(
            mentorship=mentorship,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            reason=reason,
            message=message,
        )
    )
    _emit_webhook_of_move(mentorship, to_state)


# the webhook event of each state a mentorship enters (a refused or lapsed request sends none)
WEBHOOK_EVENTS = {
    REQUESTED: "mentorship.requested",
    ACTIVE: "mentorship.started",
    COMPLETED: "mentorship.completed",
    TERMINATED: "mentorship.ended",
}


def _emit_webhook_of_move(mentorship: Mentorship, to_state: str) -> None:
    event_type = WEBHOOK_EVENTS.get(to_state)
    if event_type is None:
        return
    emit_webhook(
        event_type,
        {
            "mentorship_id": mentorship.id,
            "mentee_id": mentorship.mentee_id,
            "mentor_id": mentorship.mentor_id,
        },
        ordering_key=f"mentorship:{mentorship.id}",
    )


def mentorship_path(mentorship_id: int) -> str:
    """The mentorship's page, for alerts and activities (in a job too)."""
    return site_path("mentoring.mentorship", mentorship_id=mentorship_id)


def _page(mentorship: Mentorship) -> str:
    db.session.flush()
    return mentorship_path(mentorship.id)


def mentorship_subject(mentorship: Mentorship) -> str:
    """What activities and goals about the mentorship name as their subject."""
    return f"mentoring.mentorship:{mentorship.id}"


def mentorship_of_subject(subject: str) -> Mentorship | None:
    return db.session.get(Mentorship, int(subject.rpartition(":")[2]))


STATE_LABELS = {  # lazy: each translated when shown
    "requested": _l("requested"),
    "accepted": _l("accepted: getting to know each other"),
    "active": _l("active"),
    "completed": _l("completed"),
    "declined": _l("declined"),
    "withdrawn": _l("withdrawn"),
    "expired": _l("expired"),
    "terminated": _l("ended early"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS[state])


DECLINE_REASON_LABELS = {  # lazy: each translated when shown
    "no_capacity": _l("I have no time for another mentee now"),
    "topic_mismatch": _l("My experience does not match what you look for"),
    "timing": _l("The timing does not work for me"),
    "other": _l("Another reason"),
    "mutual": _l("Ended early by mutual consent"),
    "staff": _l("Ended by the programme's coordinators"),
    "left": _l("Ended early: the other party is no longer active here"),
}


def decline_reason_label(reason: str) -> str:
    return str(DECLINE_REASON_LABELS[reason])


# ---- the mentorship's transitions ----------------------------------------------------------


def _no_longer_possible(mentorship: Mentorship) -> str:
    return _(
        "This is no longer possible: the mentorship is %(state)s.",
        state=state_label(mentorship.state),
    )


def _refuse_termination(mentorship: Mentorship) -> str:
    if mentorship.state == ACTIVE:
        return _("Your agreement is approved: propose to end early, and it ends once both agree.")
    return _no_longer_possible(mentorship)


def _refuse_early_end(mentorship: Mentorship) -> str:
    if mentorship.state == ACTIVE:
        return _("Ending early is already proposed: it awaits an answer.")
    return _("Only an active mentorship can be ended early by agreement.")


def _no_end_proposed(mentorship: Mentorship) -> bool:
    return get_optional(EndProposal, mentorship.id) is None  # the page asks it too


def awaiting_answer(mentorship: Mentorship) -> AgreementVersion | None:
    """The version of the agreement one party proposed and the other has not answered yet
    (at most one)."""
    return db.session.scalar(
        select(AgreementVersion).where(
            AgreementVersion.mentorship_id == mentorship.id,
            AgreementVersion.status == PROPOSED,
        )
    )


def _nothing_awaits_an_answer(mentorship: Mentorship) -> bool:
    return awaiting_answer(mentorship) is None


AWAITS_AN_ANSWER = _l("A proposed version of the agreement awaits an answer: settle it first.")


def _refuse_agreement(mentorship: Mentorship) -> str:
    if mentorship.state == ACTIVE:
        return _("You already agreed: propose an amendment instead.")
    if mentorship.state == ACCEPTED:
        return str(AWAITS_AN_ANSWER)
    return _("The agreement is filled once the mentor accepted the request.")


def _refuse_amendment(mentorship: Mentorship) -> str:
    if mentorship.state == ACTIVE:
        return str(AWAITS_AN_ANSWER)
    return _("Only the agreement of an active mentorship can be amended.")


def _refuse_extension(mentorship: Mentorship) -> str:
    if mentorship.state == ACTIVE:
        return str(AWAITS_AN_ANSWER)
    return _("Only the agreement of an active mentorship can be extended.")


def _refuse_staff_end(mentorship: Mentorship) -> str:
    return _(
        "Only a mentorship under way can be ended: this one is %(state)s.",
        state=state_label(mentorship.state),
    )


# The programme's staff act on a mentorship as a side of its own: a coordinator (or an admin)
# who is not one of the pair. In their own mentorship, staff are a party like any other.
STAFF = "staff"
ONLY_STAFF = _l("Only the programme's coordinators can do this.")


def _sides(mentorship: Mentorship, member: User) -> set[str]:
    sides = mentorship.sides_of(member)
    if not sides and has_role(member, "coordinator"):
        return {STAFF}
    return sides


def _only_the(role: str) -> Any:
    return _l("Only the %(role)s can do this.", role=_l(role))


def by_either_party(state: str, action: str, to: str, **words: Any) -> list[Step]:
    """The same step for the mentee and for the mentor."""
    return [Step(state, action, role, to, **words) for role in ("mentee", "mentor")]


# What each party may do with a mentorship, and when. A request is a mentorship in the state
# "requested": its answers are the first steps. The mentee fills the agreement, and either
# party proposes an amendment of it, while no version awaits an answer (agreements.py);
# approving the agreement (agreements.AGREEMENT) moves "accepted" to "active". The answers to
# an early end are the proposal's own table (ending.EARLY_END); expiry and completion are the
# app's doing, not a member's.
MENTORSHIP = Transitions(
    Mentorship,
    state=lambda mentorship: mentorship.state,
    sides=_sides,
    steps=[
        Step(REQUESTED, "accept", "mentor", ACCEPTED, _l("Accept"), not_yours=_only_the("mentor")),
        Step(
            REQUESTED,
            "decline",
            "mentor",
            DECLINED,
            _l("Decline with a message"),
            not_yours=_only_the("mentor"),
        ),
        Step(
            REQUESTED,
            "withdraw",
            "mentee",
            WITHDRAWN,
            _l("Withdraw the request"),
            not_yours=_only_the("mentee"),
        ),
        *by_either_party(
            ACCEPTED,
            "terminate",
            TERMINATED,
            label=_l("End the mentorship"),
            not_now=_refuse_termination,
        ),
        Step(
            ACCEPTED,
            "propose_agreement",
            "mentee",
            ACCEPTED,
            _l("Fill in the agreement"),
            when=_nothing_awaits_an_answer,
            not_yours=_l("Only the mentee fills the agreement."),
            not_now=_refuse_agreement,
        ),
        *by_either_party(
            ACTIVE,
            "propose_amendment",
            ACTIVE,
            label=_l("Propose an amendment"),
            when=_nothing_awaits_an_answer,
            not_now=_refuse_amendment,
        ),
        *by_either_party(
            ACTIVE,
            "propose_end",
            ACTIVE,
            label=_l("Propose to end early"),
            when=_no_end_proposed,
            not_now=_refuse_early_end,
        ),
        *[
            Step(
                state,
                "schedule",
                "mentee",
                state,
                _l("Schedule a meeting"),
                not_now=_l("Meetings are scheduled while the mentorship is under way."),
                not_yours=_l("Only the mentee schedules meetings; propose a time in the chat."),
            )
            for state in PAIRED_STATES
        ],
        *[
            Step(
                state,
                "staff_end",
                STAFF,
                TERMINATED,
                _l("End the mentorship"),
                not_now=_refuse_staff_end,
                not_yours=ONLY_STAFF,
            )
            for state in PAIRED_STATES
        ],
        Step(
            ACTIVE,
            "staff_extend",
            STAFF,
            ACTIVE,
            _l("Extend the agreed end date"),
            when=_nothing_awaits_an_answer,
            not_now=_refuse_extension,
            not_yours=ONLY_STAFF,
        ),
    ],
    not_now=_no_longer_possible,
    not_yours=_l("This mentorship is not yours."),
)
