"""The member's goals through the HTTP API, as on their profile's overview: the list (and
what awaits their consent), one goal with what its plugin says about it, and consenting or
declining, with the services' rules (only a party decides, a closed goal stays closed)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from core import hookimpl
from core.contributions import GoalKind
from core.models import Goal, GoalParty
from core.services.goals import propose_goal
from core.testing import assert_api_routes_refuse_visitors, race, stored, token_headers

API = "/api/v1/goals"
MET = "probe.met"


class GoalProbe:
    """A throwaway plugin declaring a goal kind, with facts, and counting completions."""

    def __init__(self) -> None:
        self.completed: list[int] = []
        self.lock = threading.Lock()

    @hookimpl
    def register_goal_kinds(self) -> list[GoalKind]:
        return [GoalKind(MET, "Attended a meeting", describe=self.describe)]

    @staticmethod
    def describe(goal: Goal) -> list[tuple[str, str]]:
        return [("Meetings held", "6")]

    @hookimpl
    def goal_completed(self, goal: Goal) -> None:
        with self.lock:
            self.completed.append(goal.id)


@pytest.fixture
def probe() -> GoalProbe:
    return GoalProbe()


@pytest.fixture
def app(make_app, probe):
    return make_app(extra_plugins={"probe": probe}, PLUGINS=["probe"])


@pytest.fixture
def pair(create_user):
    return create_user(display_name="Mia Mentee"), create_user(display_name="Max Mentor")


def goal_of(db, parties, title: str = "Met Max", **fields) -> int:
    goal = propose_goal(MET, title, parties, **fields)
    db.session.commit()
    return goal.id


def problem_type(response) -> str:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return response.json["type"].rsplit("/", 1)[-1]


def test_every_goal_route_refuses_visitors_and_read_only_tokens(app, client, db, member):
    assert_api_routes_refuse_visitors(app, client, token_headers(member, "read"))


def test_the_member_reads_their_goals_newest_first(app, client, db, pair, outsider):
    mia, max_ = pair
    first = goal_of(db, pair, "First", url="/mentoring/1")
    second = goal_of(db, pair, "Second")
    goal_of(db, [max_, outsider], "Not hers")
    token = token_headers(mia, "read")

    listed = client.get(f"{API}?limit=1", headers=token)
    assert [goal["id"] for goal in listed.json["items"]] == [second]
    assert 'rel="next"' in listed.headers["Link"]
    rest = client.get(f"{API}?limit=1&after={listed.json['next']}", headers=token).json
    assert [goal["id"] for goal in rest["items"]] == [first] and rest["next"] is None

    shown = client.get(f"{API}/{first}", headers=token).json
    assert shown["title"] == "First" and shown["kind"] == MET
    assert shown["kind_label"] == "Attended a meeting"
    assert shown["url"].endswith("/mentoring/1") and shown["url"].startswith("http")
    assert shown["state"] == "open" and shown["my_decision"] == "pending"
    assert shown["facts"] == [{"label": "Meetings held", "value": "6"}]
    assert {(p["member_id"], p["decision"]) for p in shown["parties"]} == {
        (mia.id, "pending"),
        (max_.id, "pending"),
    }


def test_consent_completes_the_goal_once_every_party_agreed(app, client, db, probe, pair):
    mia, max_ = pair
    goal_id = goal_of(db, pair)
    mia_token, max_token = token_headers(mia), token_headers(max_)

    consented = client.post(f"{API}/{goal_id}/consent", headers=mia_token)
    assert consented.status_code == 200
    assert consented.json["my_decision"] == "consented" and consented.json["state"] == "open"
    twice = client.post(f"{API}/{goal_id}/consent", headers=mia_token)
    assert twice.status_code == 200 and twice.json["state"] == "open"
    awaiting = client.get(f"{API}?awaiting=true", headers=max_token).json["items"]
    assert [goal["id"] for goal in awaiting] == [goal_id]
    assert client.get(f"{API}?awaiting=true", headers=mia_token).json["items"] == []

    completed = client.post(f"{API}/{goal_id}/consent", headers=max_token)
    assert completed.json["state"] == "completed" and completed.json["completed_at"]
    assert probe.completed == [goal_id]
    after = client.post(f"{API}/{goal_id}/consent", headers=max_token)
    assert after.status_code == 422 and after.json["detail"] == "This goal is already completed."
    assert client.get(f"{API}?awaiting=true", headers=max_token).json["items"] == []


def test_a_declined_goal_can_no_longer_complete(app, client, db, probe, pair):
    mia, max_ = pair
    goal_id = goal_of(db, pair)
    declined = client.post(f"{API}/{goal_id}/decline", headers=token_headers(mia))
    assert declined.status_code == 200 and declined.json["state"] == "declined"
    late = client.post(f"{API}/{goal_id}/consent", headers=token_headers(max_))
    assert late.status_code == 422 and problem_type(late) == "invalid-input"
    assert probe.completed == []


def test_only_a_party_reads_or_decides_a_goal(app, client, db, pair, outsider):
    goal_id = goal_of(db, pair)
    token = token_headers(outsider)
    for response in (
        client.get(f"{API}/{goal_id}", headers=token),
        client.post(f"{API}/{goal_id}/consent", headers=token),
        client.post(f"{API}/{goal_id}/decline", headers=token),
    ):
        assert response.status_code == 403 and problem_type(response) == "forbidden"
    missing = client.get(f"{API}/{goal_id + 100}", headers=token)
    assert missing.status_code == 404 and problem_type(missing) == "not-found"
    assert client.get(API, headers=token).json["items"] == []
    decided = select(GoalParty.decision).where(GoalParty.goal_id == goal_id)
    assert stored(app, decided) == "pending"


def test_a_read_only_token_cannot_consent(app, client, db, pair):
    goal_id = goal_of(db, pair)
    refused = client.post(f"{API}/{goal_id}/consent", headers=token_headers(pair[0], "read"))
    assert refused.status_code == 403 and problem_type(refused) == "insufficient-scope"


def test_both_parties_consenting_at_once_complete_it_once(app, db, probe, pair):
    goal_id = goal_of(db, pair)
    headers = [token_headers(party) for party in pair]

    def consent(party: int):
        return lambda: app.test_client().post(f"{API}/{goal_id}/consent", headers=headers[party])

    outcomes = race(app, consent(0), consent(1))

    assert [response.status_code for _, response in outcomes] == [200, 200]
    assert probe.completed == [goal_id]
    assert stored(app, select(Goal.completed_at).where(Goal.id == goal_id)) is not None
