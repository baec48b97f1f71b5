"""Mentoring's rules, as plain functions of the acting member. They flush, never commit: the
caller (a view, a socket handler, a job) owns the unit of work."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Select,
    and_,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import joinedload, selectinload

from core.api import (
    InvalidInput,
    NotAllowed,
    NotFound,
    Setting,
    Topic,
    User,
    UserLanguage,
    UserTopic,
    absolute_url,
    after_commit,
    db,
    insert_on_conflict,
    notify,
    positive,
    push_badge,
    reading_as,
    record_activity,
    send_mail,
    utcnow,
)
from plugins.mentoring.models import (
    ACCEPTED,
    ACTIVE,
    CANCELLED,
    CHAT_STATES,
    COMPLETED,
    DECLINE_REASONS,
    DECLINED,
    ENDED_WITH_MENTORSHIP,
    EXPIRED,
    OPEN_STATES,
    PAIRED_STATES,
    PROPOSED,
    REQUESTED,
    SCHEDULED,
    TERMINATED,
    WITHDRAWN,
    AgreementVersion,
    ChatMessage,
    ChatReader,
    EndProposal,
    Meeting,
    MeetingChange,
    MentoringMember,
    Mentorship,
    MentorshipEvent,
)

REQUEST_SENT = "mentoring.request_sent"
REQUEST_ACCEPTED = "mentoring.request_accepted"
REQUEST_DECLINED = "mentoring.request_declined"
MENTORSHIP_TERMINATED = "mentoring.mentorship_terminated"

MAX_REQUEST_MESSAGE = 2000
MAX_CHAT_MESSAGE = 4000
DIRECTORY_PAGE_SIZE = 12
CHAT_PAGE_SIZE = 30
CLIENT_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")  # what a client names a message with
NAV_ENDPOINT = "mentoring.index"  # "My mentorships", whose badge counts unread messages


# ---- settings ----------------------------------------------------------------------------


SETTINGS = {
    "request_expiry_days": Setting(int, 14, positive, "days before an unanswered request expires"),
    "max_pending_requests": Setting(int, 3, positive, "requests a mentee may have pending at once"),
    "chat_digest_after_minutes": Setting(
        int, 60, positive, "how long chat messages stay unread before an e-mail digest"
    ),
    "reminder_hours_before": Setting(
        int, 24, positive, "how many hours before an approved meeting both get a reminder"
    ),
    "inactivity_fallback_days": Setting(
        int,
        21,
        positive,
        "days of silence (no held meeting, no chat message) before both get a nudge, when the "
        "pair has not agreed how often to keep in touch",
    ),
}


@dataclass(frozen=True)
class MentoringSettings:
    request_expiry_days: int
    max_pending_requests: int
    chat_digest_after_minutes: int
    reminder_hours_before: int
    inactivity_fallback_days: int


def settings() -> MentoringSettings:
    """``[plugins.mentoring]``, checked against SETTINGS by core at startup."""
    return MentoringSettings(**current_app.config["PLUGIN_SETTINGS"]["mentoring"])


# ---- mentors -----------------------------------------------------------------------------


NEW_MEMBER = {"capacity": 1, "accepting": True, "mentee_count": 0}  # until they change it


def mentoring_member(user: User) -> MentoringMember:
    """The member's mentoring row, created with the defaults on first use."""
    member = db.session.get(MentoringMember, user.id)
    if member is None:
        db.session.execute(  # a concurrent request may create it first: then it is theirs
            insert_on_conflict(MentoringMember)
            .values(user_id=user.id, **NEW_MEMBER)
            .on_conflict_do_nothing()
        )
        member = db.session.get(MentoringMember, user.id)
    return member


def mentor_settings_of(user: User) -> MentoringMember:
    """The member's settings to show; the defaults (not stored) if they never changed them."""
    return db.session.get(MentoringMember, user.id) or MentoringMember(
        user_id=user.id, **NEW_MEMBER
    )


