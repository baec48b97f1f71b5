"""The pair's chat: its pages of messages, and writing in it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_login import current_user

from core.api import db
from plugins.mentoring.api import bp
from plugins.mentoring.models import ChatMessage
from plugins.mentoring.services import chat, lifecycle

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
