"""Each transition table of groups offers exactly what its services accept: for every state of
a membership, a join request and an invitation, and every side a member may be on, the actions
``allowed_actions`` gives them (the buttons their pages show) are the ones the services carry
out for them, and every other action of the table is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from core.api import InvalidInput, NotAllowed, NotFound, Transitions, allowed_actions
from plugins.groups.models import INVITATION_ONLY, ON_REQUEST
from plugins.groups.services import invitations, membership, moderation
from plugins.groups.services.access import group_for, membership_of
from plugins.groups.services.states import INVITATION, MEMBERSHIP, REQUEST

pytestmark = pytest.mark.plugins("groups")

Service = Callable[..., object]


def _own(service: Service) -> Service:
    """A service that acts on the actor's own row (leave, withdraw, answer): asked by anyone
    else about someone else's row, it has nothing to act on."""

    def call(group_id, actor, subject, row):
        if actor.id != subject.id:
            raise NotAllowed("not theirs")
        return service(group_id, actor)

    return call


def accepts(db, service: Service, *args) -> bool:
    """Whether ``service(*args)`` carries the change out; undone either way."""
    savepoint = db.session.begin_nested()
    try:
        service(*args)
    except (InvalidInput, NotAllowed, NotFound):
        return False
    else:
        return True
    finally:
        savepoint.rollback()
        db.session.expire_all()  # rows the service refreshed read the database again


# ---- membership ------------------------------------------------------------------------------

MEMBERSHIP_SERVICES: dict[str, Service] = {
    "leave": _own(membership.leave_group),
    "step-down": _own(membership.step_down),
    "appoint": lambda g, actor, subject, row: moderation.appoint_manager(g, actor, subject.id),
    "remove": lambda g, actor, subject, row: moderation.remove_member(g, actor, subject.id),
    "ban": lambda g, actor, subject, row: moderation.ban_member(g, actor, subject.id),
    "lift-ban": lambda g, actor, subject, row: moderation.lift_ban(g, actor, subject.id),
}

TO_STANDING = {
    "active": lambda g, manager, member, row: None,
    "manager": lambda g, manager, member, row: moderation.appoint_manager(g, manager, member.id),
    "left": lambda g, manager, member, row: membership.leave_group(g, member),
    "removed": lambda g, manager, member, row: moderation.remove_member(g, manager, member.id),
    "banned": lambda g, manager, member, row: moderation.ban_member(g, manager, member.id),
}

EXPECTED_MEMBERSHIP = {
    ("active", "self"): {"leave"},
    ("manager", "self"): {"leave", "step-down"},
    ("active", "manager"): {"appoint", "remove", "ban"},
    ("left", "manager"): {"ban"},
    ("removed", "manager"): {"ban"},
    ("banned", "manager"): {"lift-ban"},
}


# ---- join requests ---------------------------------------------------------------------------

REQUEST_SERVICES: dict[str, Service] = {
    "approve": lambda g, actor, subject, row: membership.approve_request(g, row.id, actor),
    "decline": lambda g, actor, subject, row: membership.decline_request(g, row.id, actor),
    "withdraw": _own(membership.withdraw_request),
}

TO_REQUEST_STATE = {
    "pending": lambda g, manager, asker, request: None,
    "approved": lambda g, manager, asker, request: membership.approve_request(
        g, request.id, manager
    ),
    "declined": lambda g, manager, asker, request: membership.decline_request(
        g, request.id, manager
    ),
    "withdrawn": lambda g, manager, asker, request: membership.withdraw_request(g, asker),
}

EXPECTED_REQUEST = {
    ("pending", "asker"): {"withdraw"},
    ("pending", "manager"): {"approve", "decline"},
}


# ---- invitations -----------------------------------------------------------------------------

INVITATION_SERVICES: dict[str, Service] = {
    "accept": _own(lambda g, actor: invitations.answer_invitation(g, actor, accept=True)),
    "decline": _own(lambda g, actor: invitations.answer_invitation(g, actor, accept=False)),
    "revoke": lambda g, actor, subject, row: invitations.revoke_invitation(g, row.id, actor),
}

