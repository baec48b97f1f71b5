"""A mentorship's agreement: reading it, its versions and their comparison, proposing a version
(the mentee's first agreement, then either party's amendment) and answering one, through the
same services as the agreement's pages. Both parties change it, so every change sends back
the ``ETag`` read (it names the newest version) in ``If-Match``: an approval never approves a
version its sender did not read, and an amendment never ignores one made meanwhile."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.api import (
    ETAG_HEADER,
    IdField,
    InvalidInput,
    PageArguments,
    allowed_actions,
    changed_meanwhile,
    cursor_page,
    db,
    entity_tag,
    next_link,
    page_schema,
    versions_in_if_match,
)
from plugins.mentoring.api import bp
from plugins.mentoring.models import AgreementVersion, Mentorship
from plugins.mentoring.services import agreements, lifecycle

KIND = "agreement"  # its ETag: "agreement-<mentorship id>-r<newest version's number>"
PROPOSING = ("propose_agreement", "propose_amendment")


class AgreementVersionSchema(ma.Schema):
    """One version of the agreement, as it was proposed, with the answer it got."""

    number = ma.fields.Integer(required=True, metadata={"description": "1, 2, … per mentorship."})
    status = ma.fields.String(
        required=True,
        metadata={
            "description": "proposed (awaits the other party's answer), approved, returned "
            "(the first agreement, sent back), rejected (an amendment) or ended (unanswered when "
            "the mentorship ended)."
        },
    )
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)
    meetings_planned = ma.fields.Integer(required=True)
    channels = ma.fields.String(
        required=True, metadata={"description": "How the pair keeps in touch."}
    )
    contact_every_days = ma.fields.Integer(required=True)
    agenda = ma.fields.String(required=True)
    notes = ma.fields.String(required=True)
    reason = ma.fields.String(required=True, metadata={"description": "Why it was amended."})
    proposed_by_id = ma.fields.Integer(required=True)
    proposed_by_name = ma.fields.Function(lambda version: version.proposed_by.display_name)
    proposed_at = ma.fields.AwareDateTime(required=True)
    decided_by_id = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "Who approved or answered it."}
    )
    decided_by_name = ma.fields.Function(
        lambda version: version.decided_by.display_name if version.decided_by else None,
        allow_none=True,
    )
    decided_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    comment = ma.fields.String(
        required=True, metadata={"description": "The answer's, if sent back."}
    )
    by_staff = ma.fields.Boolean(
        required=True,
        metadata={"description": "The programme's staff extended it: in force at once."},
    )
    withdrawn = ma.fields.Boolean(
        required=True,
        metadata={"description": "Taken back by its proposer with the meeting that needed it."},
    )


class AgreementSchema(ma.Schema):
    """The agreement as its page shows it: the version in force and the one awaiting an
    answer, and what the caller may do now."""

    mentorship_id = ma.fields.Integer(required=True)
    version = ma.fields.Integer(
        required=True,
        metadata={"description": "The newest version's number (0: none yet); the ETag names it."},
    )
    in_force = ma.fields.Nested(AgreementVersionSchema, allow_none=True, required=True)
    awaiting = ma.fields.Nested(
        AgreementVersionSchema,
        allow_none=True,
        required=True,
        metadata={"description": "The version proposed and not answered yet."},
    )
    awaiting_meeting_id = ma.fields.Integer(
        allow_none=True,
        required=True,
        metadata={
            "description": "The meeting that needs the awaited amendment: answering the "
            "meeting answers it."
        },
    )
    actions = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={
            "description": "What the caller may do now: propose_agreement, "
            "propose_amendment, approve, send_back."
        },
    )


class AgreementTermsSchema(ma.Schema):
    """A version to propose: the first agreement (the mentee's), or an amendment with its
    reason once one is in force."""

    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)
    meetings_planned = ma.fields.Integer(required=True, metadata={"description": "1 to 100."})
    channels = ma.fields.String(
        required=True, metadata={"description": "How you keep in touch; up to 200 characters."}
    )
    contact_every_days = ma.fields.Integer(required=True, metadata={"description": "1 to 90."})
    agenda = ma.fields.String(load_default="")
    notes = ma.fields.String(load_default="")
    reason = ma.fields.String(
        load_default="", metadata={"description": "Why you propose an amendment (needed then)."}
    )


class AgreementCommentSchema(ma.Schema):
    comment = ma.fields.String(
        required=True, metadata={"description": "What should change: the proposer reads it."}
    )


class AgreementCompareArguments(ma.Schema):
    a = IdField(
        strict=False,
        metadata={"description": "The older version's number (default: the second newest)."},
    )
    b = IdField(
        strict=False, metadata={"description": "The newer version's number (default: the newest)."}
    )


class AgreementChangeSchema(ma.Schema):
    term = ma.fields.String(required=True, metadata={"description": "starts_on, ends_on, …"})
    label = ma.fields.String(required=True, metadata={"description": "Its name, for people."})
    old = ma.fields.Function(lambda change: _plain(change.old), required=True)
    new = ma.fields.Function(lambda change: _plain(change.new), required=True)
    changed = ma.fields.Boolean(required=True)


class AgreementComparisonSchema(ma.Schema):
    old = ma.fields.Nested(AgreementVersionSchema, required=True)
    new = ma.fields.Nested(AgreementVersionSchema, required=True)
    changes = ma.fields.List(ma.fields.Nested(AgreementChangeSchema), required=True)


@bp.get("/mentorships/<int:mentorship_id>/agreement")
@bp.response(200, AgreementSchema, headers=ETAG_HEADER)
def agreement(mentorship_id: int) -> Any:
    """The agreement in force and the version awaiting an answer; the ``ETag`` names its
    newest version, for ``If-Match`` on a change."""
    mentorship = lifecycle.mentorship_for(mentorship_id, current_user)
    return _with_etag(_answer(mentorship), 200)


@bp.get("/mentorships/<int:mentorship_id>/agreement/versions")
@bp.arguments(PageArguments, location="query")
@bp.response(200, page_schema(AgreementVersionSchema))
def versions(arguments: dict[str, Any], mentorship_id: int) -> Any:
    """Every version of the agreement, newest first, with who proposed and who answered it."""
    mentorship = lifecycle.mentorship_for(mentorship_id, current_user)
    query = (
        select(AgreementVersion)
        .where(AgreementVersion.mentorship_id == mentorship.id)
        .options(joinedload(AgreementVersion.proposed_by), joinedload(AgreementVersion.decided_by))
    )
    page = cursor_page(query, AgreementVersion.id, arguments)
    return page, 200, next_link(page)


@bp.get("/mentorships/<int:mentorship_id>/agreement/versions/<int:number>")
@bp.response(200, AgreementVersionSchema)
def version(mentorship_id: int, number: int) -> AgreementVersion:
    """One version, as it was proposed, with the answer it got."""
    return agreements.version_numbered(mentorship_id, current_user, number)


@bp.get("/mentorships/<int:mentorship_id>/agreement/compare")
@bp.arguments(AgreementCompareArguments, location="query")
@bp.response(200, AgreementComparisonSchema)
def compare(arguments: dict[str, Any], mentorship_id: int) -> dict[str, Any]:
    """Two versions term by term (by default the two newest); with a single version there is
    nothing to compare (422)."""
    mentorship = lifecycle.mentorship_for(mentorship_id, current_user)
    old, new = agreements.versions_compared(
        mentorship,
        current_user,
        agreements.versions_of(mentorship),
        arguments.get("a"),
        arguments.get("b"),
    )
    return {"old": old, "new": new, "changes": agreements.compare(old, new)}


@bp.post("/mentorships/<int:mentorship_id>/agreement")
@bp.arguments(AgreementTermsSchema)
@bp.response(201, AgreementSchema, headers=ETAG_HEADER)
@bp.needs_if_match()
def propose(terms: dict[str, Any], mentorship_id: int) -> Any:
    """Propose a version, as the agreement's form does: the mentee's first agreement (again,
    edited, after it came back), or, once one is in force, either party's amendment with its
    ``reason``. The other party is asked to answer it."""
    mentorship = _read_as_sent(mentorship_id)
    reason = terms.pop("reason")
    agreements.propose(mentorship, current_user, agreements.Terms.entered(**terms), reason)
    return _changed(mentorship, 201)


@bp.post("/mentorships/<int:mentorship_id>/agreement/approve")
@bp.response(200, AgreementSchema, headers=ETAG_HEADER)
@bp.needs_if_match()
def approve(mentorship_id: int) -> Any:
    """The other party approves the version awaiting an answer; approving the first agreement
    is the mentorship's official start."""
    mentorship = _read_as_sent(mentorship_id)
    agreements.approve(_answered(mentorship).id, current_user)
    return _changed(mentorship, 200)


@bp.post("/mentorships/<int:mentorship_id>/agreement/send-back")
@bp.arguments(AgreementCommentSchema)
@bp.response(200, AgreementSchema, headers=ETAG_HEADER)
@bp.needs_if_match()
def send_back(answer: dict[str, Any], mentorship_id: int) -> Any:
    """The other party sends the first agreement back, or rejects an amendment, with a
    comment the proposer reads."""
    mentorship = _read_as_sent(mentorship_id)
    agreements.send_back(_answered(mentorship).id, current_user, answer["comment"])
    return _changed(mentorship, 200)


def _read_as_sent(mentorship_id: int) -> Mentorship:
    """The caller's mentorship, locked for the change, once ``If-Match`` names the newest
    version of its agreement: under the lock, so that of two changes sent on the same version
    at once, the second is refused as stale (412), not applied to what it never read."""
    mentorship = lifecycle.mentorship_for(mentorship_id, current_user, lock=True)
    read = versions_in_if_match(KIND, mentorship.id)
    current = _answer(mentorship)
    if current["version"] not in read:
        raise changed_meanwhile(
            _("The agreement changed since you read it: read it again, then decide."),
            _etag(current),
            AgreementSchema().dump(current),
        )
    return mentorship


def _answered(mentorship: Mentorship) -> AgreementVersion:
    """The version an answer answers: the newest, the one the caller read (the services
    refuse it if it is answered already, or the mentorship has ended)."""
    newest = agreements.last_version(mentorship)
    if newest is None:
        raise InvalidInput(_("No version of the agreement awaits an answer."))
    return newest


def _changed(mentorship: Mentorship, status: int) -> Any:
    db.session.commit()
    return _with_etag(_answer(mentorship), status)


def _with_etag(answer: dict[str, Any], status: int) -> Any:
    """``answer`` with the ``ETag`` of the version it shows: built from the answer itself,
    not read again, so that an extension the staff commit meanwhile never gets a tag on a
    body that does not show it (an amendment built on that body would pass ``If-Match``)."""
    return answer, status, {"ETag": _etag(answer)}


def _answer(mentorship: Mentorship) -> dict[str, Any]:
    """The agreement as the caller reads it, from one query: on PostgreSQL each query sees
    what was committed before it, and the version in force, the one awaiting an answer and
    the newest number (the ETag's) must all come from the same moment."""
    versions = agreements.versions_of(mentorship)
    current = agreements.current_agreement_of(versions)
    awaiting = current.awaiting
    actions = [step for step in allowed_actions(mentorship, current_user) if step in PROPOSING]
    if awaiting is not None:
        actions += list(allowed_actions(awaiting, current_user))
    return {
        "mentorship_id": mentorship.id,
        "version": versions[-1].number if versions else 0,
        "in_force": current.in_force,
        "awaiting": awaiting,
        "awaiting_meeting_id": agreements.meeting_asking_for(awaiting) if awaiting else None,
        "actions": actions,
    }


def _etag(answer: dict[str, Any]) -> str:
    return entity_tag(KIND, answer["mentorship_id"], answer["version"])


def _plain(term: object) -> object:
    """A term's value as JSON writes it: a date as ``2026-06-01``."""
    return term.isoformat() if isinstance(term, date) else term
