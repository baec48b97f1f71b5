"""The transition tables of the groups plugin: a membership, a join request, an invitation.
Each says from which state an action may be taken, by which side, and to which state it
leads. Services ``check`` a table before they act; templates ask
``allowed_actions(thing, access)`` which buttons to offer, where ``access`` is the member as
they stand in the group (``access.GroupAccess``, which every page has at hand).

The sides: the member the row is about ("self" for a membership, "asker" for a request,
"invitee" for an invitation), or a manager of the group ("manager"). Nobody acts as a manager
on a row of their own.

Not in the tables: coming into a group (a new membership, or back after leaving or a removal,
``MAY_REJOIN``) follows the group's join policy (``membership.admit``); a member who comes in
or is banned has their pending request and invitation settled with them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from core.api import Step, Transitions, db, rows_changed, utcnow
from plugins.groups.models import (
    ACCEPTED,
    ACTIVE,
    APPROVED,
    BANNED,
    DECLINED,
    LEFT,
    MANAGER,
    MEMBER,
    PENDING,
    REMOVED,
    REVOKED,
    WITHDRAWN,
    Invitation,
    JoinRequest,
    Membership,
)
from plugins.groups.services.access import GroupAccess

Row = Membership | JoinRequest | Invitation


def standing(membership: Membership) -> str:
    """A membership's state as its table reads it: an active manager is ``MANAGER``, an
    active plain member ``ACTIVE``; left, removed and banned members have no role."""
    return MANAGER if membership.is_manager else membership.state


def state_and_role(standing: str) -> tuple[str, str]:
    """The membership's columns for a ``standing``."""
    return (ACTIVE, MANAGER) if standing == MANAGER else (standing, MEMBER)


def _sides(subject: str) -> Callable[[Row, GroupAccess], set[str]]:
    """The sides of a member on a row of the group: ``subject`` if it is theirs, "manager" if
    they manage its group."""

    def sides(row: Row, access: GroupAccess) -> set[str]:
        if row.user_id == access.viewer.id:
            return {subject}
        return {"manager"} if access.manages(row.group_id) else set()

    return sides


_THEIRS = _l("Only the member it concerns can do this.")  # refused to a manager, on a member's row

MEMBERSHIP = Transitions(
    Membership,
    state=standing,
    sides=_sides("self"),
    steps=[
        Step(ACTIVE, "leave", "self", LEFT, _l("Leave the group"), not_yours=_THEIRS),
        # the last manager can neither leave nor step down: the group's manager_count says so
        Step(MANAGER, "leave", "self", LEFT, _l("Leave the group"), not_yours=_THEIRS),
        Step(MANAGER, "step-down", "self", ACTIVE, _l("Step down as manager"), not_yours=_THEIRS),
        Step(ACTIVE, "appoint", "manager", MANAGER, _l("Make manager")),
        Step(ACTIVE, "remove", "manager", REMOVED, _l("Remove")),
        *(Step(state, "ban", "manager", BANNED, _l("Ban")) for state in (ACTIVE, LEFT, REMOVED)),
        Step(BANNED, "lift-ban", "manager", REMOVED, _l("Lift the ban")),
    ],
    not_now=_l("This member's place in the group changed meanwhile."),
    not_yours=_l("Only the group's managers can do this."),
)

REQUEST = Transitions(
    JoinRequest,
    state=lambda request: request.state,
    sides=_sides("asker"),
    steps=[
        Step(PENDING, "approve", "manager", APPROVED, _l("Approve")),
        Step(PENDING, "decline", "manager", DECLINED, _l("Decline")),
        Step(PENDING, "withdraw", "asker", WITHDRAWN, _l("Withdraw my request"), not_yours=_THEIRS),
    ],
    not_now=_l("This request was answered already."),
    not_yours=_l("Only the group's managers can do this."),
)

INVITATION = Transitions(
    Invitation,
    state=lambda invitation: invitation.state,
    sides=_sides("invitee"),
    steps=[
        Step(PENDING, "accept", "invitee", ACCEPTED, _l("Accept"), not_yours=_THEIRS),
        Step(PENDING, "decline", "invitee", DECLINED, _l("Decline"), not_yours=_THEIRS),
        Step(PENDING, "revoke", "manager", REVOKED, _l("Revoke")),
    ],
    not_now=_l("This invitation was answered already."),
    not_yours=_l("Only the group's managers can do this."),
)


def move(membership: Membership, step: Step) -> bool:
    """Move the membership along ``step`` if it still stands where the table saw it; whether it
    did. Conditional, so that of two concurrent changes only one happens."""
    (state, role), (was_state, was_role) = state_and_role(step.to), state_and_role(step.state)
    values: dict[str, Any] = {"role": role}
    if state != was_state:
        values.update(state=state, state_changed_at=utcnow())
    moved = rows_changed(
        update(Membership)
        .where(Membership.id == membership.id)
        .where(Membership.state == was_state, Membership.role == was_role)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(membership)
    return moved == 1


def take(row: JoinRequest | Invitation, step: Step, **values: Any) -> bool:
    """Move a request or an invitation along ``step`` (with more ``values``) if it is still in
    the step's state; whether it did. Of two concurrent answers, only one is taken."""
    kind = type(row)
    taken = rows_changed(
        update(kind)
        .where(kind.id == row.id, kind.state == step.state)
        .values(state=step.to, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(row)
    return taken == 1
