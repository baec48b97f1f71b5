"""The group's forum: topics, posts and replies, following a topic, and a manager deleting a
post or a topic."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core.api import (
    InvalidInput,
    NotAllowed,
    NotFound,
    Page,
    User,
    db,
    notify,
    page_of,
    rate_limit,
    reading_as,
    record_activity,
    rows_changed,
    undo_activity,
    utcnow,
)
from plugins.groups.models import (
    ACTIVE,
    MAX_POST,
    MAX_TITLE,
    ForumPost,
    ForumTopic,
    Group,
    Membership,
    TopicFollow,
)
from plugins.groups.services.access import (
    GroupAccess,
    group_for,
    managed_group,
    member_group,
    record_act,
)
from plugins.groups.services.shared import (
    FORUM_POST,
    LATEST_TOPICS_SHOWN,
    settings,
    topic_path,
)

# New topics and replies, by the pages and the HTTP API alike: one count per member, counted
# once the member may post and the post is valid (``counted=True``).
POSTS = rate_limit("groups-post", "30/hour")


def _post_key(post_id: int) -> str:
    return f"{FORUM_POST}:{post_id}"


@dataclass(frozen=True)
class TopicLine:
    topic: ForumTopic
    replies: int


# A topic's number of replies (its posts but the first), as a column beside it.
TOPIC_REPLIES = (
    select(func.count() - 1)
    .where(ForumPost.topic_id == ForumTopic.id)
    .correlate(ForumTopic)
    .scalar_subquery()
)


def _topic_lines(group: Group) -> Select:
    """The group's topics, the most recently active first, with their number of replies."""
    return (
        select(ForumTopic, TOPIC_REPLIES)
        .where(ForumTopic.group_id == group.id)
        .order_by(ForumTopic.last_post_at.desc(), ForumTopic.id.desc())
    )


def topics_page(group: Group, page: int) -> Page:
    query = _topic_lines(group).options(joinedload(ForumTopic.author))
    return page_of(query, page, settings().topics_per_page, rows=True).map(
        lambda row: TopicLine(*row)
    )


def latest_topics(group: Group) -> list[TopicLine]:
    """The group page's glimpse of its forum (which names no author)."""
    rows = db.session.execute(_topic_lines(group).limit(LATEST_TOPICS_SHOWN))
    return [TopicLine(*row) for row in rows]


def topic_for(group_id: int, topic_id: int, viewer: User) -> tuple[GroupAccess, ForumTopic]:
    access = group_for(group_id, viewer)
    topic = db.session.scalar(
        select(ForumTopic).where(ForumTopic.id == topic_id, ForumTopic.group_id == access.group.id)
    )
    if topic is None:
        raise NotFound(_("This topic does not exist."))
    return access, topic


def posts_page(topic: ForumTopic, page: int) -> Page:
    query = (
        select(ForumPost)
        .where(ForumPost.topic_id == topic.id)
        .options(joinedload(ForumPost.author))
        .order_by(ForumPost.id)
    )
    return page_of(query, page, settings().posts_per_page)


def page_of_post(post: ForumPost) -> int:
    """The page of its topic a post is on."""
    before = db.session.execute(
        select(func.count())
        .select_from(ForumPost)
        .where(ForumPost.topic_id == post.topic_id, ForumPost.id < post.id)
    ).scalar_one()
    return before // settings().posts_per_page + 1


def page_count(topic: ForumTopic) -> int:
    posts = db.session.execute(
        select(func.count()).select_from(ForumPost).where(ForumPost.topic_id == topic.id)
    ).scalar_one()
    return max(1, math.ceil(posts / settings().posts_per_page))


def _checked_post(body: str | None) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput(_("Write something first."))
    if len(body) > MAX_POST:
        raise InvalidInput(_("Keep a post under %(n)d characters.", n=MAX_POST))
    return body


def _add_post(topic: ForumTopic, author: User, body: str) -> ForumPost:
    post = ForumPost(topic_id=topic.id, author_id=author.id, body=body)
    db.session.add(post)
    db.session.flush()
    topic.last_post_at = post.created_at
    record_activity(
        FORUM_POST,
        author,
        subject=f"groups.post:{post.id}",
        key=_post_key(post.id),
        url=topic_path(topic.group_id, topic.id),
    )
    return post


def start_topic(
    group_id: int,
    author: User,
    title: str | None,
    body: str | None,
    *,
    counted: bool = False,
) -> ForumTopic:
    """A member opens a topic in the group's forum, and follows it. ``counted``: the topic
    counts against the member's posting limit (``POSTS``) once every check passed, so that
    a refused attempt costs nothing (the pages and the API count; the demo data does not)."""
    group = member_group(group_id, author)
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput(_("Give the topic a title."))
    if len(title) > MAX_TITLE:
        raise InvalidInput(_("Keep the title under %(n)d characters.", n=MAX_TITLE))
    body = _checked_post(body)
    if counted:
        POSTS.hit()
    topic = ForumTopic(group_id=group.id, author_id=author.id, title=title)
    db.session.add(topic)
    db.session.flush()
    _add_post(topic, author, body)
    follow_topic(group.id, topic.id, author)
    return topic


