"""The mentoring plugin's part of alma's HTTP API (``/api/v1/mentoring``): the mentor
directory, the caller's suggestions, their mentorships from the request to the answer and
the pair's chat, through the same services and checks as the pages (docs/api.md)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from core.api import (
    ApiBlueprint,
    InvalidInput,
    NotAllowed,
    NotFound,
    PageArguments,
    User,
    cursor_page,
    db,
    next_link,
    page_schema,
)
from plugins.mentoring.choices import looks_for_mentor
from plugins.mentoring.models import DECLINE_REASONS, ChatMessage, Mentorship
from plugins.mentoring.services import chat, directory, fields, lifecycle, suggestions

bp = ApiBlueprint(
    "mentoring",
    __name__,
    url_prefix="/mentoring",
    description="Finding a mentor, and the member's mentorships.",
)


# ---- the mentor directory ----------------------------------------------------------------------


class DirectoryArguments(ma.Schema):
    """The directory's filters, as on its page."""

    q = ma.fields.String(load_default="", metadata={"description": "Words in a name, bio, topic."})
    topic = ma.fields.String(load_default="", metadata={"description": "An expertise topic."})
    language = ma.fields.String(load_default="", metadata={"description": "An ISO 639-1 code."})
    field = ma.fields.String(
        load_default="", metadata={"description": "A field of study's code (a broad one: all)."}
    )
    free = ma.fields.Boolean(
        load_default=False, metadata={"description": "Only mentors with room for a mentee."}
    )
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))


class MentorSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(required=True)
    has_room = ma.fields.Boolean(required=True, metadata={"description": "Takes a mentee now."})
    expertise = ma.fields.List(ma.fields.String(), required=True)
    languages = ma.fields.List(ma.fields.String(), required=True)
    fields_of_study = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Their names, as mentor."}
    )


class DirectoryPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MentorSchema), required=True)
    next_page = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "null on the last page."}
    )


@bp.get("/mentors")
@bp.arguments(DirectoryArguments, location="query")
@bp.response(200, DirectoryPageSchema)
def mentors(arguments: dict[str, Any]) -> dict[str, Any]:
    """The mentor directory: those with room first, then by name, a page at a time (by
    number: the order is the page's, not the newest first)."""
    field = fields.fields_of_study().by_code.get(arguments["field"])
    if arguments["field"] and field is None:  # the page ignores it, saying so
        raise InvalidInput(_("There is no such field of study."))
    found = directory.search_mentors(
        text=arguments["q"],
        topic=arguments["topic"],
        language=arguments["language"],
        field=arguments["field"],
        with_room=arguments["free"],
        page=arguments["page"],
    )
    labels = fields.labels_of_members([mentor.id for mentor, _room in found.mentors])
    items = [
        {
            "id": mentor.id,
            "display_name": mentor.display_name,
            "has_room": has_room,
            "expertise": mentor.topic_names("expertise"),
            "languages": mentor.language_codes,
            "fields_of_study": labels.get(mentor.id, []),
        }
        for mentor, has_room in found.mentors
    ]
    return {"items": items, "next_page": found.page + 1 if found.has_more else None}


class SuggestionSchema(ma.Schema):
    mentor_id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(required=True)
    reasons = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Why, in words."}
    )


class SuggestionsSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SuggestionSchema), required=True)
    has_interests = ma.fields.Boolean(
        required=True, metadata={"description": "false: add interests to the profile first."}
    )


@bp.get("/suggestions")
@bp.response(200, SuggestionsSchema)
def suggested() -> dict[str, Any]:
    """The mentors suggested to the caller, best first, with the reasons (for a member looking
    for a mentor, as on their pages)."""
    if not looks_for_mentor(current_user):
        raise NotAllowed(_("Suggestions are for members looking for a mentor."))
    found = suggestions.suggestions_for(current_user)
    items = [
        {
            "mentor_id": one.mentor.id,
            "display_name": one.mentor.display_name,
            "reasons": one.reasons,
        }
        for one in found.shown
    ]
    return {"items": items, "has_interests": found.has_interests}


# ---- mentorships -------------------------------------------------------------------------------


class MentorshipSchema(ma.Schema):
    """A mentorship as its party sees it."""

    id = ma.fields.Integer(required=True)
    state = ma.fields.String(
        required=True,
        metadata={
            "description": "requested, accepted, declined, withdrawn, expired, proposed, "
            "active, completed or terminated."
        },
    )
    role = ma.fields.String(required=True, metadata={"description": "mentee or mentor: yours."})
    other_id = ma.fields.Integer(required=True, metadata={"description": "The other party."})
    other_name = ma.fields.String(required=True)
    message = ma.fields.String(required=True, metadata={"description": "The request's."})
    topics = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    state_changed_at = ma.fields.AwareDateTime(required=True)

    @ma.pre_dump
    def as_party(self, mentorship: Mentorship, **_: Any) -> dict[str, Any]:
        other = mentorship.other_party(current_user)
        return {
            "id": mentorship.id,
            "state": mentorship.state,
            "role": mentorship.party_role(current_user),
            "other_id": other.id,
            "other_name": other.display_name,
            "message": mentorship.message,
            "topics": mentorship.topics,
            "created_at": mentorship.created_at,
            "state_changed_at": mentorship.state_changed_at,
        }


class RequestSchema(ma.Schema):
    mentor_id = ma.fields.Integer(required=True)
    message = ma.fields.String(
        required=True, metadata={"description": "What the mentee hopes for; up to 2000."}
    )
    topics = ma.fields.String(load_default="", metadata={"description": "Comma-separated."})


class DeclineSchema(ma.Schema):
    reason = ma.fields.String(
        required=True, metadata={"description": "One of: " + ", ".join(DECLINE_REASONS)}
    )
    message = ma.fields.String(required=True, metadata={"description": "To the mentee."})


