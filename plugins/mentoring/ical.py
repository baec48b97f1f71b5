"""Meetings as iCalendar: one meeting to download, and each member's secret feed address for
calendar apps. Only a hash of a feed's token is stored; a new address revokes the old one."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import delete, select

from core.api import User, db, external_url, utcnow
from plugins.mentoring.models import (
    CANCELLED,
    DECLINED_MEETING,
    MISSED,
    PROPOSED,
    CalendarFeed,
    Meeting,
)
from plugins.mentoring.services.meetings import meetings_of

FEED_PAST_DAYS = 180  # a feed carries the last half year and everything to come
STATUS = {
    PROPOSED: "TENTATIVE",
    CANCELLED: "CANCELLED",
    DECLINED_MEETING: "CANCELLED",
    MISSED: "CANCELLED",
}


def calendar_of(meetings: Iterable[Meeting], viewer: User, *, name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", f"-//{current_app.config['SITE_NAME']}//mentoring//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for meeting in meetings:
        calendar.add_component(_event(meeting, viewer))
    return calendar.to_ical()


def _event(meeting: Meeting, viewer: User) -> Event:
    other = meeting.mentorship.other_party(viewer)
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@{urlsplit(current_app.config['BASE_URL']).hostname}")
    event.add("dtstamp", utcnow())
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("sequence", meeting.sequence)
    summary = _("Mentoring with %(name)s", name=other.display_name)
    event.add("summary", _("Final meeting: %(s)s", s=summary) if meeting.is_final else summary)
    event.add("location", meeting.place)
    if meeting.agenda:
        event.add("description", meeting.agenda)
    event.add("url", external_url("mentoring_meetings.meeting", meeting_id=meeting.id))
    event.add("status", STATUS.get(meeting.status, "CONFIRMED"))
    return event


def feed_meetings(user: User) -> list[Meeting]:
    return [
        meeting
        for meeting in meetings_of(user, since=utcnow() - timedelta(days=FEED_PAST_DAYS))
        if meeting.status != MISSED
    ]


def new_feed(user: User) -> str:
    """A new secret address for ``user``'s feed (the old one stops working); returns the token,
    which is shown once."""
    token = secrets.token_urlsafe(32)
    # two clicks at once: the member's row is locked, so the second replaces the first's
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    db.session.add(CalendarFeed(user_id=user.id, token_hash=_hash(token)))
    db.session.flush()
    return token


def revoke_feed(user: User) -> None:
    db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    db.session.flush()


def has_feed(user: User) -> bool:
    return db.session.get(CalendarFeed, user.id) is not None


def feed_owner(token: str) -> User | None:
    if not 20 <= len(token) <= 100:
        return None
    return db.session.scalar(
        select(User).join(CalendarFeed).where(CalendarFeed.token_hash == _hash(token))
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