def update_mentor_settings(user: User, *, capacity: int, accepting: bool) -> MentoringMember:
    member = _locked_member(user)
    if not 1 <= capacity <= 20:
        raise InvalidInput(_("Choose a capacity between 1 and 20 mentees."))
    if capacity < member.mentee_count:
        raise InvalidInput(
            _(
                "You have %(n)d mentees now: choose a capacity of at least %(n)d.",
                n=member.mentee_count,
            )
        )
    member.capacity = capacity
    member.accepting = accepting
    db.session.flush()
    return member


def _locked_member(user: User) -> MentoringMember:
    locked = select(MentoringMember).where(MentoringMember.user_id == user.id).with_for_update()
    locked = locked.execution_options(populate_existing=True)
    member = db.session.scalar(locked)
    if member is None:
        mentoring_member(user)
        member = db.session.scalar(locked)
    return member


def is_available_mentor(user: User) -> bool:
    member = db.session.get(MentoringMember, user.id)
    return bool(member and member.wants_to_mentor and user.email_confirmed and member.has_room)


@dataclass(frozen=True)
class DirectoryPage:
    mentors: list[tuple[User, bool]]  # each mentor, and whether they have room for a mentee
    page: int
    has_more: bool


def search_mentors(
    *,
    text: str = "",
    topic: str = "",
    language: str = "",
    with_room: bool = False,
    page: int = 1,
) -> DirectoryPage:
    """Members who offer mentoring, matching free text (name, bio, topics), an expertise
    topic and a language; those with room first, then by name.

    Each of the two groups is read by name along an index of mentors, so that a page stops
    at its last mentor however many match (a word in half of all bios, say)."""
    matching = _matching_mentors(text, topic, language)
    start = (page - 1) * DIRECTORY_PAGE_SIZE
    wanted = DIRECTORY_PAGE_SIZE + 1  # one more: is there a next page?
    shown = [(user, True) for user in _by_name(matching.where(MENTOR_HAS_ROOM), start, wanted)]
    if len(shown) < wanted and not with_room:
        # past the mentors with room: the page goes on with those without
        offset = 0 if shown or not start else start - _count(matching.where(MENTOR_HAS_ROOM))
        without = _by_name(matching.where(~MENTOR_HAS_ROOM), offset, wanted - len(shown))
        shown += [(user, False) for user in without]
    return DirectoryPage(shown[:DIRECTORY_PAGE_SIZE], page, len(shown) > DIRECTORY_PAGE_SIZE)


MENTOR_HAS_ROOM = and_(  # no mentoring row yet: the defaults, room for one
    func.coalesce(MentoringMember.accepting, True),
    func.coalesce(MentoringMember.mentee_count, 0) < func.coalesce(MentoringMember.capacity, 1),
)


def _matching_mentors(text: str, topic: str, language: str) -> Select:
    query = (
        select(User)
        .join(MentoringMember, MentoringMember.user_id == User.id)
        .where(MentoringMember.wants_to_mentor.is_(True), User.email_confirmed_at.is_not(None))
    )
    if topic.strip():
        query = query.where(_has_topic(topic.strip().lower(), kind="expertise"))
    if language.strip():
        query = query.where(
            select(UserLanguage.user_id)
            .where(UserLanguage.user_id == User.id, UserLanguage.code == language.strip())
            .exists()
        )
    for word in text.split()[:5]:
        pattern = f"%{_escape_like(word.lower())}%"
        query = query.where(
            or_(
                func.lower(User.display_name).like(pattern, escape="\\"),
                func.lower(User.bio).like(pattern, escape="\\"),
                _has_topic(pattern, like=True),
            )
        )
    return query


def _by_name(query: Select, offset: int, limit: int) -> list[User]:
    return list(
        db.session.scalars(
            query.options(selectinload(User.topics), selectinload(User.languages))
            .order_by(User.display_name, User.id)
            .offset(offset)
            .limit(limit)
        )
    )


