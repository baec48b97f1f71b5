"""A member leaves (``member_deactivating``) or is erased (``member_erasing``).

Leaving: the requests they sent are withdrawn, those waiting for their answer declined, and
their running mentorships end early; each other party is told, neutrally. Goals met and
certificates earned stay, on both sides.

Erased: the rows only theirs go (their mentoring choices and fields of study, calendar feed,
feedback, read marks, dismissed suggestions); in what the pair shared (the chat, the request,
the history, proposals) the text they wrote is removed and the row stays, by "former member",
so the other party's mentorship reads on.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, delete, or_, select, update

from core.api import User, db, forget_mentions, notify, reading_as
from plugins.mentoring.models import (
    PAIRED_STATES,
    REQUESTED,
    TERMINATED,
    WITHDRAWN,
    AgreementVersion,
    CalendarFeed,
    ChatMessage,
    ChatReader,
    EndProposal,
    Meeting,
    MeetingChange,
    MeetingFeedback,
    MemberField,
    MentoringMember,
    Mentorship,
    MentorshipEvent,
    SuggestionDismissal,
)
from plugins.mentoring.services import verification
from plugins.mentoring.services.ending import _close
from plugins.mentoring.services.lifecycle import _page, decline_requests_to, move

REMOVED = "—"  # what an erased member's chat message holds
LEFT = "left"  # the reason of an ending because a party left (see decline_reason_label)


def _locked(*conditions: ColumnElement[bool]) -> list[Mentorship]:
    return list(
        db.session.scalars(
            select(Mentorship).where(*conditions).order_by(Mentorship.id).with_for_update()
        ).all()
    )


def member_leaving(user: User) -> None:
    """``member_deactivating``: settle what others wait for from ``user``."""
    for mentorship in _locked(Mentorship.mentee_id == user.id, Mentorship.state == REQUESTED):
        move(mentorship, WITHDRAWN, user)
        with reading_as(mentorship.mentor):
            notify(
                mentorship.mentor,
                _("%(name)s withdrew their mentorship request.", name=user.display_name),
                url=_page(mentorship),
                email_subject=_("%(name)s withdrew their request", name=user.display_name),
            )
    decline_requests_to(user)
    running = _locked(
        or_(Mentorship.mentee_id == user.id, Mentorship.mentor_id == user.id),
        Mentorship.state.in_(PAIRED_STATES),
    )
    for mentorship in running:
        move(mentorship, TERMINATED, None, reason=LEFT)
        _close(mentorship)
        other = mentorship.other_party(user)
        with reading_as(other):
            notify(
                other,
                _(
                    "Your mentorship with %(name)s has ended early: %(name)s is no longer"
                    " active here. Your goals and certificates stay yours.",
                    name=user.display_name,
                ),
                url=_page(mentorship),
                email_subject=_("Your mentorship with %(name)s has ended", name=user.display_name),
            )


def erase_member(user: User) -> None:
    """``member_erasing``: remove ``user``'s words and their own rows."""
    # a message keeps its place in the chat, and shows as removed (its sender is erased);
    # a message is never empty, so its text becomes a dash
    db.session.execute(
        update(ChatMessage)
        .where(ChatMessage.sender_id == user.id)
        .values(body=REMOVED)
        .execution_options(synchronize_session=False)
    )
    for table, author, text in (
        (MentorshipEvent, MentorshipEvent.actor_id, MentorshipEvent.message),
        (MeetingChange, MeetingChange.proposed_by_id, MeetingChange.message),
        (Mentorship, Mentorship.mentee_id, Mentorship.message),
    ):
        db.session.execute(
            update(table)
            .where(author == user.id)
            .values({text: ""})
            .execution_options(synchronize_session=False)
        )
    # the other party's words that name them (or give their address): "former member"
    forget_mentions(
        user,
        ChatMessage.body,
        MentorshipEvent.message,
        Mentorship.message,
        AgreementVersion.agenda,
        AgreementVersion.notes,
        AgreementVersion.reason,
        AgreementVersion.comment,
        Meeting.agenda,
        MeetingChange.message,
        MeetingFeedback.comment,
        EndProposal.message,
    )
    for owner in (
        MeetingFeedback.user_id,
        EndProposal.proposed_by_id,
        CalendarFeed.user_id,
        ChatReader.user_id,
        MentoringMember.user_id,
        SuggestionDismissal.mentee_id,
        # others' "Not for me" on them: about a mentor no longer suggested to anyone
        SuggestionDismissal.mentor_id,
        MemberField.user_id,
    ):
        db.session.execute(delete(owner.class_).where(owner == user.id))
    verification.forget(user)
