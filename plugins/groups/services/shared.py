"""What every concern of the groups plugin shares: its settings, the activity names it
records, how many rows a page shows, and the paths of its pages (for alerts and activities)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.api import Setting, plugin_settings_as, positive, site_path
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
    return plugin_settings_as(GroupsSettings, "groups")


def group_path(group_id: int, **values: Any) -> str:
    """The group's page (``_anchor=`` for a part of it), for alerts and activities."""
    return site_path("groups.group", group_id=group_id, **values)


def topic_path(group_id: int, topic_id: int, page: int = 1, **values: Any) -> str:
    """A page of a forum topic (the first one without ``?page=``)."""
    if page > 1:
        values["page"] = page
    return site_path("groups.topic", group_id=group_id, topic_id=topic_id, **values)


def group_subject(group: Group) -> str:
    return f"groups.group:{group.id}"
