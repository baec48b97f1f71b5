"""Groups' rules under concurrent requests: one membership per member and group, one pending
request, each request answered once, unique names, and never a group without a manager.

Each racer runs in its own thread, app context and unit of work (or is a real HTTP request
against the live server), released at the same instant by a barrier. On PostgreSQL the
database's constraints and row locks decide; on SQLite writers queue on its one write lock.
Both must give the same outcome."""

from __future__ import annotations

import threading
from functools import partial

import pytest
import requests
from sqlalchemy import select

from core.errors import InvalidInput
from core.models import Activity, User
from core.testing import count_rows, race, session_cookie, stored
from plugins.groups.models import Group, JoinRequest, Membership
from plugins.groups.services import directory, membership, moderation

pytestmark = pytest.mark.plugins("groups")

ROUNDS = 3  # each race is run a few times, on fresh groups, to give it chances to collide


def member(user_id: int) -> User:
    """The member, loaded in the racer's own unit of work."""
    from core.db import db

    return db.session.get(User, user_id)


# What each racer does, in its own unit of work: the acting member is loaded there.


def join(group_id: int, user_id: int) -> int:
    return membership.join_group(group_id, member(user_id)).id


def ask(group_id: int, user_id: int) -> int:
    return membership.request_to_join(group_id, member(user_id), "Me please").id


def approve(group_id: int, request_id: int, manager_id: int) -> int:
    return membership.approve_request(group_id, request_id, member(manager_id)).id


def withdraw(group_id: int, user_id: int) -> None:
    membership.withdraw_request(group_id, member(user_id))


def leave(group_id: int, user_id: int) -> None:
    membership.leave_group(group_id, member(user_id))


def step_down(group_id: int, user_id: int) -> None:
    membership.step_down(group_id, member(user_id))


def create(user_id: int, name: str) -> int:
    return directory.create_group(member(user_id), name=name).id


def one_ok_one_refused(outcomes, message: str) -> None:
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    [error] = [value for kind, value in outcomes if kind == "error"]
    assert isinstance(error, InvalidInput), repr(error)
    assert message in str(error)


def test_two_joins_at_once_make_one_membership(app, db, create_user, groups):
    owner = create_user()
    for _round in range(ROUNDS):
        joiner = create_user()
        group_id = groups.create(owner, f"Open {joiner.id}")

        outcomes = race(
            app,
            partial(join, group_id, joiner.id),
            partial(join, group_id, joiner.id),
        )

        one_ok_one_refused(outcomes, "You are a member of this group already.")
        assert count_rows(app, Membership, Membership.user_id == joiner.id) == 1


def test_two_rejoins_at_once_after_a_removal_make_one_active_membership(
    app, db, create_user, groups
):
    owner = create_user()
    for _round in range(ROUNDS):
        joiner = create_user()
        group_id = groups.create(owner, f"Open {joiner.id}")
        groups.add(group_id, joiner)
        moderation.remove_member(group_id, owner, joiner.id)
        db.session.commit()

        outcomes = race(
            app,
            partial(join, group_id, joiner.id),
            partial(join, group_id, joiner.id),
        )

        one_ok_one_refused(outcomes, "You are a member of this group already.")
        assert (
            stored(app, select(Membership.state).where(Membership.user_id == joiner.id)) == "active"
        )


def test_two_joins_posted_at_once_over_http_make_one_membership(
    app, db, create_user, groups, live_server
):
    owner, joiner = create_user(), create_user()
    group_id = groups.create(owner)
    cookie = session_cookie(app, joiner)
    barrier = threading.Barrier(2, timeout=30)
    statuses: list[int] = []

    def submit() -> None:
        with requests.Session() as browser:
            browser.cookies.set("session", cookie, domain="127.0.0.1")
            barrier.wait()
            statuses.append(
                browser.post(f"{live_server}/groups/{group_id}/join", timeout=30).status_code
            )

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200, 200]
    assert count_rows(app, Membership, Membership.user_id == joiner.id) == 1


def test_two_requests_at_once_leave_one_pending(app, db, create_user, groups):
    owner = create_user()
    for _round in range(ROUNDS):
        asker = create_user()
        group_id = groups.create(owner, f"On request {asker.id}", join_policy="request")

        outcomes = race(
            app,
            partial(ask, group_id, asker.id),
            partial(ask, group_id, asker.id),
        )

        one_ok_one_refused(outcomes, "You asked to join already")
        assert count_rows(app, JoinRequest, JoinRequest.user_id == asker.id) == 1


def test_two_managers_approving_one_request_at_once_admit_once(app, db, create_user, groups):
    owner, second = create_user(), create_user()
    for _round in range(ROUNDS):
        asker = create_user()
        group_id = groups.create(owner, f"On request {asker.id}", join_policy="request")
        groups.add(group_id, second)
        moderation.appoint_manager(group_id, owner, second.id)
        request_id = membership.request_to_join(group_id, asker, "Me please").id
        db.session.commit()
        managed_before = count_rows(app, Activity, Activity.kind == "groups.managed")

        outcomes = race(
            app,
            partial(approve, group_id, request_id, owner.id),
            partial(approve, group_id, request_id, second.id),
        )

        one_ok_one_refused(outcomes, "This request was answered already (approved).")
        assert count_rows(app, Membership, Membership.user_id == asker.id) == 1
        managed_after = count_rows(app, Activity, Activity.kind == "groups.managed")
        assert managed_after == managed_before + 1


def test_approving_and_withdrawing_at_once_leave_one_consistent_outcome(
    app, db, create_user, groups
):
    owner = create_user()
    for _round in range(ROUNDS):
        asker = create_user()
        group_id = groups.create(owner, f"On request {asker.id}", join_policy="request")
        request_id = membership.request_to_join(group_id, asker, "Me please").id
        db.session.commit()

        outcomes = race(
            app,
            partial(approve, group_id, request_id, owner.id),
            partial(withdraw, group_id, asker.id),
        )

        assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
        state = stored(app, select(JoinRequest.state).where(JoinRequest.id == request_id))
        joined = count_rows(
            app, Membership, Membership.user_id == asker.id, Membership.state == "active"
        )
        assert (state, joined) in {("approved", 1), ("withdrawn", 0)}


def test_the_last_two_managers_leaving_at_once_leave_one(app, db, create_user, groups):
    for _round in range(ROUNDS):
        first, second = create_user(), create_user()
        group_id = groups.create(first, f"Managed {first.id}")
        groups.add(group_id, second)
        moderation.appoint_manager(group_id, first, second.id)
        db.session.commit()

        outcomes = race(
            app,
            partial(leave, group_id, first.id),
            partial(step_down, group_id, second.id),
        )

        one_ok_one_refused(outcomes, "A group needs a manager")
        managers = count_rows(
            app,
            Membership,
            Membership.group_id == group_id,
            Membership.role == "manager",
            Membership.state == "active",
        )
        assert managers == 1
        assert stored(app, select(Group.manager_count).where(Group.id == group_id)) == 1


def test_two_groups_created_at_once_with_one_name_make_one(app, db, create_user):
    for round_ in range(ROUNDS):
        first, second = create_user(), create_user()

        outcomes = race(
            app,
            partial(create, first.id, f"Readers {round_}"),
            partial(create, second.id, f"READERS {round_}"),
        )

        one_ok_one_refused(outcomes, "exists already")
        assert count_rows(app, Group, Group.name_key == f"readers {round_}") == 1
        assert count_rows(app, Membership, Membership.user_id.in_([first.id, second.id])) == 1
