"""The groups part of a member's data export (hook ``export_member_data``): their
memberships and the forum posts and announcements they wrote."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from core.api import ExportPart, User, db
from plugins.groups.models import Announcement, ForumPost, ForumTopic, Group, Membership


def groups_part(user: User) -> ExportPart | None:
    memberships = db.session.execute(
        select(Membership, Group.name)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.id)
    ).all()
    posts = db.session.execute(
        select(ForumPost, ForumTopic.title, Group.name)
        .join(ForumTopic, ForumTopic.id == ForumPost.topic_id)
        .join(Group, Group.id == ForumTopic.group_id)
        .where(ForumPost.author_id == user.id, ForumPost.deleted_at.is_(None))
        .order_by(ForumPost.id)
    ).all()
    announcements = db.session.execute(
        select(Announcement, Group.name)
        .join(Group, Group.id == Announcement.group_id)
        .where(Announcement.author_id == user.id)
        .order_by(Announcement.id)
    ).all()
    if not (memberships or posts or announcements):
        return None
    return ExportPart(
        "groups",
        {
            "memberships": [
                {
                    "group": group,
                    "role": membership.role,
                    "state": membership.state,
                    "joined_at": membership.joined_at,
                }
                for membership, group in memberships
            ],
            "forum_posts": [
                {"group": group, "topic": topic, "body": post.body, "created_at": post.created_at}
                for post, topic, group in posts
            ],
            "announcements": [
                {"group": group, "body": announcement.body, "created_at": announcement.created_at}
                for announcement, group in announcements
            ],
        },
        about=_("Your group memberships, and the forum posts and announcements you wrote."),
    )
