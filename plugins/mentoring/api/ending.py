"""Ending a mentorship, as its page does: before the agreement either party ends it with a
message; once the agreement is approved, ending early needs both, so one proposes and the
other agrees or refuses (the proposer may take it back)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_login import current_user

from core.api import NotFound, allowed_actions, db
from plugins.mentoring.api import bp
from plugins.mentoring.api.mentorships import MentorshipSchema
from plugins.mentoring.models import EndProposal, Mentorship
from plugins.mentoring.services import ending, lifecycle


class EndingMessageSchema(ma.Schema):
    message = ma.fields.String(
        required=True,
        metadata={"description": "Why, in a few words: the other party reads it; up to 2000."},
    )


class EarlyEndSchema(ma.Schema):
    """A proposal to end an active mentorship early, awaiting the other party's answer."""

    proposed_by_id = ma.fields.Integer(required=True)
    proposed_by_name = ma.fields.Function(lambda proposal: proposal.proposed_by.display_name)
    message = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    actions = ma.fields.Function(
        lambda proposal: list(allowed_actions(proposal, current_user)),
        required=True,
        metadata={"description": "What the caller may answer now: agree, refuse, withdraw."},
    )


@bp.post("/mentorships/<int:mentorship_id>/terminate")
@bp.arguments(EndingMessageSchema)
@bp.response(200, MentorshipSchema)
def terminate(said: dict[str, Any], mentorship_id: int) -> Mentorship:
    """Either party ends the mentorship before the agreement is approved (afterwards, propose
    an early end)."""
    ended = ending.terminate(mentorship_id, current_user, said["message"])
    db.session.commit()
    return ended


@bp.get("/mentorships/<int:mentorship_id>/early-end")
@bp.response(200, EarlyEndSchema)
def early_end(mentorship_id: int) -> EndProposal:
    """The proposal to end the mentorship early, while one awaits an answer (404 otherwise)."""
    mentorship = lifecycle.mentorship_for(mentorship_id, current_user)
    proposal = ending.early_end_proposal(mentorship)
    if proposal is None:
        raise NotFound(str(ending.NOBODY_PROPOSES))
    return proposal


@bp.post("/mentorships/<int:mentorship_id>/early-end")
@bp.arguments(EndingMessageSchema)
@bp.response(201, EarlyEndSchema)
def propose_early_end(said: dict[str, Any], mentorship_id: int) -> EndProposal:
    """Either party of an active mentorship proposes to end it early; it ends once the other
    agrees."""
    proposal = ending.propose_early_end(mentorship_id, current_user, said["message"])
    db.session.commit()
    return proposal


@bp.post("/mentorships/<int:mentorship_id>/early-end/agree")
@bp.response(200, MentorshipSchema)
def agree_to_end_early(mentorship_id: int) -> Mentorship:
    """The other party agrees: the mentorship ends, early (it does not count as finished)."""
    return _answer(mentorship_id, "agree")


@bp.post("/mentorships/<int:mentorship_id>/early-end/refuse")
@bp.response(200, MentorshipSchema)
def refuse_to_end_early(mentorship_id: int) -> Mentorship:
    """The other party refuses: the mentorship goes on."""
    return _answer(mentorship_id, "refuse")


@bp.post("/mentorships/<int:mentorship_id>/early-end/withdraw")
@bp.response(200, MentorshipSchema)
def withdraw_early_end(mentorship_id: int) -> Mentorship:
    """The proposer takes the proposal back: the mentorship goes on."""
    return _answer(mentorship_id, "withdraw")


def _answer(mentorship_id: int, answer: str) -> Mentorship:
    answered = ending.answer_early_end(mentorship_id, current_user, answer)
    db.session.commit()
    return answered
