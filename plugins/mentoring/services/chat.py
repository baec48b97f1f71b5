"""The pair's private chat: messages, read marks, unread counts and e-mail digests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import (
    ColumnElement,
    Integer,
    ScalarSelect,
    Select,
    Update,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)

from core.api import (
    InvalidInput,
    User,
    after_commit,
    db,
    external_url,
    insert_on_conflict,
    push_badge,
    rate_limit,
    reading_as,
    rows_changed,
    send_mail,
    utcnow,
)
from plugins.mentoring.models import (
    CHAT_STATES,
    PAIRED_STATES,
    REQUESTED,
    ChatMessage,
    ChatReader,
    Mentorship,
)
from plugins.mentoring.services.lifecycle import mentorship_for
from plugins.mentoring.services.settings import settings

MAX_CHAT_MESSAGE = 4000
# hit by the chat's socket handler and by its form without JavaScript, before post_message
CHAT_MESSAGES = rate_limit("mentoring-chat", "30/minute")


CHAT_PAGE_SIZE = 30
CLIENT_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")  # what a client names a message with
NAV_ENDPOINT = "mentoring.index"  # "My mentorships", whose badge counts unread messages


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
    message = db.session.scalar(
        insert_on_conflict(ChatMessage)
        .values(mentorship_id=mentorship.id, sender_id=sender.id, body=body, client_key=client_key)
        .on_conflict_do_nothing()
        .returning(ChatMessage)
    )
    if message is None:
        return db.session.scalars(
            select(ChatMessage).where(
                ChatMessage.mentorship_id == mentorship.id,
                ChatMessage.sender_id == sender.id,
                ChatMessage.client_key == client_key,
            )
        ).one()
    _mark_read(mentorship.id, sender.id, message.id)
    payload = message_payload(message, sender)
    # plain values for after the commit, which expires the session's objects: reading one
    # there would query again, in a new transaction holding a connection from the pool
    room = chat_room(mentorship.id)
    app = running_app()

    def push() -> None:
        with app.app_context():
            app.extensions["socketio"].emit("mentoring.message", payload, to=room)

    after_commit(push)
    _push_unread_after_commit(mentorship.other_party_id(sender))
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
    """A message as the pair's pages get it; one the moderators hid, without its text."""
    hidden = message.hidden_at is not None
    return {
        "id": message.id,
        "mentorship_id": message.mentorship_id,
        "sender_id": sender.id,
        "sender": sender.display_name,
        "body": "" if hidden else message.body,
        "hidden": hidden,
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
        _push_unread_after_commit(reader_id)


def running_app() -> Flask:
    """The app itself, not the proxy of the request's, for code run after the commit."""
    return current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy of Flask


def _push_unread_after_commit(user_id: int) -> None:
    """Once this unit of work commits, tell the member's open pages their unread count. It
    is counted now, in the transaction about to commit (which sees its own new message or
    read mark), rather than in a second transaction after it: that one would cost each
    message a connection from the pool and two more round trips."""
    unread = db.session.execute(UNREAD_OF_MEMBER, {"member_id": user_id}).scalar_one()
    app = running_app()

    def push() -> None:
        with app.app_context():
            push_badge(user_id, NAV_ENDPOINT, unread)

    after_commit(push)


def _mark_read(mentorship_id: int, user_id: int, up_to_id: int | None) -> bool:
    """Whether the mark moved. An UPDATE that finds nothing newer locks nothing, so that
    pages of one chat open at once do not wait for each other; the INSERT is for the first
    read, and does nothing if a concurrent first read made the row."""
    up_to = up_to_id is not None
    ids = {"chat_id": mentorship_id, "reader_id": user_id, "up_to_id": up_to_id}
    if rows_changed(MOVE_READ_MARK[up_to], ids):
        return True
    first_read = db.session.execute(
        insert_on_conflict(ChatReader)
        .values(mentorship_id=mentorship_id, user_id=user_id, last_read_id=_newest_message(up_to))
        .on_conflict_do_nothing()
        .returning(ChatReader.user_id),
        ids,
    )
    return first_read.first() is not None


def _newest_message(up_to: bool) -> ScalarSelect[int]:
    """The id of the chat's newest message (up to ``:up_to_id``), 0 for none, as SQL."""
    newest = select(func.coalesce(func.max(ChatMessage.id), 0)).where(
        ChatMessage.mentorship_id == bindparam("chat_id", type_=Integer)
    )
    if up_to:
        newest = newest.where(ChatMessage.id <= bindparam("up_to_id", type_=Integer))
    return newest.scalar_subquery()


def _read_mark_moved(up_to: bool) -> Update:
    """The UPDATE moving a reader's mark to their chat's newest message (up to ``:up_to_id``),
    never back."""
    newest = _newest_message(up_to)
    return (
        update(ChatReader)
        .where(
            ChatReader.mentorship_id == bindparam("chat_id", type_=Integer),
            ChatReader.user_id == bindparam("reader_id", type_=Integer),
            ChatReader.last_read_id < newest,
        )
        .values(last_read_id=newest)
        .execution_options(synchronize_session=False)
    )


# built once (by whether a message bounds the mark): every chat message moves its sender's
MOVE_READ_MARK = {up_to: _read_mark_moved(up_to) for up_to in (False, True)}


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


# built once: a statement of this size took a tenth of a chat message's CPU to build
UNREAD_OF_MEMBER = select(unread_count(bindparam("member_id", type_=Integer)))


def unread_by_mentorship(user: User) -> dict[int, int]:
    unread = _unread_messages(user.id, ChatMessage.mentorship_id, func.count(ChatMessage.id))
    return dict(db.session.execute(unread.group_by(ChatMessage.mentorship_id)).all())


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
            link=external_url("mentoring.mentorship", mentorship_id=mentorship.id),
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
                ChatMessage.hidden_at.is_(None),
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
