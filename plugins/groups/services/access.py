"""Who a member is to a group: their membership and pending invitation, and the checks every
page and action starts with (``group_for``, ``member_group``, ``managed_group``). Also the
record of what a manager did (``record_act``), which every concern that manages writes."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, SQLColumnExpression, and_, select

from core.api import NotAllowed, NotFound, User, db, record_activity, utcnow
from plugins.groups.models import (
    BANNED,
    PENDING,
    Group,
    Invitation,
    JoinRequest,
    ManagementAct,
    Membership,
)
from plugins.groups.services.shared import MANAGED, group_path, group_subject


@dataclass(frozen=True)
class GroupAccess:
    """A group as one member (``viewer``) sees it: their membership (any state) and pending
    invitation. It is the member the transition tables ask about (``states``)."""

    group: Group
    membership: Membership | None
    invitation: Invitation | None
    viewer: User

    @property
    def is_member(self) -> bool:
        return self.membership is not None and self.membership.is_active

    @property
    def is_manager(self) -> bool:
        return self.membership is not None and self.membership.is_manager

    @property
    def is_banned(self) -> bool:
        return self.membership is not None and self.membership.state == BANNED

    @property
    def own_membership(self) -> Membership:
        """The viewer's membership, for what only one who has one may do; refused without."""
        if self.membership is None:
            raise NotAllowed(_("Only members of this group can do this. Join it first."))
        return self.membership

    def manages(self, group_id: int) -> bool:
        return self.is_manager and self.group.id == group_id


def _membership_in(group_id: SQLColumnExpression[int] | int, user_id: int) -> ColumnElement[bool]:
    return and_(Membership.group_id == group_id, Membership.user_id == user_id)


def _pending_invitation_to(
    group_id: SQLColumnExpression[int] | int, user_id: int
) -> ColumnElement[bool]:
    return and_(
        Invitation.group_id == group_id, Invitation.user_id == user_id, Invitation.state == PENDING
    )


def membership_of(group_id: int, user_id: int) -> Membership | None:
    return db.session.scalar(select(Membership).where(_membership_in(group_id, user_id)))


def stored_membership(group_id: int, user_id: int) -> Membership:
    """The membership a concurrent request has just stored (refused, NoResultFound, if none)."""
    return db.session.execute(
        select(Membership).where(_membership_in(group_id, user_id))
    ).scalar_one()


def pending_invitation(group_id: int, user_id: int) -> Invitation | None:
    return db.session.scalar(select(Invitation).where(_pending_invitation_to(group_id, user_id)))


def pending_request(group_id: int, user_id: int) -> JoinRequest | None:
    return db.session.scalar(
        select(JoinRequest).where(
            JoinRequest.group_id == group_id,
            JoinRequest.user_id == user_id,
            JoinRequest.state == PENDING,
        )
    )


def group_for(group_id: int, viewer: User, *, invitee_may_see: bool = False) -> GroupAccess:
    """The group as ``viewer`` sees it. A members-only group is ``NotFound`` to everyone but
    its active members, and (with ``invitee_may_see``) a member invited to it."""
    # one row at most: one membership per member and group, one pending invitation
    found = db.session.execute(
        select(Group, Membership, Invitation)
        .outerjoin(Membership, _membership_in(Group.id, viewer.id))
        .outerjoin(Invitation, _pending_invitation_to(Group.id, viewer.id))
        .where(Group.id == group_id)
    ).one_or_none()
    if found is None:
        raise NotFound(_("This group does not exist."))
    group, membership, pending = found
    # an invitation matters only to someone not in the group
    invitation = None if membership is not None and membership.is_active else pending
    access = GroupAccess(group, membership, invitation, viewer)
    invited = invitee_may_see and invitation is not None
    if not group.is_public and not access.is_member and not invited:
        raise NotFound(_("This group does not exist."))
    return access


def member_group(group_id: int, user: User) -> Group:
    """The group, if ``user`` is an active member of it."""
    return member_access(group_id, user).group


def member_access(group_id: int, user: User) -> GroupAccess:
    """The group as ``user`` sees it, if they are an active member of it."""
    access = group_for(group_id, user)
    if not access.is_member:
        raise NotAllowed(_("Only members of this group can do this. Join it first."))
    return access


def managed_group(group_id: int, manager: User) -> Group:
    """The group, if ``manager`` manages it."""
    return manager_access(group_id, manager).group


def manager_access(group_id: int, manager: User) -> GroupAccess:
    """The group as ``manager`` sees it, if they manage it."""
    access = group_for(group_id, manager)
    if not access.is_manager:
        raise NotAllowed(_("Only the group's managers can do this."))
    return access


def record_act(group: Group, manager: User, action: str, member: User | None = None) -> None:
    """Keep what a manager did in the group's history, and record it as one activity."""
    act = ManagementAct(
        group_id=group.id,
        manager_id=manager.id,
        action=action,
        member_id=member.id if member else None,
    )
    db.session.add(act)
    db.session.flush()
    record_activity(
        MANAGED,
        manager,
        subject=group_subject(group),
        # once a day per act and member: a manager who edits ten times, or invites and
        # revokes in a loop, has managed the group once that day
        key=f"{MANAGED}:{group.id}:{manager.id}:{action}:{act.member_id or ''}:{utcnow():%Y-%m-%d}",
        url=group_path(group.id),
    )
