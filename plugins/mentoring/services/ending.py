"""How a mentorship ends: either party before the agreement, both by agreement after it
(early end), or completed after the final meeting; and what ending frees."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update

from core.api import (
    InvalidInput,
    Step,
    Transitions,
    User,
    after_commit,
    db,
    get_optional,
    notify,
    reading_as,
    record_activity,
    record_staff_act,
    utcnow,
)
from plugins.mentoring.models import (
    ACTIVE,
    CANCELLED,
    COMPLETED,
    ENDED_WITH_MENTORSHIP,
    OTHER_PARTY,
    PROPOSED,
    PROPOSER,
    SCHEDULED,
    TERMINATED,
    AgreementVersion,
    EndProposal,
    Meeting,
    MeetingChange,
    MentoringMember,
    Mentorship,
)
from plugins.mentoring.services.chat import chat_room, running_app
from plugins.mentoring.services.lifecycle import (
    MAX_REQUEST_MESSAGE,
    MENTORSHIP,
    _page,
    _transition,
    mentorship_for,
    mentorship_for_staff,
    mentorship_subject,
    move,
    staff_target,
)

MENTORSHIP_TERMINATED = "mentoring.mentorship_terminated"


def terminate(mentorship_id: int, user: User, message: str) -> Mentorship:
    """Before the agreement, either party ends the mentorship with a message, so the mentee
    can look again. Once the agreement is approved, ending early needs both: see
    :func:`propose_early_end`."""
    message = _checked_message(message)
    mentorship = _transition(mentorship_id, user, "terminate", message=message)
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
            mail_kind="mentoring.endings",
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
    """The proposal to end early awaiting an answer, if any: read once for a page that shows
    it and offers the actions it allows (a lock, ``mentorship_for(lock=True)``, reads it
    afresh)."""
    return get_optional(EndProposal, mentorship.id)


def propose_early_end(mentorship_id: int, user: User, message: str) -> EndProposal:
    """A party of an active mentorship proposes to end it before its final meeting."""
    message = _checked_message(message)
    mentorship = mentorship_for(mentorship_id, user, lock=True)
    MENTORSHIP.check(mentorship, user, "propose_end")
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
            mail_kind="mentoring.endings",
        )
    return proposal


def answer_early_end(mentorship_id: int, user: User, answer: str) -> Mentorship:
    """The other party answers ``"agree"`` (the mentorship ends, early: it does not count as
    finished) or ``"refuse"`` (it goes on); the proposer may ``"withdraw"`` the proposal."""
    mentorship = mentorship_for(mentorship_id, user, lock=True)
    proposal = early_end_proposal(mentorship)
    if proposal is None:
        raise InvalidInput(str(NOBODY_PROPOSES))
    EARLY_END.check(proposal, user, answer)
    proposer = proposal.proposed_by
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
                mail_kind="mentoring.endings",
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
            mail_kind="mentoring.endings",
        )
    record_activity(
        MENTORSHIP_TERMINATED,
        proposer,
        subject=mentorship_subject(mentorship),
        url=_page(mentorship),
    )
    return mentorship


NOBODY_PROPOSES = _l("Nobody proposes to end this mentorship now.")

# The answers to a proposal to end an active mentorship early. "agree" ends the mentorship
# (terminated, by mutual consent); "refuse" and "withdraw" drop the proposal, and it goes on.
# Proposing is a step of the mentorship's own table (lifecycle.MENTORSHIP).
EARLY_END = Transitions(
    EndProposal,
    state=lambda proposal: proposal.mentorship.state,
    sides=lambda proposal, member: (
        set()
        if proposal.mentorship.party_role(member) is None
        else {PROPOSER}
        if proposal.proposed_by_id == member.id
        else {OTHER_PARTY}
    ),
    steps=[
        Step(ACTIVE, "agree", OTHER_PARTY, TERMINATED, _l("Agree to end it")),
        Step(ACTIVE, "refuse", OTHER_PARTY, ACTIVE, _l("Go on with it")),
        Step(
            ACTIVE,
            "withdraw",
            PROPOSER,
            ACTIVE,
            _l("Take it back"),
            not_yours=_l("Only who proposed it can take it back."),
        ),
    ],
    not_now=NOBODY_PROPOSES,
    not_yours=_l("The other party answers your proposal, not you."),
)


def end_by_staff(mentorship_id: int, staff: User, reason: str, note: str = "") -> Mentorship:
    """A coordinator ends a mentorship under way (the step ``staff_end`` of the mentorship's
    table), for ``reason`` (the audit log's, which the pair does not read). Ending frees what
    any end frees; both parties are told, with ``note`` if given. It does not count as
    finished: no goal completes, so no certificate follows."""
    note = note.strip()
    if len(note) > MAX_REQUEST_MESSAGE:
        raise InvalidInput(_("Keep your note under %(n)d characters.", n=MAX_REQUEST_MESSAGE))
    mentorship = mentorship_for_staff(mentorship_id, lock=True)
    step = MENTORSHIP.check(mentorship, staff, "staff_end")
    record_staff_act(staff, "mentoring.mentorship_ended", staff_target(mentorship), reason)
    move(mentorship, step.to, staff, reason="staff", message=note)
    _close(mentorship)
    for party in (mentorship.mentee, mentorship.mentor):
        other = mentorship.other_party(party).display_name
        with reading_as(party):
            said = (
                _(
                    "The programme's coordinators ended your mentorship with %(name)s: “%(note)s”",
                    name=other,
                    note=note,
                )
                if note
                else _(
                    "The programme's coordinators ended your mentorship with %(name)s.", name=other
                )
            )
            notify(
                party,
                said,
                url=_page(mentorship),
                email_subject=_("Your mentorship with %(name)s has ended", name=other),
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
                mail_kind="mentoring.endings",
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
    app, mentorship_id = running_app(), mentorship.id  # see post_message
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


def _release_capacity(mentorship: Mentorship) -> None:
    db.session.execute(
        update(MentoringMember)
        .where(MentoringMember.user_id == mentorship.mentor_id)
        .values(mentee_count=MentoringMember.mentee_count - 1)
    )
