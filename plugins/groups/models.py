"""The groups plugin's tables. Rules that must hold under concurrent requests are constraints
here: one membership row per group and member, one pending join request and one pending
invitation per member and group, unique group names (case-insensitive, through ``name_key``),
and at least one manager per group (a check on the group's own ``manager_count``, which every
change of role updates in the same transaction)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.api import Model, User, utcnow

OPEN, ON_REQUEST, INVITATION_ONLY = "open", "request", "invitation"
JOIN_POLICIES = (OPEN, ON_REQUEST, INVITATION_ONLY)
PUBLIC, MEMBERS_ONLY = "public", "members"
VISIBILITIES = (PUBLIC, MEMBERS_ONLY)

MEMBER, MANAGER = "member", "manager"
ROLES = (MEMBER, MANAGER)
ACTIVE, LEFT, REMOVED, BANNED = "active", "left", "removed", "banned"
MEMBERSHIP_STATES = (ACTIVE, LEFT, REMOVED, BANNED)
MAY_REJOIN = (LEFT, REMOVED)

PENDING, APPROVED, DECLINED, WITHDRAWN = "pending", "approved", "declined", "withdrawn"
REQUEST_STATES = (PENDING, APPROVED, DECLINED, WITHDRAWN)
ACCEPTED, REVOKED = "accepted", "revoked"
INVITATION_STATES = (PENDING, ACCEPTED, DECLINED, REVOKED)

# What a manager did; each act is one row, and a "groups.managed" activity (once a day for the
# same act on the same member).
MANAGEMENT_ACTIONS = (
    "edited",
    "approved_request",
    "declined_request",
    "invited",
    "revoked_invitation",
    "removed",
    "banned",
    "lifted_ban",
    "appointed",
    "announced",
    "deleted_post",
    "deleted_topic",
)

MAX_NAME = 80
MAX_TOPIC = 60
MAX_DESCRIPTION = 2000
MAX_MESSAGE = 1000
MAX_TITLE = 150
MAX_POST = 10000


def pending_only() -> dict:
    """The ``WHERE`` of a partial unique index over pending rows, on both databases."""
    condition = text(f"state = '{PENDING}'")
    return {"sqlite_where": condition, "postgresql_where": condition}


class Group(Model):
    __tablename__ = "groups_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    name_key: Mapped[str] = mapped_column(String(MAX_NAME), unique=True)  # lower-cased name
    description: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str] = mapped_column(String(MAX_TOPIC), default="")
    join_policy: Mapped[str] = mapped_column(String(16), default=OPEN)
    visibility: Mapped[str] = mapped_column(String(16), default=PUBLIC)
    manager_count: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # set while the moderators hide the group (after a member's report): unlisted, its name
    # and description shown to nobody
    hidden_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(f"join_policy IN {JOIN_POLICIES}", name="join_policy"),
        CheckConstraint(f"visibility IN {VISIBILITIES}", name="visibility"),
        CheckConstraint("manager_count >= 1", name="has_a_manager"),
        CheckConstraint("name_key = lower(name_key)", name="name_key_lowercase"),
        CheckConstraint(f"length(name) BETWEEN 1 AND {MAX_NAME}", name="name_length"),
    )

    @property
    def is_public(self) -> bool:
        return self.visibility == PUBLIC

    @property
    def shown_name(self) -> str:
        """The name pages show: none while the moderators hide the group."""
        return str(_l("Hidden group")) if self.hidden_at is not None else self.name


class Membership(Model):
    """A member's place in a group: one row per pair, whose state changes as they join,
    leave, are removed or banned, and join again."""

    __tablename__ = "groups_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups_groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=MEMBER)
    state: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    group: Mapped[Group] = relationship()

    __table_args__ = (
        UniqueConstraint("group_id", "user_id"),
        CheckConstraint(f"role IN {ROLES}", name="role"),
        CheckConstraint(f"state IN {MEMBERSHIP_STATES}", name="state"),
        CheckConstraint(f"role = '{MEMBER}' OR state = '{ACTIVE}'", name="manager_is_active"),
        Index("ix_groups_memberships_group_state", "group_id", "state"),
    )

    @property
    def is_active(self) -> bool:
        return self.state == ACTIVE

    @property
    def is_manager(self) -> bool:
        return self.state == ACTIVE and self.role == MANAGER


class JoinRequest(Model):
    """A member asks to join a group "on request"; the request and its message are kept."""

    __tablename__ = "groups_join_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups_groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        CheckConstraint(f"state IN {REQUEST_STATES}", name="state"),
        Index(
            "uq_groups_join_requests_pending", "group_id", "user_id", unique=True, **pending_only()
        ),
        Index("ix_groups_join_requests_group_state", "group_id", "state"),
    )


class Invitation(Model):
    """A manager invites a member, who accepts or declines."""

    __tablename__ = "groups_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups_groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
    group: Mapped[Group] = relationship()

    __table_args__ = (
        CheckConstraint(f"state IN {INVITATION_STATES}", name="state"),
        Index(
            "uq_groups_invitations_pending", "group_id", "user_id", unique=True, **pending_only()
        ),
    )


class ManagementAct(Model):
    """One thing a manager did to their group: the group's history, and the subject of a
    ``groups.managed`` activity (once a day for the same act on the same member)."""

    __tablename__ = "groups_management_acts"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups_groups.id", ondelete="CASCADE"), index=True
    )
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])
    member: Mapped[User | None] = relationship(foreign_keys=[member_id])

    __table_args__ = (CheckConstraint(f"action IN {MANAGEMENT_ACTIONS}", name="action"),)


class Announcement(Model):
    __tablename__ = "groups_announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups_groups.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint(f"length(body) BETWEEN 1 AND {MAX_MESSAGE}", name="body_length"),
        Index("ix_groups_announcements_group_created", "group_id", "created_at"),
    )


class ForumTopic(Model):
    __tablename__ = "groups_forum_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups_groups.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint(f"length(title) BETWEEN 1 AND {MAX_TITLE}", name="title_length"),
        Index("ix_groups_forum_topics_group_last_post", "group_id", "last_post_at"),
    )


class ForumPost(Model):
    """A topic's opening post or a reply. A manager's deletion erases the text and keeps the
    place in the thread, so the replies around it still read in order."""

    __tablename__ = "groups_forum_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("groups_forum_topics.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    # set while the moderators hide the post (after a member's report); the text is kept
    hidden_at: Mapped[datetime | None]

    author: Mapped[User | None] = relationship()
    topic: Mapped[ForumTopic] = relationship()

    __table_args__ = (
        CheckConstraint(
            f"(deleted_at IS NULL AND length(body) BETWEEN 1 AND {MAX_POST}) "
            "OR (deleted_at IS NOT NULL AND body = '')",
            name="body",
        ),
        Index("ix_groups_forum_posts_topic_id", "topic_id", "id"),
    )


class TopicFollow(Model):
    """A member follows a topic: an alert on each reply, and an e-mail too if they chose so."""

    __tablename__ = "groups_topic_follows"

    topic_id: Mapped[int] = mapped_column(
        ForeignKey("groups_forum_topics.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    by_email: Mapped[bool] = mapped_column(default=False)
