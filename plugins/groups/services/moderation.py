"""What managers do to members: remove, ban, lift a ban, appoint a manager; and the group's
history of such acts."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from core.api import InvalidInput, NotFound, User, db, notify, reading_as, utcnow
from plugins.groups.models import (
    BANNED,
    DECLINED,
    PENDING,
    REVOKED,
    Group,
    Invitation,
    JoinRequest,
    ManagementAct,
    Membership,
)
from plugins.groups.services.access import manager_access, membership_of, record_act
from plugins.groups.services.membership import change_standing
from plugins.groups.services.shared import HISTORY_SHOWN, group_path
from plugins.groups.services.states import MEMBERSHIP


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


def _manage(group_id: int, manager: User, member_id: int, action: str) -> tuple[Group, Membership]:
    """Take ``action`` on a member's place in the group, if the membership table allows it."""
    access = manager_access(group_id, manager)
    membership = membership_of(access.group.id, member_id)
    if membership is None:
        raise NotFound(_("This member is not in the group."))
    step = MEMBERSHIP.allowed(membership, access).get(action)
    if step is None or not change_standing(access.group, membership, step):
        raise _refusal(membership, manager, action)
    return access.group, membership


def _refusal(membership: Membership, manager: User, action: str) -> InvalidInput:
    """Why the table refused a manager's ``action`` on ``membership``, in the words managers
    read on the page."""
    name = membership.user.display_name
    if membership.user_id == manager.id:
        return InvalidInput(_("You cannot do this to yourself."))
    if membership.is_manager:
        return InvalidInput(
            _(
                "%(name)s is a manager: managers cannot be removed or banned; they step down "
                "first.",
                name=name,
            )
        )
    if action == "ban":
        return InvalidInput(_("%(name)s is banned already.", name=name))
    if action == "lift-ban":
        return InvalidInput(_("%(name)s is not banned.", name=name))
    return InvalidInput(_("%(name)s is not a member any more.", name=name))


def remove_member(group_id: int, manager: User, member_id: int) -> Membership:
    """The member leaves the group; they may join again as its policy allows."""
    group, membership = _manage(group_id, manager, member_id, "remove")
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
    group, membership = _manage(group_id, manager, member_id, "ban")
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
    group, membership = _manage(group_id, manager, member_id, "lift-ban")
    record_act(group, manager, "lifted_ban", membership.user)
    return membership


def appoint_manager(group_id: int, manager: User, member_id: int) -> Membership:
    group, membership = _manage(group_id, manager, member_id, "appoint")
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
