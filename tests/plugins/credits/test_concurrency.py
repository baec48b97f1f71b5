"""Credits under concurrent transactions: the same event delivered twice at the same instant
(a retried job racing the original, two processes), the same reversal twice, and a member's
activities racing for the last of the day's cap.

Each racer runs in its own thread, app context and unit of work (its own database session),
released at the same instant by a barrier, and commits. On PostgreSQL the ledger's unique
constraints and the balance row's lock decide; on SQLite writers queue on its write lock.
Both must give the same outcome, and every balance must still equal its ledger's sum."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.db import utcnow
from core.models import Activity, Goal, GoalParty, User
from core.testing import count_rows, race
from plugins.credits import services
from plugins.credits.models import CreditEntry

ROUNDS = 5  # each race runs a few times, to give it chances to collide


def loaded(model: type, id_: int) -> Any:
    """The row, loaded in the racer's own session."""
    from core.db import db

    return db.session.get(model, id_)


def uncredited_activity(db, member: User, number: int, kind: str = "probe.wrote") -> int:
    """An activity stored without its event delivered yet (as if the delivery were retried)."""
    activity = Activity(
        key=f"race:{member.id}:{number}",
        kind=kind,
        user_id=member.id,
        subject=f"article:{number}",
        url=f"/probe/articles/{number}",
    )
    db.session.add(activity)
    db.session.commit()
    return activity.id


def uncredited_goal(db, parties: list[User], number: int) -> int:
    goal = Goal(kind="probe.met", title=f"Meeting {number}", completed_at=utcnow())
    goal.parties = [GoalParty(user_id=party.id, decision="consented") for party in parties]
    db.session.add(goal)
    db.session.commit()
    return goal.id


def test_the_same_activity_delivered_twice_at_once_is_credited_once(app, db, credits, create_user):
    ada = create_user()
    for number in range(ROUNDS):
        activity_id = uncredited_activity(db, ada, number)

        outcomes = race(
            app,
            *[lambda id_=activity_id: services.credit_activity(loaded(Activity, id_))] * 2,
        )

        assert [status for status, _ in outcomes] == ["ok", "ok"], outcomes
        assert sorted(entry_id is None for _, entry_id in outcomes) == [False, True]
    assert count_rows(app, CreditEntry) == ROUNDS
    assert credits.total(ada) == 10 * ROUNDS
    balances, sums = credits.balances_and_ledger_sums()
    assert balances == sums


def test_the_same_goal_delivered_twice_at_once_credits_each_party_once(
    app, db, credits, create_user
):
    mia, max_ = create_user(), create_user()
    for number in range(ROUNDS):
        goal_id = uncredited_goal(db, [mia, max_], number)

        outcomes = race(
            app,
            *[lambda id_=goal_id: services.credit_goal(loaded(Goal, id_))] * 2,
        )

        assert sorted(len(ids) for _, ids in outcomes) == [0, 2], outcomes
    assert credits.total(mia) == credits.total(max_) == 20 * ROUNDS
    balances, sums = credits.balances_and_ledger_sums()
    assert balances == sums


def test_the_same_reversal_delivered_twice_at_once_reverses_once(app, db, credits, create_user):
    ada = create_user()
    activity_ids = [credits.do(ada, "probe.wrote").id for _ in range(ROUNDS)]
    for activity_id in activity_ids:
        outcomes = race(
            app,
            *[lambda id_=activity_id: services.reverse_activity(loaded(Activity, id_))] * 2,
        )

        assert [status for status, _ in outcomes] == ["ok", "ok"], outcomes
        assert sorted(entry_id is None for _, entry_id in outcomes) == [False, True]
    reversals = db.session.scalars(
        select(CreditEntry.points).where(CreditEntry.entry_kind == "reversal")
    ).all()
    assert reversals == [-10] * ROUNDS
    assert credits.total(ada) == 0
    balances, sums = credits.balances_and_ledger_sums()
    assert balances == sums


@pytest.mark.parametrize("credits_config", [{"daily_cap": 25}])
def test_activities_racing_for_the_days_last_room_never_pass_the_cap(app, db, credits, create_user):
    """Without the balance row's lock, each racer would see nothing earned today yet."""
    racers = 6
    for round_ in range(2):
        member = create_user()
        activity_ids = [uncredited_activity(db, member, n) for n in range(racers)]

        outcomes = race(
            app,
            *[
                lambda activity_id=activity_id: services.credit_activity(
                    loaded(Activity, activity_id)
                )
                for activity_id in activity_ids
            ],
        )

        assert all(status == "ok" for status, _ in outcomes), outcomes
        points = sorted(points for _, _, points, _ in credits.entries(member))
        assert points == [0, 0, 0, 5, 10, 10], round_
        assert credits.total(member) == 25
    balances, sums = credits.balances_and_ledger_sums()
    assert balances == sums