def _count(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def _has_topic(key: str, *, kind: str | None = None, like: bool = False) -> Any:
    condition = Topic.key.like(key, escape="\\") if like else Topic.key == key
    query = select(UserTopic.user_id).join(Topic).where(UserTopic.user_id == User.id, condition)
    if kind:
        query = query.where(UserTopic.kind == kind)
    return query.exists()


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def count_available_mentors() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(User)
        .join(MentoringMember, MentoringMember.user_id == User.id)
        .where(
            MentoringMember.wants_to_mentor.is_(True),
            User.email_confirmed_at.is_not(None),
            func.coalesce(MentoringMember.accepting, True),
            func.coalesce(MentoringMember.mentee_count, 0)
            < func.coalesce(MentoringMember.capacity, 1),
        )
    )


def count_mentorships(*states: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Mentorship).where(Mentorship.state.in_(states))
    )


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
    query = select(Mentorship).where(Mentorship.id == mentorship_id)
    if parties:
        query = query.options(joinedload(Mentorship.mentee), joinedload(Mentorship.mentor))
    if lock or share:
        query = query.with_for_update(read=share and not lock).execution_options(
            populate_existing=True
        )
    mentorship = db.session.scalar(query)
    if mentorship is None:
        raise NotFound(_("This mentorship does not exist."))
    if mentorship.party_role(user) is None:
        raise NotAllowed(_("This mentorship is not yours."))
    return mentorship


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
        )
    record_activity(
        REQUEST_SENT, mentee, subject=mentorship_subject(mentorship), url=_page(mentorship)
    )
    return mentorship


def _pending_requests_of(mentee: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Mentorship)
        .where(Mentorship.mentee_id == mentee.id, Mentorship.state == REQUESTED)
    )


def accept_request(mentorship_id: int, mentor: User) -> Mentorship:
    mentorship = _transition(mentorship_id, mentor, "mentor", (REQUESTED,), ACCEPTED)
    mentoring_member(mentor)
    took_room = db.session.execute(  # waits for a concurrent accept, then looks again
        update(MentoringMember)
        .where(
            MentoringMember.user_id == mentor.id,
            MentoringMember.mentee_count < MentoringMember.capacity,
        )
        .values(mentee_count=MentoringMember.mentee_count + 1)
    )
    if took_room.rowcount != 1:
        raise InvalidInput(
            _("You have no room for another mentee: raise your capacity in My data first.")
        )
    with reading_as(mentorship.mentee):
        notify(
            mentorship.mentee,
            _("%(name)s accepted your mentorship request.", name=mentor.display_name),
            url=_page(mentorship),
            email_subject=_("%(name)s accepted your request", name=mentor.display_name),
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
    mentorship = _transition(
        mentorship_id, mentor, "mentor", (REQUESTED,), DECLINED, reason=reason, message=message
    )
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
        )
    record_activity(
        REQUEST_DECLINED, mentor, subject=mentorship_subject(mentorship), url=_page(mentorship)
    )
    return mentorship


def withdraw_request(mentorship_id: int, mentee: User) -> Mentorship:
    mentorship = _transition(mentorship_id, mentee, "mentee", (REQUESTED,), WITHDRAWN)
    with reading_as(mentorship.mentor):
        notify(
            mentorship.mentor,
            _("%(name)s withdrew their mentorship request.", name=mentee.display_name),
            url=_page(mentorship),
            email_subject=_("%(name)s withdrew their request", name=mentee.display_name),
        )
    return mentorship


def terminate(mentorship_id: int, user: User, message: str) -> Mentorship:
    """Before the agreement, either party ends the mentorship with a message, so the mentee
    can look again. Once the agreement is approved, ending early needs both: see
    :func:`propose_early_end`."""
    message = _checked_message(message)
    if mentorship_for(mentorship_id, user).state == ACTIVE:
        raise InvalidInput(
            _("Your agreement is approved: propose to end early, and it ends once both agree.")
        )
    mentorship = _transition(mentorship_id, user, None, (ACCEPTED,), TERMINATED, message=message)
    _close(mentorship)
    with reading_as(mentorship.other_party(user)):
        notify(
            mentorship.other_party(user),
            _(
                "%(name)s ended your mentorship: “%(message)s”",
                name=user.display_name,
                message=message,
            ),
            url=_page(mentorship),
            email_subject=_("%(name)s ended your mentorship", name=user.display_name),
        )
    record_activity(
        MENTORSHIP_TERMINATED, user, subject=mentorship_subject(mentorship), url=_page(mentorship)
    )
    return mentorship


