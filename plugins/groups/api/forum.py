"""A group's forum: its topics, a topic with its posts, starting a topic, replying,
following, and a manager deleting a post or a topic. Lists come a page at a time by number,
as on the pages (topics go by their latest post, so a cursor would skip or repeat them). A
post deleted by a manager or hidden by the moderators comes without its text or author, as
the topic's page shows it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_login import current_user

from core.api import Page, PageField, absolute_url, db, site_path
from plugins.groups.api import bp
from plugins.groups.models import MAX_POST, MAX_TITLE, ForumPost, ForumTopic
from plugins.groups.services import forum
from plugins.groups.services.access import GroupAccess, group_for
from plugins.groups.services.shared import topic_path


class PageNumberArguments(ma.Schema):
    page = PageField()


def _author_id(item: ForumTopic | ForumPost) -> int | None:
    return item.author.id if item.author else None


def _author_name(item: ForumTopic | ForumPost) -> str | None:
    return item.author.display_name if item.author else None


class ForumTopicLineSchema(ma.Schema):
    """A topic in the forum's list."""

    id = ma.fields.Integer(required=True, attribute="topic.id")
    title = ma.fields.String(required=True, attribute="topic.title")
    author_id = ma.fields.Function(lambda line: _author_id(line.topic), allow_none=True)
    author_name = ma.fields.Function(
        lambda line: _author_name(line.topic),
        allow_none=True,
        metadata={"description": "null: a former member."},
    )
    replies = ma.fields.Integer(required=True)
    created_at = ma.fields.AwareDateTime(required=True, attribute="topic.created_at")
    last_post_at = ma.fields.AwareDateTime(required=True, attribute="topic.last_post_at")
    url = ma.fields.Function(
        lambda line: absolute_url(topic_path(line.topic.group_id, line.topic.id)), required=True
    )


class ForumTopicsPageSchema(ma.Schema):
    items = ma.fields.List(
        ma.fields.Nested(ForumTopicLineSchema),
        required=True,
        metadata={"description": "The most recently active first."},
    )
    next_page = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "null on the last page."}
    )


class ForumPostSchema(ma.Schema):
    """A post as the topic's page shows it: without text or author once a manager deleted
    it or while the moderators hide it."""

    id = ma.fields.Integer(required=True)
    author_id = ma.fields.Integer(allow_none=True, required=True)
    author_name = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "null: a former member."}
    )
    body = ma.fields.String(allow_none=True, required=True, metadata={"description": "Plain text."})
    deleted = ma.fields.Boolean(required=True, metadata={"description": "By a manager."})
    hidden = ma.fields.Boolean(required=True, metadata={"description": "By the moderators."})
    created_at = ma.fields.AwareDateTime(required=True)
    url = ma.fields.String(required=True)

    @ma.pre_dump
    def as_shown(self, post: ForumPost, **_: Any) -> dict[str, Any]:
        deleted, hidden = post.deleted_at is not None, post.hidden_at is not None
        shown = not deleted and not hidden
        return {
            "id": post.id,
            "author_id": _author_id(post) if shown else None,
            "author_name": _author_name(post) if shown else None,
            "body": post.body if shown else None,
            "deleted": deleted,
            "hidden": hidden,
            "created_at": post.created_at,
            "url": absolute_url(
                site_path("groups.post", group_id=post.topic.group_id, post_id=post.id)
            ),
        }


class ForumTopicSchema(ma.Schema):
    """A topic with a page of its posts, oldest first, and what the caller may do in it."""

    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    author_id = ma.fields.Integer(allow_none=True, required=True)
    author_name = ma.fields.String(allow_none=True, required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    last_post_at = ma.fields.AwareDateTime(required=True)
    url = ma.fields.String(required=True)
    following = ma.fields.Boolean(required=True, metadata={"description": "The caller follows it."})
    by_email = ma.fields.Boolean(required=True, metadata={"description": "Replies e-mail them."})
    may_reply = ma.fields.Boolean(
        required=True, metadata={"description": "The caller is a member."}
    )
    may_delete = ma.fields.Boolean(
        required=True, metadata={"description": "The caller manages the group."}
    )
    posts = ma.fields.List(ma.fields.Nested(ForumPostSchema), required=True)
    next_page = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "null on the last page."}
    )


class ForumTopicInSchema(ma.Schema):
    title = ma.fields.String(required=True, metadata={"description": f"Up to {MAX_TITLE}."})
    body = ma.fields.String(
        required=True, metadata={"description": f"The first post; up to {MAX_POST}."}
    )


class ForumReplySchema(ma.Schema):
    body = ma.fields.String(required=True, metadata={"description": f"Up to {MAX_POST}."})