TO_INVITATION_STATE = {
    "pending": lambda g, manager, invitee, invitation: None,
    "accepted": lambda g, manager, invitee, invitation: invitations.answer_invitation(
        g, invitee, accept=True
    ),
    "declined": lambda g, manager, invitee, invitation: invitations.answer_invitation(
        g, invitee, accept=False
    ),
    "revoked": lambda g, manager, invitee, invitation: invitations.revoke_invitation(
        g, invitation.id, manager
    ),
}

EXPECTED_INVITATION = {
    ("pending", "invitee"): {"accept", "decline"},
    ("pending", "manager"): {"revoke"},
}


# ---- every state and side of every table -----------------------------------------------------


def _membership_scene(groups, manager, member, outsider):
    group_id = groups.create(manager)
    groups.add(group_id, member, outsider)
    return group_id, member, outsider, membership_of(group_id, member.id)


def _request_scene(groups, manager, member, outsider):
    group_id = groups.create(manager, join_policy=ON_REQUEST)
    groups.add(group_id, member)
    return group_id, outsider, member, membership.request_to_join(group_id, outsider, "Me?")


def _invitation_scene(groups, manager, member, outsider):
    group_id = groups.create(manager, join_policy=INVITATION_ONLY)
    groups.add(group_id, member)
    return group_id, outsider, member, invitations.invite(group_id, manager, outsider.id)


@dataclass(frozen=True)
class Table:
    """A table, the services of its actions, how its row comes to each state (``scene``: a
    group, the member the row is about, another member, and the row), and what each state
    and side is offered: what the pages offered before there were tables."""

    transitions: Transitions
    services: dict[str, Service]
    to_state: dict[str, Callable]
    expected: dict[tuple[str, str], set[str]]
    subject: str
    scene: Callable


TABLES = {
    "membership": Table(
        MEMBERSHIP, MEMBERSHIP_SERVICES, TO_STANDING, EXPECTED_MEMBERSHIP, "self", _membership_scene
    ),
    "request": Table(
        REQUEST, REQUEST_SERVICES, TO_REQUEST_STATE, EXPECTED_REQUEST, "asker", _request_scene
    ),
    "invitation": Table(
        INVITATION,
        INVITATION_SERVICES,
        TO_INVITATION_STATE,
        EXPECTED_INVITATION,
        "invitee",
        _invitation_scene,
    ),
}


@pytest.mark.parametrize(
    ("name", "state", "side"),
    [
        pytest.param(name, state, side, id=f"{name}-{state}-{side}")
        for name, table in TABLES.items()
        for state in table.to_state
        for side in (table.subject, "manager", "another member")
    ],
)
def test_each_table_offers_what_its_services_accept(
    db, groups, manager, member, outsider, name, state, side
):
    table = TABLES[name]
    group_id, subject, other, row = table.scene(groups, manager, member, outsider)
    table.to_state[state](group_id, manager, subject, row)
    db.session.commit()
    actor = {table.subject: subject, "manager": manager, "another member": other}[side]

    access = group_for(group_id, actor, invitee_may_see=True)
    offered = set(allowed_actions(row, access))
    accepted = {
        action
        for action, service in table.services.items()
        if accepts(db, service, group_id, actor, subject, row)
    }

    assert set(table.services) == table.transitions.actions()  # every action is tried
    assert offered == accepted == table.expected.get((state, side), set())


def test_the_last_manager_is_offered_to_leave_and_step_down_and_told_why_they_cannot(
    db, groups, manager
):
    """The one refusal the table does not foresee: the group's count of managers keeps one."""
    group_id = groups.create(manager)
    access = group_for(group_id, manager)

    assert set(allowed_actions(access.membership, access)) == {"leave", "step-down"}
    for service in (membership.leave_group, membership.step_down):
        with pytest.raises(InvalidInput, match="A group needs a manager"):
            service(group_id, manager)
        db.session.rollback()
