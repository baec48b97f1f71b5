"""The caller's mentorships, from the request to the answer."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from core.api import (
    IdField,
    NotFound,
    PageArguments,
    User,
    cursor_page,
    db,
    next_link,
    page_schema,
)
from plugins.mentoring.api import bp
from plugins.mentoring.models import DECLINE_REASONS, Mentorship
from plugins.mentoring.services import lifecycle


class MentorshipSchema(ma.Schema):
    """A mentorship as its party sees it."""

    id = ma.fields.Integer(required=True)
    state = ma.fields.String(
        required=True,
        metadata={
            "description": "requested, accepted, declined, withdrawn, expired, proposed, "
            "active, completed or terminated."
        },
    )
    role = ma.fields.String(required=True, metadata={"description": "mentee or mentor: yours."})
    other_id = ma.fields.Integer(required=True, metadata={"description": "The other party."})
    other_name = ma.fields.String(required=True)
    message = ma.fields.String(required=True, metadata={"description": "The request's."})
    topics = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    state_changed_at = ma.fields.AwareDateTime(required=True)

    @ma.pre_dump
    def as_party(self, mentorship: Mentorship, **_: Any) -> dict[str, Any]:
        other = mentorship.other_party(current_user)
        return {
            "id": mentorship.id,
            "state": mentorship.state,
            "role": mentorship.party_role(current_user),
            "other_id": other.id,
            "other_name": other.display_name,
            "message": mentorship.message,
            "topics": mentorship.topics,
            "created_at": mentorship.created_at,
            "state_changed_at": mentorship.state_changed_at,
        }


class RequestSchema(ma.Schema):
    mentor_id = IdField(required=True)
    message = ma.fields.String(
        required=True, metadata={"description": "What the mentee hopes for; up to 2000."}
    )
    topics = ma.fields.String(load_default="", metadata={"description": "Comma-separated."})


class DeclineSchema(ma.Schema):
    reason = ma.fields.String(
        required=True, metadata={"description": "One of: " + ", ".join(DECLINE_REASONS)}
    )
    message = ma.fields.String(required=True, metadata={"description": "To the mentee."})


@bp.get("/mentorships")
@bp.arguments(PageArguments, location="query")
@bp.response(200, page_schema(MentorshipSchema))
def mentorships(arguments: dict[str, Any]) -> Any:
    """The caller's mentorships and requests, as mentee or mentor, newest first."""
    mine = (
        select(Mentorship)
        .where(
            or_(Mentorship.mentee_id == current_user.id, Mentorship.mentor_id == current_user.id)
        )
        .options(joinedload(Mentorship.mentee), joinedload(Mentorship.mentor))
    )
    page = cursor_page(mine, Mentorship.id, arguments)
    return page, 200, next_link(page)


@bp.get("/mentorships/<int:mentorship_id>")
@bp.response(200, MentorshipSchema)
def mentorship(mentorship_id: int) -> Mentorship:
    """One of the caller's mentorships."""
    return lifecycle.mentorship_for(mentorship_id, current_user, parties=True)


@bp.post("/mentorships")
@bp.arguments(RequestSchema)
@bp.response(201, MentorshipSchema)
def ask(request: dict[str, Any]) -> Mentorship:
    """Ask a mentor to mentor the caller, as the request page does."""
    mentor: User | None = lifecycle.mentor_to_ask(request["mentor_id"])
    if mentor is None:
        raise NotFound(_("This member does not offer mentoring."))
    lifecycle.REQUESTS.hit()
    asked = lifecycle.send_request(current_user, mentor, request["message"], request["topics"])
    db.session.commit()
    return asked


@bp.post("/mentorships/<int:mentorship_id>/accept")
@bp.response(200, MentorshipSchema)
def accept(mentorship_id: int) -> Mentorship:
    """The mentor accepts a request."""
    accepted = lifecycle.accept_request(mentorship_id, current_user)
    db.session.commit()
    return accepted


@bp.post("/mentorships/<int:mentorship_id>/decline")
@bp.arguments(DeclineSchema)
@bp.response(200, MentorshipSchema)
def decline(answer: dict[str, Any], mentorship_id: int) -> Mentorship:
    """The mentor declines a request, with a reason and a message the mentee reads."""
    declined = lifecycle.decline_request(
        mentorship_id, current_user, answer["reason"], answer["message"]
    )
    db.session.commit()
    return declined


@bp.post("/mentorships/<int:mentorship_id>/withdraw")
@bp.response(200, MentorshipSchema)
def withdraw(mentorship_id: int) -> Mentorship:
    """The mentee withdraws their request."""
    withdrawn = lifecycle.withdraw_request(mentorship_id, current_user)
    db.session.commit()
    return withdrawn