class TopicFollowInSchema(ma.Schema):
    by_email = ma.fields.Boolean(
        load_default=False, metadata={"description": "E-mail each reply too, not only alert."}
    )


class TopicFollowSchema(ma.Schema):
    following = ma.fields.Boolean(required=True)
    by_email = ma.fields.Boolean(required=True)


@bp.get("/<int:group_id>/topics")
@bp.arguments(PageNumberArguments, location="query")
@bp.response(200, ForumTopicsPageSchema)
def topics(arguments: dict[str, Any], group_id: int) -> dict[str, Any]:
    """The group's topics, the most recently active first, with their number of replies (a
    members-only group's for its members alone)."""
    access = group_for(group_id, current_user)
    return _numbered(forum.topics_page(access.group, arguments["page"]))


@bp.get("/<int:group_id>/topics/<int:topic_id>")
@bp.arguments(PageNumberArguments, location="query")
@bp.response(200, ForumTopicSchema)
def topic(arguments: dict[str, Any], group_id: int, topic_id: int) -> dict[str, Any]:
    """A topic and a page of its posts, oldest first (``?page=``, as on its page)."""
    access, found = forum.topic_for(group_id, topic_id, current_user)
    return _topic_answer(access, found, arguments["page"])


@bp.post("/<int:group_id>/topics")
@bp.arguments(ForumTopicInSchema)
@bp.response(201, ForumTopicSchema)
def start(content: dict[str, Any], group_id: int) -> dict[str, Any]:
    """A member starts a topic with its first post, and follows it."""
    started = forum.start_topic(
        group_id, current_user, content["title"], content["body"], counted=True
    )
    db.session.commit()
    access, found = forum.topic_for(group_id, started.id, current_user)
    return _topic_answer(access, found, 1)


@bp.post("/<int:group_id>/topics/<int:topic_id>/posts")
@bp.arguments(ForumReplySchema)
@bp.response(201, ForumPostSchema)
def reply(content: dict[str, Any], group_id: int, topic_id: int) -> ForumPost:
    """A member replies; the topic's followers are alerted (and e-mailed, who chose so)."""
    posted = forum.reply(group_id, topic_id, current_user, content["body"], counted=True)
    db.session.commit()
    return posted


@bp.put("/<int:group_id>/topics/<int:topic_id>/follow")
@bp.arguments(TopicFollowInSchema)
@bp.response(200, TopicFollowSchema)
def follow(choice: dict[str, Any], group_id: int, topic_id: int) -> dict[str, bool]:
    """A member follows the topic (again, to change whether replies come by e-mail too)."""
    forum.follow_topic(group_id, topic_id, current_user, by_email=choice["by_email"])
    db.session.commit()
    return {"following": True, "by_email": choice["by_email"]}


@bp.delete("/<int:group_id>/topics/<int:topic_id>/follow")
@bp.response(200, TopicFollowSchema)
def unfollow(group_id: int, topic_id: int) -> dict[str, bool]:
    """Stop following the topic (nothing changes if the caller did not follow it)."""
    forum.unfollow_topic(group_id, topic_id, current_user)
    db.session.commit()
    return {"following": False, "by_email": False}


@bp.delete("/<int:group_id>/topics/<int:topic_id>")
@bp.response(204)
def delete_topic(group_id: int, topic_id: int) -> None:
    """A manager deletes the topic with all its posts; the credits they earned go back."""
    forum.delete_topic(group_id, topic_id, current_user)
    db.session.commit()


@bp.delete("/<int:group_id>/posts/<int:post_id>")
@bp.response(200, ForumPostSchema)
def delete_post(group_id: int, post_id: int) -> ForumPost:
    """A manager erases a post's text; its place in the topic stays (answered as it is
    shown now: ``deleted``, without text)."""
    erased = forum.delete_post(group_id, post_id, current_user)
    db.session.commit()
    return erased


def _numbered(page: Page[Any]) -> dict[str, Any]:
    return {"items": page.items, "next_page": page.page + 1 if page.has_more else None}


def _topic_answer(access: GroupAccess, found: ForumTopic, page: int) -> dict[str, Any]:
    follow = forum.following(found, current_user)
    posts = _numbered(forum.posts_page(found, page))
    return {
        "id": found.id,
        "title": found.title,
        "author_id": _author_id(found),
        "author_name": _author_name(found),
        "created_at": found.created_at,
        "last_post_at": found.last_post_at,
        "url": absolute_url(topic_path(found.group_id, found.id)),
        "following": follow is not None,
        "by_email": follow is not None and follow.by_email,
        "may_reply": access.is_member,
        "may_delete": access.is_manager,
        "posts": posts["items"],
        "next_page": posts["next_page"],
    }