@bp.get("/mentorships")
@bp.arguments(PageArguments, location="query")
@bp.response(200, page_schema(MentorshipSchema))
def mentorships(arguments: dict[str, Any]) -> Any:
    """The caller's mentorships and requests, as mentee or mentor, newest first."""
    mine = (
        select(Mentorship)
        .where(
            or_(Mentorship.mentee_id == current_user.id, Mentorship.mentor_id == current_user.id)
        )
        .options(joinedload(Mentorship.mentee), joinedload(Mentorship.mentor))
    )
    page = cursor_page(mine, Mentorship.id, arguments)
    return page, 200, next_link(page)


@bp.get("/mentorships/<int:mentorship_id>")
@bp.response(200, MentorshipSchema)
def mentorship(mentorship_id: int) -> Mentorship:
    """One of the caller's mentorships."""
    return lifecycle.mentorship_for(mentorship_id, current_user, parties=True)


@bp.post("/mentorships")
@bp.arguments(RequestSchema)
@bp.response(201, MentorshipSchema)
def ask(request: dict[str, Any]) -> Mentorship:
    """Ask a mentor to mentor the caller, as the request page does."""
    mentor: User | None = lifecycle.mentor_to_ask(request["mentor_id"])
    if mentor is None:
        raise NotFound(_("This member does not offer mentoring."))
    lifecycle.REQUESTS.hit()
    asked = lifecycle.send_request(current_user, mentor, request["message"], request["topics"])
    db.session.commit()
    return asked


@bp.post("/mentorships/<int:mentorship_id>/accept")
@bp.response(200, MentorshipSchema)
def accept(mentorship_id: int) -> Mentorship:
    """The mentor accepts a request."""
    accepted = lifecycle.accept_request(mentorship_id, current_user)
    db.session.commit()
    return accepted


@bp.post("/mentorships/<int:mentorship_id>/decline")
@bp.arguments(DeclineSchema)
@bp.response(200, MentorshipSchema)
def decline(answer: dict[str, Any], mentorship_id: int) -> Mentorship:
    """The mentor declines a request, with a reason and a message the mentee reads."""
    declined = lifecycle.decline_request(
        mentorship_id, current_user, answer["reason"], answer["message"]
    )
    db.session.commit()
    return declined


@bp.post("/mentorships/<int:mentorship_id>/withdraw")
@bp.response(200, MentorshipSchema)
def withdraw(mentorship_id: int) -> Mentorship:
    """The mentee withdraws their request."""
    withdrawn = lifecycle.withdraw_request(mentorship_id, current_user)
    db.session.commit()
    return withdrawn


# ---- the chat ----------------------------------------------------------------------------------


MESSAGE_ID = ma.validate.Range(min=0, max=2**63 - 1)


class ChatArguments(ma.Schema):
    """Which page of the chat: the newest (neither), the one before a message or after it."""

    before = ma.fields.Integer(
        load_default=None, validate=MESSAGE_ID, metadata={"description": "A message's id."}
    )
    after = ma.fields.Integer(
        load_default=None,
        validate=MESSAGE_ID,
        metadata={"description": "A message's id; 0: from the first message."},
    )


class MessageSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    sender_id = ma.fields.Integer(required=True)
    sender = ma.fields.String(required=True, metadata={"description": "The sender's name."})
    text = ma.fields.String(required=True, metadata={"description": "Empty when hidden."})
    hidden = ma.fields.Boolean(
        required=True, metadata={"description": "The moderators hid it: its text is left out."}
    )
    created_at = ma.fields.AwareDateTime(required=True)

    @ma.pre_dump
    def as_shown(self, message: ChatMessage, **_: Any) -> dict[str, Any]:
        shown = chat.message_payload(message, message.sender)
        return shown | {"text": shown["body"], "created_at": message.created_at}


class ChatPageSchema(ma.Schema):
    items = ma.fields.List(
        ma.fields.Nested(MessageSchema), required=True, metadata={"description": "Oldest first."}
    )
    has_older = ma.fields.Boolean(required=True, metadata={"description": "Ask ?before=."})
    has_newer = ma.fields.Boolean(required=True, metadata={"description": "Ask ?after=."})


class PostSchema(ma.Schema):
    text = ma.fields.String(required=True, metadata={"description": "Up to 4000 characters."})
    key = ma.fields.String(
        load_default=None,
        metadata={
            "description": "The client's name for the message (8 to 64 of A-Z a-z 0-9 _ -): "
            "sent again, it is stored once."
        },
    )


@bp.get("/mentorships/<int:mentorship_id>/messages")
@bp.arguments(ChatArguments, location="query")
@bp.response(200, ChatPageSchema)
def messages(arguments: dict[str, Any], mentorship_id: int) -> dict[str, Any]:
    """The pair's chat, a page at a time as the mentorship's page shows it: the newest
    messages, those before ``?before=`` or those after ``?after=``."""
    found = lifecycle.mentorship_for(mentorship_id, current_user)
    if arguments["after"] is not None:
        page = chat.chat_page_after(found, arguments["after"])
    else:
        page = chat.chat_page(found, arguments["before"])
    return {"items": page.messages, "has_older": page.has_older, "has_newer": page.has_newer}


@bp.post("/mentorships/<int:mentorship_id>/messages")
@bp.arguments(PostSchema)
@bp.response(201, MessageSchema)
def write(message: dict[str, Any], mentorship_id: int) -> ChatMessage:
    """Write in the pair's chat (the other party sees it live)."""
    chat.CHAT_MESSAGES.hit()
    posted = chat.post_message(mentorship_id, current_user, message["text"], message["key"])
    db.session.commit()
    return posted