def _checked_message(message: str) -> str:
    message = message.strip()
    if not message:
        raise InvalidInput(_("Tell the other party why, in a few words."))
    if len(message) > MAX_REQUEST_MESSAGE:
        raise InvalidInput(_("Keep your message under %(n)d characters.", n=MAX_REQUEST_MESSAGE))
    return message


def early_end_proposal(mentorship: Mentorship) -> EndProposal | None:
    return db.session.get(EndProposal, mentorship.id)


def propose_early_end(mentorship_id: int, user: User, message: str) -> EndProposal:
    """A party of an active mentorship proposes to end it before its final meeting."""
    message = _checked_message(message)
    mentorship = mentorship_for(mentorship_id, user, lock=True)
    if mentorship.state != ACTIVE:
        raise InvalidInput(_("Only an active mentorship can be ended early by agreement."))
    if early_end_proposal(mentorship) is not None:
        raise InvalidInput(_("Ending early is already proposed: it awaits an answer."))
    proposal = EndProposal(mentorship_id=mentorship.id, proposed_by_id=user.id, message=message)
    db.session.add(proposal)
    db.session.flush()
    with reading_as(mentorship.other_party(user)):
        notify(
            mentorship.other_party(user),
            _(
                "%(name)s proposes to end your mentorship early: “%(message)s”",
                name=user.display_name,
                message=message,
            ),
            url=_page(mentorship),
            email_subject=_(
                "%(name)s proposes to end your mentorship early", name=user.display_name
            ),
        )
    return proposal


def answer_early_end(mentorship_id: int, user: User, answer: str) -> Mentorship:
    """The other party answers ``"agree"`` (the mentorship ends, early: it does not count as
    finished) or ``"refuse"`` (it goes on); the proposer may ``"withdraw"`` the proposal."""
    mentorship = mentorship_for(mentorship_id, user, lock=True)
    proposal = early_end_proposal(mentorship)
    if proposal is None or mentorship.state != ACTIVE:
        raise InvalidInput(_("Nobody proposes to end this mentorship now."))
    proposer = proposal.proposed_by
    if (answer == "withdraw") != (proposer.id == user.id):
        raise NotAllowed(
            _("Only who proposed it can take it back.")
            if answer == "withdraw"
            else _("The other party answers your proposal, not you.")
        )
    db.session.delete(proposal)
    if answer == "withdraw":
        db.session.flush()
        return mentorship
    if answer == "refuse":
        db.session.flush()
        with reading_as(proposer):
            notify(
                proposer,
                _("%(name)s would rather go on with your mentorship.", name=user.display_name),
                url=_page(mentorship),
                email_subject=_("%(name)s would rather go on", name=user.display_name),
            )
        return mentorship
    move(mentorship, TERMINATED, user, reason="mutual", message=proposal.message)
    _close(mentorship)
    with reading_as(proposer):
        notify(
            proposer,
            _("%(name)s agreed: your mentorship has ended early.", name=user.display_name),
            url=_page(mentorship),
            email_subject=_("Your mentorship has ended early"),
        )
    record_activity(
        MENTORSHIP_TERMINATED,
        proposer,
        subject=mentorship_subject(mentorship),
        url=_page(mentorship),
    )
    return mentorship


def complete_mentorship(mentorship: Mentorship) -> None:
    """Both confirmed the final meeting took place: the mentorship is completed."""
    if mentorship.state != ACTIVE:
        return
    move(mentorship, COMPLETED, None)
    _close(mentorship)
    for party in (mentorship.mentee, mentorship.mentor):
        with reading_as(party):
            notify(
                party,
                _(
                    "Your mentorship with %(name)s is complete. Congratulations!",
                    name=mentorship.other_party(party).display_name,
                ),
                url=_page(mentorship),
                email_subject=_("Your mentorship is complete"),
            )


