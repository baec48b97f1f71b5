"""The credits plugin's tests run with it and a throwaway plugin, "probe", that declares
activity and goal kinds, so they depend on no other plugin. As for any plugin outside alma,
what the probe's kinds earn is the operator's ``rules`` (PROBE_RULES):

    probe.wrote    activity  "Wrote an article"       10
    probe.rated    activity  "Rated an article"        2
    probe.greeted  activity  "Greeted a newcomer"      (no rule: nothing)
    probe.met      goal      "Attended a meeting"     20
    probe.finished goal      "Finished a mentorship"  50

A test changes ``[plugins.credits]`` with ``@pytest.mark.parametrize("credits_config",
[{...}])`` (its ``rules``, if any, replace PROBE_RULES), and other plugins with
``@pytest.mark.plugins(...)``."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import func, select

from core import hookimpl
from core.contributions import ActivityKind, GoalKind
from core.models import Activity, User
from core.services.activities import record_activity, undo_activity
from core.services.goals import consent_to_goal, propose_goal

PROBE_RULES = {"probe.wrote": 10, "probe.rated": 2, "probe.met": 20, "probe.finished": 50}


class KindsProbe:
    @hookimpl
    def register_activity_kinds(self) -> list[ActivityKind]:
        return [
            ActivityKind("probe.wrote", "Wrote an article"),
            ActivityKind("probe.rated", "Rated an article"),
            ActivityKind("probe.greeted", "Greeted a newcomer"),
        ]

    @hookimpl
    def register_goal_kinds(self) -> list[GoalKind]:
        return [
            GoalKind("probe.met", "Attended a meeting"),
            GoalKind("probe.finished", "Finished a mentorship"),
        ]


@pytest.fixture
def alma_plugins(request) -> list[str]:
    marker = request.node.get_closest_marker("plugins")
    return list(marker.args) if marker else ["probe", "credits"]


@pytest.fixture
def credits_config() -> dict[str, Any]:
    return {}


@pytest.fixture
def start(make_app, alma_plugins):
    """``start({...})``: alma with the probe plugin installed and this ``[plugins.credits]``,
    with PROBE_RULES as its rules when the probe is enabled and it gives none."""
    probe_rules = {"rules": PROBE_RULES} if "probe" in alma_plugins else {}
    return lambda config: make_app(
        extra_plugins={"probe": KindsProbe()}, PLUGIN_SETTINGS={"credits": probe_rules | config}
    )


@pytest.fixture
def app(start, credits_config):
    return start(credits_config)


class Credits:
    """Earning credits through core's real services, each in a committed unit of work, and
    reading the ledger back."""

    def __init__(self, db) -> None:
        self.db = db
        self.subjects = itertools.count(1)

    def do(self, member: User, kind: str = "probe.wrote", url: str | None = None) -> Activity:
        number = next(self.subjects)
        activity = record_activity(
            kind, member, subject=f"article:{number}", url=url or f"/probe/articles/{number}"
        )
        self.db.session.commit()
        return activity

    def undo(self, activity: Activity) -> Activity | None:
        undone = undo_activity(activity.key)
        self.db.session.commit()
        return undone

    def goal(self, parties: list[User], kind: str = "probe.met", title: str = "First meeting"):
        goal = propose_goal(kind, title, parties, url=f"/probe/goals/{next(self.subjects)}")
        for party in parties:
            consent_to_goal(goal.id, party)
        self.db.session.commit()
        return goal

    def entries(self, member: User) -> list[tuple[str, str, int, int | None]]:
        """(entry kind, activity or goal kind, points, capped_from), newest first."""
        from plugins.credits.models import CreditEntry

        self.db.session.commit()
        rows = self.db.session.execute(
            select(
                CreditEntry.entry_kind,
                CreditEntry.kind,
                CreditEntry.points,
                CreditEntry.capped_from,
            )
            .where(CreditEntry.user_id == member.id)
            .order_by(CreditEntry.created_at.desc(), CreditEntry.id.desc())
        )
        return [tuple(row) for row in rows]

    def total(self, member: User) -> int:
        from plugins.credits.models import CreditBalance

        self.db.session.commit()
        return (
            self.db.session.scalar(
                select(CreditBalance.total).where(CreditBalance.user_id == member.id)
            )
            or 0
        )

    def balances_and_ledger_sums(self) -> tuple[dict[int, int], dict[int, int]]:
        """Every member's balance, and their ledger's sum (both leaving out zeros)."""
        from plugins.credits.models import CreditBalance, CreditEntry

        self.db.session.commit()
        balances = self.db.session.execute(select(CreditBalance.user_id, CreditBalance.total))
        sums = self.db.session.execute(
            select(CreditEntry.user_id, func.sum(CreditEntry.points)).group_by(CreditEntry.user_id)
        )
        return (
            {user: total for user, total in balances if total},
            {user: int(total) for user, total in sums if total},
        )


@pytest.fixture
def credits(db) -> Credits:
    return Credits(db)
