"""What members may report in groups (core's moderation): a forum post, and a group. Each is
reported as its reader sees it, and hidden or restored by the moderators through core."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.api import DomainError, ReportedItem, ReportKind, User, db, hiding_marks
from plugins.groups.models import ForumPost, Group
from plugins.groups.services.access import group_for

POST, GROUP = "groups.post", "groups.group"


def _readable_group(group_id: int, viewer: User) -> Group | None:
    try:
        access = group_for(group_id, viewer)
    except DomainError:
        return None
    return access.group


def find_post(post_id: int, viewer: User) -> ReportedItem | None:
    post = db.session.get(ForumPost, post_id)
    if post is None or post.deleted_at is not None or post.hidden_at is not None:
        return None
    group = _readable_group(post.topic.group_id, viewer)
    if group is None:
        return None
    return ReportedItem(
        title=_("Post in “%(topic)s”", topic=post.topic.title),
        text=post.body,
        author_id=post.author_id,
        url=url_for("groups.post", group_id=group.id, post_id=post.id),
    )


def find_group(group_id: int, viewer: User) -> ReportedItem | None:
    group = _readable_group(group_id, viewer)
    if group is None or group.hidden_at is not None:
        return None
    return ReportedItem(
        title=_("Group “%(name)s”", name=group.name),
        text="\n\n".join(part for part in (group.topic, group.description) if part),
        author_id=group.created_by_id,
        url=url_for("groups.group", group_id=group.id),
    )


def report_kinds() -> list[ReportKind]:
    return [
        ReportKind(POST, _l("Forum post"), find_post, *hiding_marks(ForumPost)),
        ReportKind(GROUP, _l("Group"), find_group, *hiding_marks(Group)),
    ]