def _close(mentorship: Mentorship) -> None:
    """What ending a mentorship, in any way, frees: the mentor's room, the meetings to come
    and every proposal still unanswered (to end it, to amend its agreement, to change a
    meeting). A meeting that has begun stays: the pair can still say whether it took place,
    and its goal completes or is declined as any other."""
    _release_capacity(mentorship)
    _end_unanswered_proposals(mentorship)
    db.session.execute(
        update(Meeting)
        .where(
            Meeting.mentorship_id == mentorship.id,
            or_(
                Meeting.status == PROPOSED,
                and_(Meeting.status == SCHEDULED, Meeting.starts_at > utcnow()),
            ),
        )
        .values(status=CANCELLED, sequence=Meeting.sequence + 1)
        .execution_options(synchronize_session=False)
    )
    proposal = early_end_proposal(mentorship)
    if proposal is not None:
        db.session.delete(proposal)
    db.session.flush()
    app, mentorship_id = current_app._get_current_object(), mentorship.id  # see post_message
    room = chat_room(mentorship_id)

    def tell_open_pages() -> None:  # the chat closes on the other party's open page too
        app.extensions["socketio"].emit(
            "mentoring.closed", {"mentorship_id": mentorship_id}, to=room
        )

    after_commit(tell_open_pages)


def _end_unanswered_proposals(mentorship: Mentorship) -> None:
    """A pending amendment of the agreement (with the meeting or the move that carries it)
    and pending changes of meetings end with the mentorship, so no one is asked to answer
    them any more; undecided by anyone, unlike a withdrawal (its proposer's decision)."""
    ended = {"status": ENDED_WITH_MENTORSHIP, "decided_at": utcnow()}
    db.session.execute(
        update(AgreementVersion)
        .where(
            AgreementVersion.mentorship_id == mentorship.id,
            AgreementVersion.status == PROPOSED,
        )
        .values(ended)
        .execution_options(synchronize_session="fetch")
    )
    of_mentorship = select(Meeting.id).where(Meeting.mentorship_id == mentorship.id)
    db.session.execute(
        update(MeetingChange)
        .where(MeetingChange.meeting_id.in_(of_mentorship), MeetingChange.status == PROPOSED)
        .values(ended)
        .execution_options(synchronize_session="fetch")
    )


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
        if mentorship.state != REQUESTED:
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
                )
    return len(due)


def _transition(
    mentorship_id: int,
    actor: User,
    role: str | None,
    allowed_from: tuple[str, ...],
    to_state: str,
    *,
    reason: str | None = None,
    message: str = "",
) -> Mentorship:
    """Move a mentorship (locked for the change) from one of ``allowed_from`` to ``to_state``,
    if ``actor`` has the ``role`` it takes (any party when ``role`` is None)."""
    mentorship = mentorship_for(mentorship_id, actor, lock=True)
    if role is not None and mentorship.party_role(actor) != role:
        raise NotAllowed(_("Only the %(role)s can do this.", role=_(role)))
    if mentorship.state not in allowed_from:
        raise InvalidInput(
            _(
                "This is no longer possible: the mentorship is %(state)s.",
                state=state_label(mentorship.state),
            )
        )
    move(mentorship, to_state, actor, reason=reason, message=message)
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


def _release_capacity(mentorship: Mentorship) -> None:
    db.session.execute(
        update(MentoringMember)
        .where(MentoringMember.user_id == mentorship.mentor_id)
        .values(mentee_count=MentoringMember.mentee_count - 1)
    )


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


def mentorship_path(mentorship_id: int) -> str:
    """The mentorship's page (built by hand: jobs have no request to build URLs from)."""
    return f"/mentoring/{mentorship_id}"


def _page(mentorship: Mentorship) -> str:
    db.session.flush()
    return mentorship_path(mentorship.id)


def mentorship_subject(mentorship: Mentorship) -> str:
    """What activities and goals about the mentorship name as their subject."""
    return f"mentoring.mentorship:{mentorship.id}"


