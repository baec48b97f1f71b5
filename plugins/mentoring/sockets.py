"""The chat over Socket.IO. Core only lets members connect; each handler checks that the
member is a party of *this* mentorship, through the same services the pages use."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_socketio import join_room

from core.api import DomainError, RateLimited, SocketHandler, db
from plugins.mentoring.services import chat, lifecycle


def _id(data: Any, key: str) -> int | None:
    """The id ``data[key]``, or ``None`` for anything else: not a bool (True == 1 in Python
    and SQLite), and within what the database can compare."""
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        return None
    return value


def _mentorship_id(data: Any) -> int:
    value = _id(data, "mentorship_id")
    if value is None:
        raise DomainError("mentorship_id must be a number")
    return value


# Each handler takes ``data=None``: a client may emit the event with no payload at all.


def join(data: Any = None) -> dict[str, Any]:
    """Join a chat room: only the two parties may."""
    try:
        mentorship = lifecycle.mentorship_for(_mentorship_id(data), current_user)
    except DomainError as error:
        return {"ok": False, "error": str(error)}
    finally:
        db.session.rollback()
    join_room(chat.chat_room(mentorship.id))
    return {"ok": True}


def send(data: Any = None) -> dict[str, Any]:
    """Store a message; the ack carries its id, the same for a resend of the same ``key``."""
    body = data.get("body") if isinstance(data, dict) else None
    key = data.get("key") if isinstance(data, dict) else None
    try:
        chat.CHAT_MESSAGES.hit()
        message = chat.post_message(
            _mentorship_id(data),
            current_user,
            body if isinstance(body, str) else "",
            key if key is None or isinstance(key, str) else "",  # "" is refused as any bad key
        )
        message_id = message.id  # before the commit, which expires it
        db.session.commit()
    except RateLimited as error:  # the page shows the wait and keeps the text
        db.session.rollback()
        return {"ok": False, "error": str(error), "retry_after": error.retry_after}
    except DomainError as error:
        db.session.rollback()
        return {"ok": False, "error": str(error)}
    return {"ok": True, "id": message_id}


def read(data: Any = None) -> dict[str, Any]:
    try:
        chat.mark_read(_mentorship_id(data), current_user, _id(data, "up_to_id"))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return {"ok": False, "error": str(error)}
    return {"ok": True}


HANDLERS = [
    SocketHandler("mentoring.join", join),
    SocketHandler("mentoring.send", send),
    SocketHandler("mentoring.read", read),
]
