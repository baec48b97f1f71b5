"""Goals with multi-party consent (core.services.goals): a goal completes exactly once, when
its last party consents, and ``goal_completed`` fires exactly once inside that unit of work.
Runs on SQLite and PostgreSQL; the race tests show each backend's behaviour."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from core import hookimpl
from core.contributions import GoalKind
from core.errors import InvalidInput, NotAllowed, NotFound
from core.models import Goal, GoalParty, Notification, User
from core.services.goals import (
    GoalsOf,
    consent_to_goal,
    decline_goal,
    goal_label,
    goals_of,
    propose_goal,
)
from core.services.notifications import notify
from core.testing import count_rows, stored

MET = "probe.met"
FINISHED = "probe.finished"


class GoalProbe:
    """A throwaway plugin: declares goal kinds, and on completion records what it saw and
    alerts every party (a write that must share the fate of the last consent)."""

    def __init__(self) -> None:
        self.completed: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @hookimpl
    def register_goal_kinds(self) -> list[GoalKind]:
        return [GoalKind(MET, "Attended a meeting"), GoalKind(FINISHED, "Finished a mentorship")]

    @hookimpl
    def goal_completed(self, goal: Goal) -> None:
        with self.lock:
            self.completed.append(
                {
                    "id": goal.id,
                    "completed_at": goal.completed_at,
                    "decisions": {party.user_id: party.decision for party in goal.parties},
                }
            )
        for party in goal.parties:
            notify(party.user, f"Goal reached: {goal.title}")


@pytest.fixture
def probe() -> GoalProbe:
    return GoalProbe()


@pytest.fixture
def app(make_app, probe):
    return make_app(extra_plugins={"probe": probe}, PLUGINS=["probe"])


@pytest.fixture
def pair(create_user):
    return create_user(display_name="Mia Mentee"), create_user(display_name="Max Mentor")


def decisions(app, goal_id: int) -> dict[int, str]:
    from core.db import db

    with app.app_context():
        rows = db.session.execute(
            select(GoalParty.user_id, GoalParty.decision).where(GoalParty.goal_id == goal_id)
        ).all()
        db.session.remove()
    return dict(rows)


def propose(db, parties, title="First meeting", **options) -> Goal:
    goal = propose_goal(MET, title, parties, **options)
    db.session.commit()
    return goal


# ---- proposing --------------------------------------------------------------------------------


def test_propose_goal_creates_an_open_goal_pending_for_each_party(app, db, pair):
    mentee, mentor = pair

    goal = propose_goal(
        MET, "First meeting", [mentor, mentee, mentor], subject="meeting:1", url="/meetings/1"
    )
    db.session.commit()

    row = stored(app, select(Goal).where(Goal.id == goal.id))
    assert (row.kind, row.title, row.subject, row.url) == (
        MET,
        "First meeting",
        "meeting:1",
        "/meetings/1",
    )
    assert row.completed_at is None and row.declined_at is None
    assert decisions(app, goal.id) == {mentee.id: "pending", mentor.id: "pending"}
    assert goal.is_open
    assert goal_label(MET) == "Attended a meeting"


def test_proposing_with_the_same_key_returns_the_same_goal(app, db, pair):
    first = propose(db, pair, key="meeting:1:attended")

    again = propose(db, pair, title="Another title", key="meeting:1:attended")

    assert again.id == first.id
    assert again.title == "First meeting"
    assert count_rows(app, Goal) == 1
    assert count_rows(app, GoalParty) == 2


def test_goals_without_a_key_are_distinct(app, db, pair):
    assert propose(db, pair).id != propose(db, pair).id
    assert count_rows(app, Goal) == 2


def test_an_unknown_kind_or_no_party_is_refused(app, db, pair):
    with pytest.raises(ValueError, match=r"unknown goal kind 'probe\.typo'"):
        propose_goal("probe.typo", "Typo", pair)
    with pytest.raises(ValueError, match="at least one party"):
        propose_goal(MET, "Nobody's", [])
    db.session.commit()
    assert count_rows(app, Goal) == 0


def test_a_kind_carries_no_credits():
    """As for activities, what a completed goal is worth is a credits plugin's own rule."""
    with pytest.raises(TypeError, match="credits"):
        GoalKind(FINISHED, "Finished a mentorship", credits=50)


