"""Goals that count only once every party consented.

The rule "completed exactly once, when the last party consents" must hold when two parties
consent at the same instant: consenting locks the goal's row first (on SQLite, units of work
that write take the database's write lock up front, see core/db.py), and completion is a
conditional UPDATE that only one transaction can win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import CompoundSelect, Select, func, select, union_all, update
from sqlalchemy.exc import IntegrityError

from core.db import db, rows_changed, utcnow
from core.errors import InvalidInput, NotAllowed, NotFound
from core.models import Goal, GoalParty, User
from core.state import alma, hooks


def goal_label(kind: str) -> str:
    declared = alma().goal_kinds.get(kind)
    return str(declared.label) if declared else kind


def goal_facts(goal: Goal) -> list[tuple[str, str]]:
    """What the plugin owning the goal's kind says about it (see ``GoalKind.describe``)."""
    declared = alma().goal_kinds.get(goal.kind)
    if declared is None or declared.describe is None:
        return []
    return [(str(label), str(value)) for label, value in declared.describe(goal)]


def propose_goal(
    kind: str,
    title: str,
    parties: Sequence[User],
    *,
    subject: str | None = None,
    key: str | None = None,
    url: str | None = None,
) -> Goal:
    """Create a goal that each of ``parties`` must consent to. With a ``key``, proposing the
    same goal again returns the first one."""
    if kind not in alma().goal_kinds:
        raise ValueError(f"unknown goal kind {kind!r}: declare it in register_goal_kinds")
    party_ids = {user.id for user in parties}
    if not party_ids:
        raise ValueError("a goal needs at least one party")
    if key:
        existing = db.session.scalar(select(Goal).where(Goal.key == key))
        if existing:
            return existing
    goal = Goal(kind=kind, title=title, subject=subject, key=key, url=url)
    goal.parties = [GoalParty(user_id=user_id) for user_id in sorted(party_ids)]
    try:
        with db.session.begin_nested():
            db.session.add(goal)
    except IntegrityError:
        existing = db.session.scalar(select(Goal).where(Goal.key == key)) if key else None
        if existing:  # proposed by a concurrent transaction in the meantime
            return existing
        raise
    return goal


def consent_to_goal(goal_id: int, user: User) -> Goal:
    """Record ``user``'s consent; the last consent completes the goal and fires
    ``goal_completed`` once. Consenting twice changes nothing."""
    goal = _locked_open_goal(goal_id, user)
    db.session.execute(
        update(GoalParty)
        .where(
            GoalParty.goal_id == goal.id,
            GoalParty.user_id == user.id,
            GoalParty.decision == "pending",
        )
        .values(decision="consented", decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if _parties_not_consented(goal.id) == 0 and _mark_completed(goal.id):
        db.session.refresh(goal)
        for party in goal.parties:
            db.session.refresh(party)
        hooks().goal_completed(goal)
    else:
        db.session.refresh(goal)
    return goal


def decline_goal(goal_id: int, user: User) -> Goal:
    """A party refuses: the goal is closed as declined, can no longer complete, and
    ``goal_declined`` fires."""
    goal = _locked_open_goal(goal_id, user)
    now = utcnow()
    db.session.execute(
        update(GoalParty)
        .where(GoalParty.goal_id == goal.id, GoalParty.user_id == user.id)
        .values(decision="declined", decided_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Goal)
        .where(Goal.id == goal.id, Goal.completed_at.is_(None))
        .values(declined_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(goal)
    for party in goal.parties:
        db.session.refresh(party)
    hooks().goal_declined(goal)
    return goal


@dataclass(frozen=True)
class GoalsOf:
    completed: list[Goal]  # the latest, newest first
    awaiting: list[Goal]  # open and waiting for the member's consent, oldest first


def goals_of(user: User, *, awaiting: bool = True, limit: int = 20) -> GoalsOf:
    """The member's ``limit`` latest completed goals and, with ``awaiting``, the open goals
    waiting for their consent, in one query."""
    completed = (
        select(Goal.id)
        .join(GoalParty)
        .where(GoalParty.user_id == user.id, Goal.completed_at.is_not(None))
        .order_by(Goal.completed_at.desc(), Goal.id.desc())
        .limit(limit)
        .subquery()  # a LIMIT inside a UNION needs one (SQLite)
    )
    shown: Select[tuple[int]] | CompoundSelect[tuple[int]] = select(completed.c.id)
    if awaiting:
        # a UNION, not an OR of two INs: that would scan every goal of the community
        shown = union_all(
            shown,
            select(Goal.id)
            .join(GoalParty)
            .where(
                GoalParty.user_id == user.id,
                GoalParty.decision == "pending",
                Goal.completed_at.is_(None),
                Goal.declined_at.is_(None),
            ),
        )
    goals = db.session.scalars(select(Goal).where(Goal.id.in_(shown))).all()
    return GoalsOf(
        completed=sorted(
            (goal for goal in goals if goal.completed_at),
            key=lambda goal: (goal.completed_at, goal.id),
            reverse=True,
        ),
        awaiting=sorted(
            (goal for goal in goals if not goal.completed_at),
            key=lambda goal: (goal.created_at, goal.id),
        ),
    )


def goals_shared_with(goals: Sequence[Goal], viewer: User) -> set[int]:
    """The ids of those of ``goals`` that ``viewer`` is a party to: only they see such a
    goal's title (it may name who mentored whom); others see its kind."""
    return set(
        db.session.scalars(
            select(GoalParty.goal_id).where(
                GoalParty.user_id == viewer.id,
                GoalParty.goal_id.in_([goal.id for goal in goals]),
            )
        )
    )


def goal_for(goal_id: int, user: User, *, lock: bool = False) -> Goal:
    """The goal, if ``user`` is one of its parties (404 if none, 403 if not theirs); ``lock``
    holds it for a decision."""
    query = select(Goal).where(Goal.id == goal_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    goal = db.session.scalar(query)
    if goal is None:
        raise NotFound(_("This goal does not exist."))
    if goal.party(user) is None:
        raise NotAllowed(_("You are not a party to this goal."))
    return goal


def _locked_open_goal(goal_id: int, user: User) -> Goal:
    goal = goal_for(goal_id, user, lock=True)
    if goal.completed_at is not None:
        raise InvalidInput(_("This goal is already completed."))
    if goal.declined_at is not None:
        raise InvalidInput(_("This goal was declined."))
    return goal


def _parties_not_consented(goal_id: int) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(GoalParty)
        .where(GoalParty.goal_id == goal_id, GoalParty.decision != "consented")
    ).scalar_one()


def _mark_completed(goal_id: int) -> bool:
    completed = rows_changed(
        update(Goal)
        .where(Goal.id == goal_id, Goal.completed_at.is_(None), Goal.declined_at.is_(None))
        .values(completed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return completed == 1
