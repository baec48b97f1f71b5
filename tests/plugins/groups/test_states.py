"""Each transition table of groups offers exactly what its services accept: for every state of
a membership, a join request and an invitation, and every side a member may be on, the actions
``allowed_actions`` gives them (the buttons their pages show) are the ones the services carry
out for them, and every other action of the table is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.api import InvalidInput, NotAllowed, NotFound, allowed_actions
from plugins.groups.models import INVITATION_ONLY, ON_REQUEST, Invitation, JoinRequest
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


def offered_and_accepted(db, table, services, group_id, actor, subject, row, *, invited=False):
    access = group_for(group_id, actor, invitee_may_see=invited)
    offered = set(allowed_actions(row, access))
    accepted = {
        action
        for action, service in services.items()
        if accepts(db, service, group_id, actor, subject, row)
    }
    assert set(services) == table.actions()  # every action of the table is tried
    return offered, accepted


# ---- membership ------------------------------------------------------------------------------

MEMBERSHIP_SERVICES: dict[str, Service] = {
    "leave": _own(membership.leave_group),
    "step-down": _own(membership.step_down),
    "appoint": lambda g, actor, subject, row: moderation.appoint_manager(g, actor, subject.id),
    "remove": lambda g, actor, subject, row: moderation.remove_member(g, actor, subject.id),
    "ban": lambda g, actor, subject, row: moderation.ban_member(g, actor, subject.id),
    "lift-ban": lambda g, actor, subject, row: moderation.lift_ban(g, actor, subject.id),
}

# How the member comes to stand where the test needs them (``active``: they just joined).
TO_STANDING = {
    "active": lambda g, manager, member: None,
    "manager": lambda g, manager, member: moderation.appoint_manager(g, manager, member.id),
    "left": lambda g, manager, member: membership.leave_group(g, member),
    "removed": lambda g, manager, member: moderation.remove_member(g, manager, member.id),
    "banned": lambda g, manager, member: moderation.ban_member(g, manager, member.id),
}

EXPECTED_MEMBERSHIP = {  # what the pages offer today, as the table should keep it
    ("active", "self"): {"leave"},
    ("manager", "self"): {"leave", "step-down"},
    ("active", "manager"): {"appoint", "remove", "ban"},
    ("left", "manager"): {"ban"},
    ("removed", "manager"): {"ban"},
    ("banned", "manager"): {"lift-ban"},
}


@pytest.mark.parametrize("side", ["self", "manager", "another member"])
@pytest.mark.parametrize("standing", list(TO_STANDING))
def test_a_membership_offers_what_its_services_accept(
    db, groups, manager, member, outsider, standing, side
):
    group_id = groups.create(manager)
    groups.add(group_id, member, outsider)
    TO_STANDING[standing](group_id, manager, member)
    db.session.commit()
    actor = {"self": member, "manager": manager, "another member": outsider}[side]

    offered, accepted = offered_and_accepted(
        db,
        MEMBERSHIP,
        MEMBERSHIP_SERVICES,
        group_id,
        actor,
        member,
        membership_of(group_id, member.id),
    )

    assert offered == accepted == EXPECTED_MEMBERSHIP.get((standing, side), set())


def test_a_manager_is_offered_nothing_on_their_own_place_but_leaving_and_stepping_down(
    db, groups, manager
):
    group_id = groups.create(manager)
    access = group_for(group_id, manager)

    assert set(allowed_actions(access.membership, access)) == {"leave", "step-down"}


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


@pytest.mark.parametrize("side", ["asker", "manager", "another member"])
@pytest.mark.parametrize("state", list(TO_REQUEST_STATE))
def test_a_join_request_offers_what_its_services_accept(
    db, groups, manager, member, outsider, state, side
):
    group_id = groups.create(manager, join_policy=ON_REQUEST)
    groups.add(group_id, member)
    request = membership.request_to_join(group_id, outsider, "May I join?")
    TO_REQUEST_STATE[state](group_id, manager, outsider, request)
    db.session.commit()
    actor = {"asker": outsider, "manager": manager, "another member": member}[side]

    offered, accepted = offered_and_accepted(
        db,
        REQUEST,
        REQUEST_SERVICES,
        group_id,
        actor,
        outsider,
        db.session.get(JoinRequest, request.id),
    )

    assert offered == accepted == EXPECTED_REQUEST.get((state, side), set())


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


@pytest.mark.parametrize("side", ["invitee", "manager", "another member"])
@pytest.mark.parametrize("state", list(TO_INVITATION_STATE))
def test_an_invitation_offers_what_its_services_accept(
    db, groups, manager, member, outsider, state, side
):
    group_id = groups.create(manager, join_policy=INVITATION_ONLY)
    groups.add(group_id, member)
    invitation = invitations.invite(group_id, manager, outsider.id)
    TO_INVITATION_STATE[state](group_id, manager, outsider, invitation)
    db.session.commit()
    actor = {"invitee": outsider, "manager": manager, "another member": member}[side]

    offered, accepted = offered_and_accepted(
        db,
        INVITATION,
        INVITATION_SERVICES,
        group_id,
        actor,
        outsider,
        db.session.get(Invitation, invitation.id),
        invited=True,
    )

    assert offered == accepted == EXPECTED_INVITATION.get((state, side), set())