def mentorship_of_subject(subject: str) -> Mentorship | None:
    return db.session.get(Mentorship, int(subject.rpartition(":")[2]))


def state_label(state: str) -> str:
    return {
        "requested": _("requested"),
        "accepted": _("accepted: getting to know each other"),
        "active": _("active"),
        "completed": _("completed"),
        "declined": _("declined"),
        "withdrawn": _("withdrawn"),
        "expired": _("expired"),
        "terminated": _("ended early"),
    }[state]


def decline_reason_label(reason: str) -> str:
    return {
        "no_capacity": _("I have no time for another mentee now"),
        "topic_mismatch": _("My experience does not match what you look for"),
        "timing": _("The timing does not work for me"),
        "other": _("Another reason"),
        "mutual": _("Ended early by mutual consent"),
    }[reason]


# ---- chat --------------------------------------------------------------------------------


def chat_room(mentorship_id: int) -> str:
    return f"mentoring:{mentorship_id}"


def post_message(
    mentorship_id: int, sender: User, body: str, client_key: str | None = None
) -> ChatMessage:
    """A party writes in the pair's chat; the other sees it live once it is stored.

    ``client_key`` is the sending client's name for this message: the same key sent again
    (an answer lost on the way, a form posted twice) returns the message stored the first
    time, and nothing is stored or pushed again."""
    mentorship = mentorship_for(mentorship_id, sender, share=True)  # who may, before the text
    if mentorship.state == REQUESTED:
        raise InvalidInput(_("The chat opens once the mentor accepts the request."))
    if not mentorship.has_chat:
        raise InvalidInput(_("There is no chat: the request was not accepted."))
    if not mentorship.chat_open:
        raise InvalidInput(_("This chat is closed: the mentorship has ended."))
    body = _checked_chat_body(body)
    if client_key is not None and not CLIENT_KEY.fullmatch(client_key):
        raise InvalidInput(_("This message cannot be sent: reload the page and try again."))
    # ON CONFLICT DO NOTHING: a concurrent send of the same key (another connection) waits
    # for that one's commit, then stores nothing and finds its message.
    stored_id = db.session.scalar(
        insert_on_conflict(ChatMessage)
        .values(mentorship_id=mentorship.id, sender_id=sender.id, body=body, client_key=client_key)
        .on_conflict_do_nothing()
        .returning(ChatMessage.id)
    )
    if stored_id is None:
        return db.session.scalars(
            select(ChatMessage).where(
                ChatMessage.mentorship_id == mentorship.id,
                ChatMessage.sender_id == sender.id,
                ChatMessage.client_key == client_key,
            )
        ).one()
    message = db.session.get_one(ChatMessage, stored_id)
    _mark_read(mentorship.id, sender.id, message.id)
    payload = message_payload(message, sender)
    recipient_id = mentorship.other_party_id(sender)
    # plain values for after the commit, which expires the session's objects: reading one
    # there would query again, in a new transaction holding a connection from the pool
    room = chat_room(mentorship.id)
    app = current_app._get_current_object()

    def push() -> None:
        with app.app_context():
            app.extensions["socketio"].emit("mentoring.message", payload, to=room)
            _push_unread(app, recipient_id)

    after_commit(push)
    return message


def _checked_chat_body(body: str) -> str:
    body = body.strip().replace("\x00", "")  # a NUL no keyboard types, no database keeps
    if not body:
        raise InvalidInput(_("Write something first."))
    if len(body) > MAX_CHAT_MESSAGE:
        raise InvalidInput(_("Keep a message under %(n)d characters.", n=MAX_CHAT_MESSAGE))
    try:
        body.encode()
    except UnicodeEncodeError:  # half of a surrogate pair, which only a broken client sends
        raise InvalidInput(_("This message has characters that cannot be stored.")) from None
    return body


def message_payload(message: ChatMessage, sender: User) -> dict[str, Any]:
    return {
        "id": message.id,
        "mentorship_id": message.mentorship_id,
        "sender_id": sender.id,
        "sender": sender.display_name,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }


