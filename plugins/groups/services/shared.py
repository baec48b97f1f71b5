"""What every concern of the groups plugin shares: its settings, the activity names it
records, how many rows a page shows, and the paths of its pages (for alerts and activities)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Select

from core.api import Setting, db, positive
from plugins.groups.models import Group

GROUP_CREATED = "groups.group_created"


MANAGED = "groups.managed"


FORUM_POST = "groups.forum_post"


ANNOUNCEMENTS_SHOWN = 5


LATEST_TOPICS_SHOWN = 5


HISTORY_SHOWN = 20


INVITE_CANDIDATES = 10


SETTINGS = {
    "groups_per_page": Setting(int, 12, positive, "groups per page of the directory"),
    "members_per_page": Setting(int, 30, positive, "members per page of a group's member list"),
    "topics_per_page": Setting(int, 20, positive, "topics per page of a group's forum"),
    "posts_per_page": Setting(int, 20, positive, "posts per page of a forum topic"),
    "invitations_per_day": Setting(
        int, 50, positive, "invitations a group sends in a day (each one mails a member)"
    ),
}


@dataclass(frozen=True)
class GroupsSettings:
    groups_per_page: int
    members_per_page: int
    topics_per_page: int
    posts_per_page: int
    invitations_per_day: int


def settings() -> GroupsSettings:
    """``[plugins.groups]``, checked against SETTINGS by core at startup."""
    return GroupsSettings(**current_app.config["PLUGIN_SETTINGS"]["groups"])


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    has_more: bool


def _page_of(query: Select, page: int, size: int, *, scalars: bool = True) -> Page:
    query = query.offset((page - 1) * size).limit(size + 1)
    rows = list(db.session.scalars(query) if scalars else db.session.execute(query).all())
    return Page(rows[:size], page, len(rows) > size)


def group_path(group_id: int) -> str:
    return f"/groups/{group_id}"


def topic_path(group_id: int, topic_id: int, page: int = 1) -> str:
    path = f"/groups/{group_id}/forum/{topic_id}"
    return path if page == 1 else f"{path}?page={page}"


def group_subject(group: Group) -> str:
    return f"groups.group:{group.id}"


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