# ---- consenting -------------------------------------------------------------------------------


def test_the_goal_completes_when_the_last_party_consents_and_fires_once(app, db, probe, pair):
    mentee, mentor = pair
    goal = propose(db, pair)

    after_first = consent_to_goal(goal.id, mentee)
    db.session.commit()

    assert after_first.completed_at is None
    assert after_first.party(mentee).decision == "consented"
    assert after_first.party(mentor).decision == "pending"
    assert decisions(app, goal.id) == {mentee.id: "consented", mentor.id: "pending"}
    assert probe.completed == []
    assert stored(app, select(Goal.completed_at).where(Goal.id == goal.id)) is None

    after_last = consent_to_goal(goal.id, mentor)
    db.session.commit()

    assert after_last.completed_at is not None
    assert after_last.declined_at is None
    completed_at = stored(app, select(Goal.completed_at).where(Goal.id == goal.id))
    assert completed_at == after_last.completed_at
    assert probe.completed == [
        {
            "id": goal.id,
            "completed_at": completed_at,
            "decisions": {mentee.id: "consented", mentor.id: "consented"},
        }
    ]
    # the listener's alerts were committed with the completion
    assert count_rows(app, Notification, Notification.message == "Goal reached: First meeting") == 2


def test_a_goal_of_one_party_completes_with_its_consent(app, db, probe, pair):
    goal = propose(db, pair[:1])

    assert consent_to_goal(goal.id, pair[0]).completed_at is not None
    db.session.commit()
    assert len(probe.completed) == 1


def test_consenting_twice_changes_nothing(app, db, probe, pair):
    mentee, _mentor = pair
    goal = propose(db, pair)
    consent_to_goal(goal.id, mentee)
    db.session.commit()
    decided_at = stored(app, select(GoalParty.decided_at).where(GoalParty.user_id == mentee.id))

    again = consent_to_goal(goal.id, mentee)
    db.session.commit()

    assert again.completed_at is None
    assert (
        stored(app, select(GoalParty.decided_at).where(GoalParty.user_id == mentee.id))
        == decided_at
    )
    assert probe.completed == []


def test_consenting_to_a_completed_goal_is_refused_and_does_not_fire_again(app, db, probe, pair):
    mentee, mentor = pair
    goal = propose(db, pair)
    consent_to_goal(goal.id, mentee)
    consent_to_goal(goal.id, mentor)
    db.session.commit()
    completed_at = stored(app, select(Goal.completed_at).where(Goal.id == goal.id))

    for party in pair:
        with pytest.raises(InvalidInput, match="already completed"):
            consent_to_goal(goal.id, party)
        db.session.rollback()
    with pytest.raises(InvalidInput, match="already completed"):
        decline_goal(goal.id, mentee)
    db.session.rollback()

    assert stored(app, select(Goal.completed_at).where(Goal.id == goal.id)) == completed_at
    assert stored(app, select(Goal.declined_at).where(Goal.id == goal.id)) is None
    assert len(probe.completed) == 1


def test_a_member_who_is_not_a_party_may_not_decide(app, db, probe, pair, create_user):
    goal = propose(db, pair)
    stranger = create_user()

    with pytest.raises(NotAllowed):
        consent_to_goal(goal.id, stranger)
    with pytest.raises(NotAllowed):
        decline_goal(goal.id, stranger)
    db.session.rollback()

    assert decisions(app, goal.id) == {pair[0].id: "pending", pair[1].id: "pending"}
    assert stored(app, select(Goal.declined_at).where(Goal.id == goal.id)) is None


def test_an_unknown_goal_is_not_found(app, db, pair):
    with pytest.raises(NotFound):
        consent_to_goal(404, pair[0])
    with pytest.raises(NotFound):
        decline_goal(404, pair[0])


# ---- declining --------------------------------------------------------------------------------