@dataclass(frozen=True)
class ChatPage:
    messages: list[ChatMessage]  # oldest first
    has_older: bool
    has_newer: bool = False


def chat_page(mentorship: Mentorship, before_id: int | None = None) -> ChatPage:
    """The newest page of the chat, or the one before the message ``before_id``."""
    query = select(ChatMessage).where(ChatMessage.mentorship_id == mentorship.id)
    if before_id:
        query = query.where(ChatMessage.id < before_id)
    rows = list(db.session.scalars(query.order_by(ChatMessage.id.desc()).limit(CHAT_PAGE_SIZE + 1)))
    return ChatPage(list(reversed(rows[:CHAT_PAGE_SIZE])), len(rows) > CHAT_PAGE_SIZE)


def chat_page_after(mentorship: Mentorship, after_id: int) -> ChatPage:
    """The page of messages that follow the message ``after_id``, oldest first: a page
    that was offline catches up from the last message it saw, page by page."""
    in_chat = ChatMessage.mentorship_id == mentorship.id
    query = select(ChatMessage).where(in_chat, ChatMessage.id > after_id)
    rows = list(db.session.scalars(query.order_by(ChatMessage.id).limit(CHAT_PAGE_SIZE + 1)))
    has_older = db.session.scalar(select(exists().where(in_chat, ChatMessage.id <= after_id)))
    return ChatPage(rows[:CHAT_PAGE_SIZE], bool(has_older), len(rows) > CHAT_PAGE_SIZE)


def mark_read(mentorship_id: int, reader: User, up_to_id: int | None = None) -> None:
    """``reader`` has seen the chat up to ``up_to_id`` (default: the newest message)."""
    read_up_to(mentorship_for(mentorship_id, reader), reader.id, up_to_id)


def read_up_to(mentorship: Mentorship, reader_id: int, up_to_id: int | None = None) -> None:
    """Move the party's read mark to their chat's newest message up to ``up_to_id``, never
    back; once committed, their tabs learn their new unread count."""
    if _mark_read(mentorship.id, reader_id, up_to_id):
        app = current_app._get_current_object()  # see post_message
        after_commit(lambda: _push_unread(app, reader_id))


def _push_unread(app: Any, user_id: int) -> None:
    with app.app_context():
        push_badge(user_id, NAV_ENDPOINT, unread_total_for(user_id))


