"""Announcements: a manager posts one on the group's page and every member is alerted."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.api import InvalidInput, User, db, notify, reading_as
from plugins.groups.models import ACTIVE, MAX_MESSAGE, Announcement, Group, Membership
from plugins.groups.services.access import managed_group, record_act
from plugins.groups.services.shared import ANNOUNCEMENTS_SHOWN, group_path


def announce(group_id: int, manager: User, body: str | None) -> Announcement:
    """A manager posts an announcement on the group's page; every member is alerted."""
    group = managed_group(group_id, manager)
    body = (body or "").strip()
    if not body:
        raise InvalidInput(_("Write the announcement first."))
    if len(body) > MAX_MESSAGE:
        raise InvalidInput(_("Keep an announcement under %(n)d characters.", n=MAX_MESSAGE))
    announcement = Announcement(group_id=group.id, author_id=manager.id, body=body)
    db.session.add(announcement)
    db.session.flush()
    record_act(group, manager, "announced")
    for member in _active_members_except(group, manager):
        with reading_as(member):
            notify(
                member,
                _(
                    "Announcement in %(group)s: “%(text)s”",
                    group=group.shown_name,
                    text=body,
                ),
                url=group_path(group.id, _anchor="announcements"),
            )
    return announcement


def _active_members_except(group: Group, user: User) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.group_id == group.id,
                Membership.state == ACTIVE,
                User.id != user.id,
            )
        )
    )


def latest_announcements(group: Group) -> list[Announcement]:
    return list(
        db.session.scalars(
            select(Announcement)
            .where(Announcement.group_id == group.id)
            .options(joinedload(Announcement.author))
            .order_by(Announcement.created_at.desc(), Announcement.id.desc())
            .limit(ANNOUNCEMENTS_SHOWN)
        )
    )
