"""What managers do to members: remove, ban, lift a ban, appoint a manager; and the group's
history of such acts."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from core.api import InvalidInput, NotFound, User, db, notify, reading_as, utcnow
from plugins.groups.models import (
    ACTIVE,
    BANNED,
    DECLINED,
    LEFT,
    MANAGER,
    MEMBER,
    PENDING,
    REMOVED,
    REVOKED,
    Group,
    Invitation,
    JoinRequest,
    ManagementAct,
    Membership,
)
from plugins.groups.services.access import managed_group, membership_of, record_act
from plugins.groups.services.membership import _set_state, count_managers
from plugins.groups.services.shared import HISTORY_SHOWN, group_path


def banned_members(group: Group) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.group_id == group.id, Membership.state == BANNED)
            .options(joinedload(Membership.user))
            .order_by(User.display_name, User.id)
        )
    )


def _member_to_manage(group: Group, manager: User, member_id: int) -> Membership:
    membership = membership_of(group.id, member_id)
    if membership is None:
        raise NotFound(_("This member is not in the group."))
    if membership.user_id == manager.id:
        raise InvalidInput(_("You cannot do this to yourself."))
    if membership.is_manager:
        raise InvalidInput(
            _(
                "%(name)s is a manager: managers cannot be removed or banned; they step down "
                "first.",
                name=membership.user.display_name,
            )
        )
    return membership


def remove_member(group_id: int, manager: User, member_id: int) -> Membership:
    """The member leaves the group; they may join again as its policy allows."""
    group = managed_group(group_id, manager)
    membership = _member_to_manage(group, manager, member_id)
    if not _set_state(membership, REMOVED, allowed_from=(ACTIVE,)):
        raise InvalidInput(
            _("%(name)s is not a member any more.", name=membership.user.display_name)
        )
    record_act(group, manager, "removed", membership.user)
    with reading_as(membership.user):
        notify(
            membership.user,
            _("You were removed from the group %(group)s.", group=group.name),
            url=group_path(group.id) if group.is_public else None,
        )
    return membership


def ban_member(group_id: int, manager: User, member_id: int) -> Membership:
    """The member leaves the group, and may not join, ask or be invited again."""
    group = managed_group(group_id, manager)
    membership = _member_to_manage(group, manager, member_id)
    if not _set_state(membership, BANNED, allowed_from=(ACTIVE, LEFT, REMOVED)):
        raise InvalidInput(_("%(name)s is banned already.", name=membership.user.display_name))
    # an invitation or a request of a former member waiting meanwhile ends with the ban (an
    # invitation would still show them a members-only group)
    db.session.execute(
        update(Invitation)
        .where(Invitation.group_id == group.id, Invitation.user_id == member_id)
        .where(Invitation.state == PENDING)
        .values(state=REVOKED, answered_at=utcnow())
    )
    db.session.execute(
        update(JoinRequest)
        .where(JoinRequest.group_id == group.id, JoinRequest.user_id == member_id)
        .where(JoinRequest.state == PENDING)
        .values(state=DECLINED, decided_at=utcnow())
    )
    record_act(group, manager, "banned", membership.user)
    return membership


def lift_ban(group_id: int, manager: User, member_id: int) -> Membership:
    group = managed_group(group_id, manager)
    membership = _member_to_manage(group, manager, member_id)
    if not _set_state(membership, REMOVED, allowed_from=(BANNED,)):
        raise InvalidInput(_("%(name)s is not banned.", name=membership.user.display_name))
    record_act(group, manager, "lifted_ban", membership.user)
    return membership


def appoint_manager(group_id: int, manager: User, member_id: int) -> Membership:
    group = managed_group(group_id, manager)
    membership = _member_to_manage(group, manager, member_id)
    appointed = db.session.execute(
        update(Membership)
        .where(Membership.id == membership.id, Membership.state == ACTIVE)
        .where(Membership.role == MEMBER)
        .values(role=MANAGER)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(membership)
    if appointed.rowcount != 1:
        raise InvalidInput(
            _("%(name)s is not a member any more.", name=membership.user.display_name)
        )
    count_managers(group, +1)
    record_act(group, manager, "appointed", membership.user)
    with reading_as(membership.user):
        notify(
            membership.user,
            _("You are now a manager of %(group)s.", group=group.name),
            url=group_path(group.id),
        )
    return membership


def history(group: Group) -> list[ManagementAct]:
    return list(
        db.session.scalars(
            select(ManagementAct)
            .where(ManagementAct.group_id == group.id)
            .options(joinedload(ManagementAct.manager), joinedload(ManagementAct.member))
            .order_by(ManagementAct.id.desc())
            .limit(HISTORY_SHOWN)
        )
    )


def action_label(action: str) -> str:
    return {
        "edited": _("edited the group"),
        "approved_request": _("approved the request of"),
        "declined_request": _("declined the request of"),
        "invited": _("invited"),
        "revoked_invitation": _("revoked the invitation of"),
        "removed": _("removed"),
        "banned": _("banned"),
        "lifted_ban": _("lifted the ban of"),
        "appointed": _("appointed as manager"),
        "announced": _("posted an announcement"),
        "deleted_post": _("deleted a post by"),
        "deleted_topic": _("deleted a topic by"),
    }[action]
