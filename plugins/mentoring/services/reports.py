"""What members may report in mentoring (core's moderation): a chat message, by the other
party of the pair alone (no one else may see it). Staff read the reported message as it was
(the report's snapshot), never the rest of the chat. Hiding or restoring it changes it live
on the pair's open pages."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.api import ReportedItem, ReportKind, User, after_commit, db, hiding_marks
from plugins.mentoring.models import ChatMessage, Mentorship
from plugins.mentoring.services.chat import chat_room, message_payload, running_app

MESSAGE = "mentoring.message"
_hide, _restore = hiding_marks(ChatMessage)


def find_message(message_id: int, viewer: User) -> ReportedItem | None:
    message = db.session.get(ChatMessage, message_id)
    if message is None or message.hidden_at is not None:
        return None
    mentorship = db.session.get(Mentorship, message.mentorship_id)
    if mentorship is None or viewer.id not in (mentorship.mentee_id, mentorship.mentor_id):
        return None
    return ReportedItem(
        title=_("Chat message from %(name)s", name=message.sender.display_name),
        text=message.body,
        author_id=message.sender_id,
        url=url_for("mentoring.mentorship", mentorship_id=mentorship.id) + "#chat",
    )


def _changed_live(message_id: int) -> None:
    """Once committed, the pair's open pages show the message as it is now."""
    message = db.session.get(ChatMessage, message_id)
    if message is None:
        return
    db.session.flush()
    payload = message_payload(message, message.sender)
    room, app = chat_room(message.mentorship_id), running_app()

    def push() -> None:
        with app.app_context():
            app.extensions["socketio"].emit("mentoring.changed", payload, to=room)

    after_commit(push)


def hide_message(message_id: int) -> None:
    _hide(message_id)
    _changed_live(message_id)


def restore_message(message_id: int) -> None:
    _restore(message_id)
    _changed_live(message_id)


def report_kinds() -> list[ReportKind]:
    return [ReportKind(MESSAGE, _l("Chat message"), find_message, hide_message, restore_message)]