def test_declining_closes_the_goal_for_good(app, db, probe, pair):
    mentee, mentor = pair
    goal = propose(db, pair)
    consent_to_goal(goal.id, mentee)

    declined = decline_goal(goal.id, mentor)
    db.session.commit()

    assert declined.declined_at is not None
    assert not declined.is_open
    assert declined.party(mentor).decision == "declined"
    assert decisions(app, goal.id) == {mentee.id: "consented", mentor.id: "declined"}
    assert stored(app, select(Goal.declined_at).where(Goal.id == goal.id)) is not None

    for party in pair:
        with pytest.raises(InvalidInput, match="declined"):
            consent_to_goal(goal.id, party)
        db.session.rollback()
    with pytest.raises(InvalidInput, match="declined"):
        decline_goal(goal.id, mentee)
    db.session.rollback()

    assert stored(app, select(Goal.completed_at).where(Goal.id == goal.id)) is None
    assert probe.completed == []
    assert goals_of(mentee) == GoalsOf(completed=[], awaiting=[])


def test_the_database_refuses_a_goal_both_completed_and_declined(app, db, pair):
    goal = propose(db, pair)
    consent_to_goal(goal.id, pair[0])
    consent_to_goal(goal.id, pair[1])
    db.session.commit()

    with pytest.raises(IntegrityError):
        db.session.execute(
            Goal.__table__.update().where(Goal.id == goal.id).values(declined_at=func.now())
        )
    db.session.rollback()


# ---- one consent per party, in the database ----------------------------------------------------


def test_the_database_refuses_two_consent_rows_for_one_party(app, db, pair):
    goal = propose(db, pair)

    with pytest.raises(IntegrityError):
        db.session.execute(
            insert(GoalParty).values(goal_id=goal.id, user_id=pair[0].id, decision="consented")
        )
    db.session.rollback()

    assert decisions(app, goal.id) == {pair[0].id: "pending", pair[1].id: "pending"}


def test_the_database_refuses_an_unknown_decision(app, db, pair):
    goal = propose(db, pair[:1])

    with pytest.raises(IntegrityError):
        db.session.execute(
            GoalParty.__table__.update()
            .where(GoalParty.goal_id == goal.id)
            .values(decision="maybe")
        )
    db.session.rollback()


# ---- lists --------------------------------------------------------------------------------------


def test_a_member_s_goals_list_the_completed_and_those_awaiting_them(app, db, pair, create_user):
    mentee, mentor = pair
    other = create_user()
    done_first = propose(db, pair, title="done first")
    done_later = propose(db, pair, title="done later")
    half = propose(db, pair, title="mentee agreed")
    declined = propose(db, pair, title="declined")
    untouched = propose(db, pair, title="untouched")
    not_theirs = propose(db, [mentor, other], title="not theirs")
    for goal in (done_first, done_later):
        consent_to_goal(goal.id, mentee)
        consent_to_goal(goal.id, mentor)
        db.session.commit()
    consent_to_goal(half.id, mentee)
    decline_goal(declined.id, mentor)
    db.session.commit()

    assert [g.title for g in goals_of(mentee).completed] == ["done later", "done first"]
    assert [g.title for g in goals_of(mentor).completed] == ["done later", "done first"]
    assert goals_of(other).completed == []
    assert [g.title for g in goals_of(mentee, limit=1).completed] == ["done later"]

    assert [g.id for g in goals_of(mentee).awaiting] == [untouched.id]
    assert [g.id for g in goals_of(mentor).awaiting] == [half.id, untouched.id, not_theirs.id]
    assert len(goals_of(mentor, limit=1).awaiting) == 3  # the limit is for completed goals
    assert goals_of(mentor, awaiting=False).awaiting == []
    assert [g.id for g in goals_of(other).awaiting] == [not_theirs.id]


# ---- through the profile page --------------------------------------------------------------------


def test_parties_consent_on_their_profile_and_see_the_completed_goal(client, db, probe, pair):
    mentee, mentor = pair
    goal = propose(db, pair, title="Kick-off meeting")

    client.login(mentee)
    overview = client.get("/me", follow_redirects=True).text
    assert "Waiting for your consent" in overview
    assert "Kick-off meeting" in overview and "(Attended a meeting)" in overview
    page = client.post(f"/goals/{goal.id}/consent", follow_redirects=True).text
    assert "The goal completes when everyone has agreed." in page
    assert "Waiting for your consent" not in page

    client.login(mentor)
    page = client.post(f"/goals/{goal.id}/consent", follow_redirects=True).text
    assert "Goal completed: Kick-off meeting" in page
    assert "No completed goals yet" not in page
    assert len(probe.completed) == 1

    # the other party sees it on their profile too
    client.login(mentee)
    assert "Kick-off meeting" in client.get(f"/members/{mentee.id}").text


