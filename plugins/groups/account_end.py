"""A member leaves (``member_deactivating``) or is erased (``member_erasing``): the groups
only they manage pass to their longest-standing member, or close while nobody is there; on
erasure their memberships, requests and invitations go, and their forum posts stay in their
threads with the text removed (as a manager's deletion does), by "former member"."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from core.api import User, db, forget_mentions, notify, reading_as, utcnow
from plugins.groups.models import (
    ACTIVE,
    MANAGER,
    PENDING,
    WITHDRAWN,
    Announcement,
    ForumPost,
    ForumTopic,
    Group,
    Invitation,
    JoinRequest,
    Membership,
    TopicFollow,
)
from plugins.groups.services.membership import count_managers
from plugins.groups.services.shared import group_path


def _managed_alone(user: User) -> list[Membership]:
    """The member's managing memberships in groups where no other manager is listed."""
    managing = db.session.scalars(
        select(Membership)
        .where(Membership.user_id == user.id, Membership.state == ACTIVE)
        .where(Membership.role == MANAGER)
        .with_for_update()
    ).all()
    return [membership for membership in managing if _successor(membership, managers=True) is None]


def _successor(membership: Membership, *, managers: bool = False) -> Membership | None:
    """Another active member of the group, listed: the longest-standing first (among the
    managers only, with ``managers``)."""
    query = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.group_id == membership.group_id,
            Membership.state == ACTIVE,
            Membership.user_id != membership.user_id,
            User.is_listed,
        )
        .order_by(Membership.joined_at, Membership.id)
        .limit(1)
    )
    if managers:
        query = query.where(Membership.role == MANAGER)
    return db.session.scalar(query)


def hand_over_groups(user: User) -> None:
    """``member_deactivating``: each group only ``user`` manages gets its longest-standing
    listed member as a manager too, told so. With nobody to take it, the group is closed (out
    of the directory, nobody joins) until ``user`` comes back. ``user`` stays a manager: a
    member who returns finds their groups as they left them. Their requests to join a group
    are withdrawn: no manager is left to answer someone who is not there."""
    db.session.execute(
        update(JoinRequest)
        .where(JoinRequest.user_id == user.id, JoinRequest.state == PENDING)
        .values(state=WITHDRAWN, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    for membership in _managed_alone(user):
        heir = _successor(membership)
        if heir is None:
            continue  # closed: see directory.has_listed_manager
        heir.role = MANAGER
        heir.state_changed_at = utcnow()
        group = db.session.get_one(Group, membership.group_id)
        count_managers(group, +1)
        with reading_as(heir.user):
            notify(
                heir.user,
                _(
                    "You now manage the group %(group)s: its manager is no longer active here.",
                    group=group.name,
                ),
                url=group_path(group.id),
                email_subject=_("You now manage %(group)s", group=group.name),
            )


def erase_member(user: User) -> None:
    """``member_erasing``: what is only theirs goes; their posts keep their place, emptied."""
    for membership in db.session.scalars(
        select(Membership).where(Membership.user_id == user.id).with_for_update()
    ).all():
        if membership.is_manager:
            _leave_management(membership)
    db.session.execute(delete(Membership).where(Membership.user_id == user.id))
    db.session.execute(delete(JoinRequest).where(JoinRequest.user_id == user.id))
    db.session.execute(delete(Invitation).where(Invitation.user_id == user.id))
    db.session.execute(delete(TopicFollow).where(TopicFollow.user_id == user.id))
    db.session.execute(delete(Announcement).where(Announcement.author_id == user.id))
    # others' words that name them (or give their address): "former member"
    forget_mentions(user, ForumPost.body, ForumTopic.title, Announcement.body, JoinRequest.message)
    db.session.execute(
        update(ForumPost)
        .where(ForumPost.author_id == user.id, ForumPost.deleted_at.is_(None))
        .values(body="", deleted_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _leave_management(membership: Membership) -> None:
    """An erased manager's group: another manager goes on; else the longest-standing member
    (listed or not) takes it; a group with nobody left goes with its last manager."""
    group = db.session.get_one(Group, membership.group_id)
    if group.manager_count > 1:
        count_managers(group, -1)
        return
    heir = db.session.scalar(
        select(Membership)
        .where(
            Membership.group_id == group.id,
            Membership.state == ACTIVE,
            Membership.user_id != membership.user_id,
        )
        .order_by(Membership.joined_at, Membership.id)
        .limit(1)
    )
    if heir is None:
        db.session.delete(group)
        db.session.flush()
        return
    heir.role = MANAGER  # one manager for another: the count stays
