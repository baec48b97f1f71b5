"""The mentoring part of a member's data export (hook ``export_member_data``): their
mentorships with agreements and meetings as JSON (and where their identity check as a mentor
stands, and their fields of study), and each chat as a text transcript."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from core.api import ExportPart, User, db
from plugins.mentoring.models import (
    AgreementVersion,
    ChatMessage,
    Meeting,
    MemberField,
    Mentorship,
    MentorVerification,
)
from plugins.mentoring.services import agreements, fields, meetings, suggestions, verification


def mentoring_part(user: User) -> ExportPart | None:
    mentorships = db.session.scalars(
        select(Mentorship)
        .where(or_(Mentorship.mentee_id == user.id, Mentorship.mentor_id == user.id))
        .order_by(Mentorship.id)
    ).all()
    check = verification.verification_of(user)
    dismissals = suggestions.dismissals_of(user)
    held = fields.all_rows_of(user)
    if not mentorships and check is None and not dismissals and not held:
        return None
    chats = {f"chat-{mentorship.id}.txt": transcript(mentorship) for mentorship in mentorships}
    transcripts = {name: text.encode() for name, text in chats.items() if text}
    data: dict[str, Any] = {
        "mentorships": [_mentorship(mentorship, user) for mentorship in mentorships]
    }
    if check is not None:
        data["identity_check"] = _identity_check(check)
    if dismissals:
        data["dismissed_suggestions"] = [
            {"mentor": dismissal.mentor.display_name, "dismissed_at": dismissal.created_at}
            for dismissal in dismissals
        ]
    if held:
        data["fields_of_study"] = _fields_of_study(held)
    return ExportPart(
        "mentoring",
        data,
        transcripts,
        about=_(
            "Your mentorships with their agreements and meetings, where the check of your "
            "identity as a mentor stands, the fields of study you chose as mentor and as "
            "mentee, and the mentors you no longer want suggested; each chat as a text file."
        ),
    )


def _identity_check(check: MentorVerification) -> dict[str, Any]:
    """Where the check of the member's identity as a mentor stands (the document itself is
    theirs already, and deleted once decided)."""
    return {
        "state": check.state,
        "sent_by_mail": check.by_mail,
        "document_kept": check.document_name is not None,
        "sent_at": check.submitted_at,
        "decided_at": check.decided_at,
        "message": check.message,
    }


def _fields_of_study(held: list[MemberField]) -> dict[str, list[dict[str, Any]]]:
    """The fields chosen as mentor and as mentee; one the list no longer has, as its code."""
    listed = fields.fields_of_study().by_code
    return {
        f"as_{role}": [
            {"code": row.code, "name": listed[row.code].name if row.code in listed else None}
            for row in held
            if row.role == role
        ]
        for role in (fields.MENTOR, fields.MENTEE)
    }


def _mentorship(mentorship: Mentorship, user: User) -> dict[str, Any]:
    as_mentor = mentorship.mentor_id == user.id
    return {
        "id": mentorship.id,
        "your_role": "mentor" if as_mentor else "mentee",
        "with": (mentorship.mentee if as_mentor else mentorship.mentor).display_name,
        "state": mentorship.state,
        "request_message": mentorship.message,
        "topics": mentorship.topics,
        "requested_at": mentorship.created_at,
        "started_at": mentorship.started_at,
        "agreements": [_agreement(version) for version in agreements.versions_of(mentorship)],
        "meetings": [_meeting(meeting) for meeting in meetings.meetings_of_mentorship(mentorship)],
    }


def _agreement(version: AgreementVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "starts_on": version.starts_on,
        "ends_on": version.ends_on,
        "meetings_planned": version.meetings_planned,
        "channels": version.channels,
        "contact_every_days": version.contact_every_days,
        "agenda": version.agenda,
        "notes": version.notes,
        "proposed_by": version.proposed_by.display_name,
        "proposed_at": version.proposed_at,
        "decided_at": version.decided_at,
    }


def _meeting(meeting: Meeting) -> dict[str, Any]:
    return {
        "starts_at": meeting.starts_at,
        "duration_minutes": meeting.duration_minutes,
        "place": meeting.place,
        "agenda": meeting.agenda,
        "status": meeting.status,
        "held_at": meeting.held_at,
    }


def transcript(mentorship: Mentorship) -> str | None:
    """The chat as text, a line per message: when (UTC), who, what; None for a chat with
    no message."""
    messages = db.session.scalars(
        select(ChatMessage)
        .where(ChatMessage.mentorship_id == mentorship.id)
        .order_by(ChatMessage.id)
    ).all()
    if not messages:
        return None
    header = f"Chat of {mentorship.mentor.display_name} and {mentorship.mentee.display_name}\n\n"
    return header + "".join(
        f"[{message.created_at:%Y-%m-%d %H:%M} UTC] {message.sender.display_name}: "
        f"{_shown_body(message)}\n"
        for message in messages
    )


def _shown_body(message: ChatMessage) -> str:
    """What the chat page shows of ``message``: nothing of an erased sender's words nor of
    what the moderators hid."""
    if message.sender.erased_at is not None:
        return _("[message removed]")
    if message.hidden_at is not None:
        return _("[hidden by the moderators]")
    return message.body