def test_a_stranger_posting_consent_gets_403_and_changes_nothing(client, db, pair, create_user):
    goal = propose(db, pair)
    stranger = create_user()
    client.login(stranger)

    response = client.post(f"/goals/{goal.id}/consent")

    assert response.status_code == 403
    assert client.post("/goals/404/consent").status_code == 404
    assert goals_of(pair[0]).awaiting[0].id == goal.id


def test_consenting_to_a_declined_goal_on_the_page_says_so(client, db, probe, pair):
    goal = propose(db, pair)
    client.login(pair[1])
    assert "You declined this goal." in (
        client.post(f"/goals/{goal.id}/decline", follow_redirects=True).text
    )

    client.login(pair[0])
    page = client.post(f"/goals/{goal.id}/consent", follow_redirects=True).text

    assert "This goal was declined." in page
    assert probe.completed == []


# ---- concurrency --------------------------------------------------------------------------------

RACES = 10


def consent_in_its_own_unit_of_work(
    app, barrier: threading.Barrier, goal_id: int, user_id: int, outcome: dict[str, Any]
) -> None:
    """One unit of work: consent and commit. A failure with "database is locked" would be
    retried, as a user would press again, and is recorded: the test expects none."""
    from core.db import db

    with app.app_context():
        barrier.wait()
        for _attempt in range(20):
            try:
                consent_to_goal(goal_id, db.session.get(User, user_id))
                db.session.commit()
            except OperationalError as error:
                db.session.rollback()
                outcome["locked"].append(str(error))
                time.sleep(0.01)
            except Exception as error:
                db.session.rollback()
                outcome["errors"].append(error)
                break
            else:
                break
        db.session.remove()


def test_two_parties_consenting_at_the_same_instant_complete_the_goal_once(
    app, db, probe, create_user, database_url
):
    """The second consent waits for the first (a row lock on PostgreSQL, SQLite's write lock
    taken up front by units of work that write) and both succeed at once: every goal
    completes exactly once and ``goal_completed`` fires exactly once."""
    mentee, mentor = create_user(), create_user()
    goal_ids = [propose(db, [mentee, mentor], title=f"race {n}").id for n in range(RACES)]
    outcome: dict[str, Any] = {"locked": [], "errors": []}

    for goal_id in goal_ids:
        barrier = threading.Barrier(2, timeout=30)
        threads = [
            threading.Thread(
                target=consent_in_its_own_unit_of_work,
                args=(app, barrier, goal_id, user_id, outcome),
            )
            for user_id in (mentee.id, mentor.id)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)

    assert outcome["errors"] == []
    assert outcome["locked"] == []  # no request failed: the locks serialized them
    assert sorted(call["id"] for call in probe.completed) == goal_ids
    for goal_id in goal_ids:
        assert stored(app, select(Goal.completed_at).where(Goal.id == goal_id)) is not None
        assert decisions(app, goal_id) == {mentee.id: "consented", mentor.id: "consented"}
    assert count_rows(app, Notification) == 2 * RACES  # one completion, alerting both, per goal


def test_proposing_one_goal_concurrently_creates_it_once(app, db, create_user, database_url):
    """Two requests propose the same goal (same key) at the same instant, e.g. both parties
    confirming the meeting it is about: one goal, and no request fails."""
    from core.db import db as database

    party_ids = [create_user().id, create_user().id]
    racers = 6
    barrier = threading.Barrier(racers, timeout=30)
    results: list[int] = []
    errors: list[BaseException] = []

    def propose_in_its_own_unit_of_work() -> None:
        with app.app_context():
            parties = [database.session.get(User, user_id) for user_id in party_ids]
            database.session.commit()  # a request starts its unit of work afresh
            barrier.wait()
            try:
                goal_id = propose_goal(MET, "First meeting", parties, key="meeting:1").id
                database.session.commit()
            except Exception as error:
                database.session.rollback()
                errors.append(error)
            else:
                results.append(goal_id)
            finally:
                database.session.remove()

    threads = [threading.Thread(target=propose_in_its_own_unit_of_work) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(results) == racers and len(set(results)) == 1
    assert count_rows(app, Goal) == 1
    assert count_rows(app, GoalParty) == 2