def reply(
    group_id: int, topic_id: int, author: User, body: str | None, *, counted: bool = False
) -> ForumPost:
    """A member replies; the topic's followers who are still members are alerted (and
    e-mailed, those who chose so). ``counted`` as for ``start_topic``."""
    access, topic = topic_for(group_id, topic_id, author)
    if not access.is_member:
        raise NotAllowed(_("Only members of this group can post. Join it first."))
    body = _checked_post(body)
    if counted:
        POSTS.hit()
    post = _add_post(topic, author, body)
    url = topic_path(access.group.id, topic.id, page_count(topic), _anchor=f"post-{post.id}")
    for follow, follower in _followers_to_tell(topic, author):
        with reading_as(follower):
            notify(
                follower,
                _(
                    "%(name)s replied to “%(topic)s” in %(group)s.",
                    name=author.display_name,
                    topic=topic.title,
                    group=access.group.shown_name,
                ),
                url=url,
                email_subject=(
                    _("New reply to “%(topic)s”", topic=topic.title) if follow.by_email else None
                ),
                mail_kind="groups.forum",
            )
    return post


def _followers_to_tell(topic: ForumTopic, author: User) -> list[tuple[TopicFollow, User]]:
    """Followers other than the author who are still active members of the group (someone
    removed must learn nothing more of a members-only group)."""
    return list(
        db.session.execute(
            select(TopicFollow, User)
            .join(User, User.id == TopicFollow.user_id)
            .join(
                Membership,
                (Membership.user_id == User.id) & (Membership.group_id == topic.group_id),
            )
            .where(
                TopicFollow.topic_id == topic.id,
                TopicFollow.user_id != author.id,
                Membership.state == ACTIVE,
            )
        ).all()
    )


def following(topic: ForumTopic, user: User) -> TopicFollow | None:
    return db.session.get(TopicFollow, (topic.id, user.id))


def follow_topic(group_id: int, topic_id: int, user: User, *, by_email: bool = False) -> None:
    """Follow a topic (again, to change whether replies come by e-mail too)."""
    access, topic = topic_for(group_id, topic_id, user)
    if not access.is_member:
        raise NotAllowed(_("Only members of this group can follow its topics."))
    existing = following(topic, user)
    if existing is None:
        try:
            with db.session.begin_nested():
                existing = TopicFollow(topic_id=topic.id, user_id=user.id, by_email=by_email)
                db.session.add(existing)
        except IntegrityError:  # a double click followed it a moment ago
            existing = db.session.get_one(TopicFollow, (topic.id, user.id))
    existing.by_email = by_email
    db.session.flush()


def unfollow_topic(group_id: int, topic_id: int, user: User) -> None:
    _access, topic = topic_for(group_id, topic_id, user)
    db.session.execute(
        delete(TopicFollow).where(TopicFollow.topic_id == topic.id, TopicFollow.user_id == user.id)
    )


def delete_post(group_id: int, post_id: int, manager: User) -> ForumPost:
    """A manager erases a post's text (its place in the thread stays); the credit it earned
    is taken back."""
    group = managed_group(group_id, manager)
    post = db.session.scalar(
        select(ForumPost)
        .join(ForumTopic, ForumTopic.id == ForumPost.topic_id)
        .where(ForumPost.id == post_id, ForumTopic.group_id == group.id)
    )
    if post is None:
        raise NotFound(_("This post does not exist."))
    erased = rows_changed(
        update(ForumPost)
        .where(ForumPost.id == post.id, ForumPost.deleted_at.is_(None))
        .values(body="", deleted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(post)
    if erased != 1:
        raise InvalidInput(_("This post was deleted already."))
    undo_activity(_post_key(post.id))
    record_act(group, manager, "deleted_post", post.author)
    return post


def delete_topic(group_id: int, topic_id: int, manager: User) -> None:
    """A manager deletes a topic with all its posts; the credits they earned are taken back."""
    group = managed_group(group_id, manager)
    _access, topic = topic_for(group.id, topic_id, manager)
    post_ids = db.session.scalars(
        select(ForumPost.id).where(ForumPost.topic_id == topic.id, ForumPost.deleted_at.is_(None))
    ).all()
    for post_id in post_ids:
        undo_activity(_post_key(post_id))
    db.session.execute(delete(ForumTopic).where(ForumTopic.id == topic.id))
    record_act(group, manager, "deleted_topic", topic.author)