def _mark_read(mentorship_id: int, user_id: int, up_to_id: int | None) -> bool:
    """Whether the mark moved. An UPDATE that finds nothing newer locks nothing, so that
    pages of one chat open at once do not wait for each other; the INSERT is for the first
    read, and does nothing if a concurrent first read made the row."""
    newest = select(func.coalesce(func.max(ChatMessage.id), 0)).where(
        ChatMessage.mentorship_id == mentorship_id
    )
    if up_to_id is not None:
        newest = newest.where(ChatMessage.id <= up_to_id)
    newest = newest.scalar_subquery()
    moved = db.session.execute(
        update(ChatReader)
        .where(
            ChatReader.mentorship_id == mentorship_id,
            ChatReader.user_id == user_id,
            ChatReader.last_read_id < newest,
        )
        .values(last_read_id=newest)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount:
        return True
    first_read = db.session.execute(
        insert_on_conflict(ChatReader)
        .values(mentorship_id=mentorship_id, user_id=user_id, last_read_id=newest)
        .on_conflict_do_nothing()
        .returning(ChatReader.user_id)
    )
    return first_read.first() is not None


def _unread_messages(member_id: ColumnElement[int] | int, *columns: Any) -> Select:
    """``columns`` over the messages the member has not read, in their chats."""
    # No alias for the reader: building one on every call cost a millisecond of Python.
    return (
        select(*columns)
        .join(Mentorship, Mentorship.id == ChatMessage.mentorship_id)
        .outerjoin(
            ChatReader,
            and_(ChatReader.mentorship_id == Mentorship.id, ChatReader.user_id == member_id),
        )
        .where(
            or_(Mentorship.mentee_id == member_id, Mentorship.mentor_id == member_id),
            Mentorship.state.in_(CHAT_STATES),
            ChatMessage.sender_id != member_id,
            ChatMessage.id > func.coalesce(ChatReader.last_read_id, 0),
        )
    )


def unread_count(member_id: ColumnElement[int] | int) -> ScalarSelect[int]:
    """The member's unread messages over all their chats, as SQL (the badge of "My
    mentorships")."""
    return _unread_messages(member_id, func.count(ChatMessage.id)).scalar_subquery()


def unread_by_mentorship(user: User) -> dict[int, int]:
    unread = _unread_messages(user.id, ChatMessage.mentorship_id, func.count(ChatMessage.id))
    return dict(db.session.execute(unread.group_by(ChatMessage.mentorship_id)).all())


def unread_total_for(user_id: int) -> int:
    with db.engine.connect() as connection:
        return connection.scalar(select(unread_count(user_id)))


def send_chat_digests() -> int:
    """Job: one e-mail per chat and recipient whose messages wait unread longer than the
    configured delay; a later digest only for messages that came after. Returns mails sent.
    Two runs at once (two schedulers, ``alma jobs run``) send each digest once: a due digest
    locks its reader row and looks again."""
    cutoff = utcnow() - timedelta(minutes=settings().chat_digest_after_minutes)
    sent = 0
    for mentorship in db.session.scalars(
        # only open chats: an ended one gets no new messages, and was digested while open;
        # in one order, so that two runs lock reader rows in the same order
        select(Mentorship).where(Mentorship.state.in_(PAIRED_STATES)).order_by(Mentorship.id)
    ):
        for recipient in (mentorship.mentee, mentorship.mentor):
            sent += _digest(mentorship, recipient, cutoff)
    return sent


def _digest(mentorship: Mentorship, recipient: User, cutoff: datetime) -> int:
    reader = db.session.get(ChatReader, (mentorship.id, recipient.id))
    if not _digest_due(mentorship, recipient, reader, cutoff):  # most chats: no lock taken
        return 0
    reader = _locked_reader(mentorship.id, recipient.id)
    waiting = _digest_due(mentorship, recipient, reader, cutoff)
    if not waiting:  # another run sent it while this one waited for the lock
        return 0
    sender = mentorship.other_party(recipient)
    with reading_as(recipient):
        send_mail(
            recipient.email,
            ngettext(
                "%(num)d unread message from %(name)s",
                "%(num)d unread messages from %(name)s",
                len(waiting),
                name=sender.display_name,
            ),
            "mentoring/mail/chat_digest",
            user=recipient,
            sender=sender,
            messages=waiting[-5:],
            count=len(waiting),
            link=absolute_url(mentorship_path(mentorship.id)),
        )
    reader.digested_up_to_id = waiting[-1].id
    db.session.flush()
    return 1


def _digest_due(
    mentorship: Mentorship, recipient: User, reader: ChatReader | None, cutoff: datetime
) -> list[ChatMessage]:
    """The messages a digest would tell of, if one is due (else none): those neither read
    nor digested, the first of them older than ``cutoff``."""
    seen = max(reader.last_read_id, reader.digested_up_to_id) if reader else 0
    waiting = list(
        db.session.scalars(
            select(ChatMessage)
            .where(
                ChatMessage.mentorship_id == mentorship.id,
                ChatMessage.sender_id != recipient.id,
                ChatMessage.id > seen,
            )
            .order_by(ChatMessage.id)
        )
    )
    return waiting if waiting and waiting[0].created_at <= cutoff else []


def _locked_reader(mentorship_id: int, user_id: int) -> ChatReader:
    """The reader row, made if missing, locked until the job commits, as last committed."""
    db.session.execute(
        insert_on_conflict(ChatReader)
        .values(mentorship_id=mentorship_id, user_id=user_id)
        .on_conflict_do_nothing()
    )
    return db.session.scalars(
        select(ChatReader)
        .where(ChatReader.mentorship_id == mentorship_id, ChatReader.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
