"""Site alerts: stored per member, counted in the navigation bar, pushed live over Socket.IO
once the transaction that created them commits, and optionally sent by e-mail."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import ColumnElement, ScalarSelect, func, select, update
from sqlalchemy.engine import Connection

from core.db import after_commit, db, rows_changed, utcnow
from core.models import Notification, User
from core.realtime import emit_to_user
from core.services.mail import send_mail
from core.urls import absolute_url

PAGE_SIZE = 20


def notify(
    user: User,
    message: str,
    *,
    url: str | None = None,
    email_subject: str | None = None,
    mail_kind: str | None = None,
) -> Notification:
    """Alert ``user`` with ``message`` (linking to the site path ``url``); with
    ``email_subject``, also send it by e-mail through the outbox, as a mail of the declared
    ``mail_kind`` (default: core's "Other alerts", ``core.alerts``), which the member may
    have chosen to get in their digest or not at all."""
    notification = Notification(user_id=user.id, message=_shortened(message), url=url)
    db.session.add(notification)
    db.session.flush()
    if email_subject:
        send_mail(
            user.email,
            email_subject,
            "mail/notification",
            kind=mail_kind,
            user=user,
            message=message,
            link=absolute_url(url) if url else None,
        )
    _push_unread_count_after_commit(user.id)
    return notification


def _shortened(message: str) -> str:
    """An alert is a line: long text (a quoted message) is cut to fit, the e-mail has it all."""
    limit = Notification.message.type.length
    return message if len(message) <= limit else message[: limit - 1].rstrip() + "…"


def unread_count(user: User) -> int:
    return _count_unread(db.session.connection(), user.id)


def unread_alerts(member_id: ColumnElement[int] | int) -> ScalarSelect[int]:
    """The number of the member's unread alerts, as SQL."""
    return (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == member_id, Notification.read_at.is_(None))
        .scalar_subquery()
    )


def alerts_page(user: User, page: int) -> tuple[list[Notification], bool]:
    """A page of the member's alerts, newest first, and whether an older page exists."""
    rows = latest_alerts(user, PAGE_SIZE + 1, skip=(page - 1) * PAGE_SIZE)
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def latest_alerts(user: User, count: int, *, skip: int = 0) -> list[Notification]:
    """The member's ``count`` latest alerts (after the ``skip`` latest), newest first."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .offset(skip)
            .limit(count)
        )
    )


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one of the member's alerts read, or all of them; returns how many changed."""
    query = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    read = rows_changed(query.values(read_at=utcnow()).execution_options(synchronize_session=False))
    _push_unread_count_after_commit(user.id)
    return read


def _count_unread(connection: Connection, user_id: int) -> int:
    return connection.execute(select(unread_alerts(user_id))).scalar_one()


def _push_unread_count_after_commit(user_id: int) -> None:
    """Push the member's unread count to their open pages once this unit of work commits.
    It is counted now, in the transaction about to commit, rather than after it: a second
    transaction per push would cost a connection and end in a ROLLBACK, which makes psycopg
    forget the connection's prepared statements."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy of Flask
    unread = _count_unread(db.session.connection(), user_id)

    def push() -> None:
        with app.app_context():
            emit_to_user(user_id, "alerts", {"unread": unread})

    after_commit(push)
