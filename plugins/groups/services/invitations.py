"""Invitations: a manager finds members and invites them, revokes an invitation; the invitee
accepts or declines."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core.api import InvalidInput, NotFound, User, db, like_pattern, notify, reading_as, utcnow
from plugins.groups.models import (
    ACTIVE,
    BANNED,
    PENDING,
    Group,
    Invitation,
    Membership,
)
from plugins.groups.services.access import (
    group_for,
    managed_group,
    manager_access,
    membership_of,
    record_act,
)
from plugins.groups.services.membership import admit, asked_lately
from plugins.groups.services.shared import INVITE_CANDIDATES, group_path, settings
from plugins.groups.services.states import INVITATION, take


def _invitations_today(group: Group) -> int:
    """The group's invitations of the last day: each mails a member, so that a group made to
    advertise cannot mail the whole community."""
    return db.session.execute(
        select(func.count())
        .select_from(Invitation)
        .where(
            Invitation.group_id == group.id, Invitation.created_at > utcnow() - timedelta(days=1)
        )
    ).scalar_one()


def invite_candidates(group: Group, text: str) -> list[User]:
    """Members matching ``text`` by name who could be invited: not in the group, not banned
    from it, not invited already, not suspended."""
    words = text.split()[:5]
    if not words:
        return []
    query = select(User).where(
        User.email_confirmed_at.is_not(None),
        User.is_listed,
        ~select(Membership.id)
        .where(
            Membership.group_id == group.id,
            Membership.user_id == User.id,
            Membership.state.in_((ACTIVE, BANNED)),
        )
        .exists(),
        ~select(Invitation.id)
        .where(
            Invitation.group_id == group.id,
            Invitation.user_id == User.id,
            Invitation.state == PENDING,
        )
        .exists(),
    )
    for word in words:
        pattern = like_pattern(word.lower())
        query = query.where(func.lower(User.display_name).like(pattern, escape="\\"))
    return list(
        db.session.scalars(query.order_by(User.display_name, User.id).limit(INVITE_CANDIDATES))
    )


def invite(group_id: int, manager: User, member_id: int) -> Invitation:
    """A manager invites a member, who is told by alert and e-mail."""
    group = managed_group(group_id, manager)
    invitee = db.session.get(User, member_id)
    if invitee is None or not invitee.email_confirmed:
        raise InvalidInput(_("Choose a member to invite from the list."))
    membership = membership_of(group.id, invitee.id)
    if membership is not None and membership.state == ACTIVE:
        raise InvalidInput(
            _("%(name)s is a member of this group already.", name=invitee.display_name)
        )
    if membership is not None and membership.state == BANNED:
        raise InvalidInput(
            _(
                "%(name)s is banned from this group: lift the ban before inviting them.",
                name=invitee.display_name,
            )
        )
    if _invitations_today(group) >= settings().invitations_per_day:
        raise InvalidInput(
            _("This group sent all the invitations it may send today: invite more tomorrow.")
        )
    if asked_lately(Invitation, group, invitee):
        raise InvalidInput(
            _(
                "The last invitation to %(name)s was answered or revoked less than a day ago:"
                " invite them again tomorrow.",
                name=invitee.display_name,
            )
        )
    invitation = Invitation(
        group_id=group.id, user_id=invitee.id, invited_by_id=manager.id, state=PENDING
    )
    try:
        with db.session.begin_nested():
            db.session.add(invitation)
    except IntegrityError:
        raise InvalidInput(_("%(name)s is invited already.", name=invitee.display_name)) from None
    record_act(group, manager, "invited", invitee)
    with reading_as(invitee):
        notify(
            invitee,
            _(
                "%(name)s invites you to join the group %(group)s.",
                name=manager.display_name,
                group=group.shown_name,
            ),
            url=group_path(group.id),
            email_subject=_("Invitation to join %(group)s", group=group.shown_name),
            mail_kind="groups.invitations",
        )
    return invitation


def revoke_invitation(group_id: int, invitation_id: int, manager: User) -> Invitation:
    access = manager_access(group_id, manager)
    group = access.group
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.group_id == group.id)
    )
    if invitation is None:
        raise NotFound(_("This invitation does not exist."))
    if not take(invitation, INVITATION.check(invitation, access, "revoke"), answered_at=utcnow()):
        raise InvalidInput(_("This invitation was answered already."))
    record_act(group, manager, "revoked_invitation", invitation.user)
    return invitation


def answer_invitation(group_id: int, user: User, *, accept: bool) -> Group:
    """The invitee accepts (and joins, whatever the group's policy) or declines."""
    access = group_for(group_id, user, invitee_may_see=True)
    group, invitation = access.group, access.invitation
    if invitation is None or not take(
        invitation,
        INVITATION.check(invitation, access, "accept" if accept else "decline"),
        answered_at=utcnow(),
    ):
        raise InvalidInput(_("You have no pending invitation to this group."))
    if accept:
        admit(group, user, user)
    if invitation.invited_by is not None:
        with reading_as(invitation.invited_by):
            notify(
                invitation.invited_by,
                _(
                    "%(name)s accepted your invitation to %(group)s.",
                    name=user.display_name,
                    group=group.shown_name,
                )
                if accept
                else _(
                    "%(name)s declined your invitation to %(group)s.",
                    name=user.display_name,
                    group=group.shown_name,
                ),
                url=group_path(group.id),
            )
    return group


def invitations_of(user: User) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.user_id == user.id, Invitation.state == PENDING)
            .options(joinedload(Invitation.group), joinedload(Invitation.invited_by))
            .order_by(Invitation.created_at.desc())
        )
    )


def pending_invitations(group: Group) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.group_id == group.id, Invitation.state == PENDING)
            .options(joinedload(Invitation.user))
            .order_by(Invitation.created_at, Invitation.id)
        )
    )
