"""The member's goals in the API: what they reached with others, and what awaits their
consent, which they give or refuse here as on their profile's overview. A goal counts once
every party consented; a plugin proposes it (a meeting held, a mentorship finished)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import db
from core.models import Goal, GoalParty
from core.services import goals
from core.urls import absolute_url
from core.webapi import ApiBlueprint
from core.webapi.pagination import PageArguments, cursor_page, next_link, page_schema

bp = ApiBlueprint(
    "goals", __name__, url_prefix="/goals", description="The member's goals and their consent."
)


class PartySchema(ma.Schema):
    member_id = ma.fields.Integer(required=True, attribute="user_id")
    decision = ma.fields.String(
        required=True, metadata={"description": "pending, consented or declined."}
    )


class FactSchema(ma.Schema):
    label = ma.fields.String(required=True)
    value = ma.fields.String(required=True)


class GoalSchema(ma.Schema):
    """A goal the member is a party to."""

    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "What kind of goal."})
    kind_label = ma.fields.Function(lambda goal: goals.goal_label(goal.kind), required=True)
    title = ma.fields.String(required=True)
    url = ma.fields.Function(
        lambda goal: absolute_url(goal.url) if goal.url else None,
        allow_none=True,
        required=True,
        metadata={"description": "The page of what it is about."},
    )
    state = ma.fields.Function(
        lambda goal: (
            "completed" if goal.completed_at else "declined" if goal.declined_at else "open"
        ),
        required=True,
        metadata={"description": "open, completed or declined."},
    )
    my_decision = ma.fields.Function(
        lambda goal: goal.party(current_user).decision,
        required=True,
        metadata={"description": "pending (awaits your consent), consented or declined."},
    )
    parties = ma.fields.List(ma.fields.Nested(PartySchema), required=True)
    facts = ma.fields.Function(
        lambda goal: [{"label": label, "value": value} for label, value in goals.goal_facts(goal)],
        required=True,
        metadata={"description": "What the plugin owning its kind says about it."},
    )
    created_at = ma.fields.AwareDateTime(required=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    declined_at = ma.fields.AwareDateTime(allow_none=True, required=True)


class GoalListArguments(PageArguments):
    awaiting = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Only the open goals awaiting the member's consent."},
    )


@bp.get("")
@bp.arguments(GoalListArguments, location="query")
@bp.response(200, page_schema(GoalSchema))
def goals_of_member(arguments: dict[str, Any]) -> Any:
    """The member's goals, newest first: open, completed and declined."""
    mine = select(GoalParty.goal_id).where(GoalParty.user_id == current_user.id)
    if arguments["awaiting"]:
        mine = mine.where(GoalParty.decision == "pending")
    query = select(Goal).where(Goal.id.in_(mine)).options(selectinload(Goal.parties))
    if arguments["awaiting"]:
        query = query.where(Goal.completed_at.is_(None), Goal.declined_at.is_(None))
    page = cursor_page(query, Goal.id, arguments)
    return page, 200, next_link(page)


@bp.get("/<int:goal_id>")
@bp.response(200, GoalSchema)
def goal(goal_id: int) -> Goal:
    """One of the member's goals (403 for a goal they are no party to)."""
    return goals.goal_for(goal_id, current_user)


@bp.post("/<int:goal_id>/consent")
@bp.response(200, GoalSchema)
def consent(goal_id: int) -> Goal:
    """Agree the goal is reached: the last party's consent completes it (consenting twice
    changes nothing)."""
    consented = goals.consent_to_goal(goal_id, current_user)
    db.session.commit()
    return consented


@bp.post("/<int:goal_id>/decline")
@bp.response(200, GoalSchema)
def decline(goal_id: int) -> Goal:
    """Refuse the goal: it is closed as declined and can no longer complete."""
    declined = goals.decline_goal(goal_id, current_user)
    db.session.commit()
    return declined
