"""The caller's mentoring choices and settings (``/mentoring/me``): offering mentoring, looking
for a mentor, their fields of study, and a mentor's capacity. My data sets them on the site;
without them here, an app could not start the journey its member starts there (suggestions
are for those looking for a mentor, the directory lists those offering mentoring)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_login import current_user

from core.api import User, db
from plugins.mentoring.api import bp
from plugins.mentoring.choices import (
    LOOKS,
    OFFERS,
    choose,
    looks_for_mentor,
    mentors_as_checked,
    offers_mentoring,
)
from plugins.mentoring.services import directory, fields, verification

CODES = "Field of study codes, as `?field=` of the directory takes them."


class MentoringChoicesSchema(ma.Schema):
    """What the member chose, as My data shows it."""

    offers_mentoring = ma.fields.Boolean(required=True)
    looks_for_mentor = ma.fields.Boolean(required=True)
    fields_as_mentor = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": CODES}
    )
    fields_as_mentee = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": CODES}
    )
    verification = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The identity check of a mentor: pending, verified, rejected, or "
            "null before any (send the document on the site)."
        },
    )
    listed = ma.fields.Boolean(
        required=True,
        metadata={"description": "Others find the member as a mentor: offered and checked."},
    )
    capacity = ma.fields.Integer(required=True, metadata={"description": "Mentees at a time."})
    accepting = ma.fields.Boolean(required=True, metadata={"description": "Takes requests."})
    mentee_count = ma.fields.Integer(required=True, metadata={"description": "Mentees now."})


class MentoringChoicesChangeSchema(ma.Schema):
    """Only the choices named change."""

    offers_mentoring = ma.fields.Boolean()
    looks_for_mentor = ma.fields.Boolean()
    fields_as_mentor = ma.fields.List(ma.fields.String(), metadata={"description": CODES})
    fields_as_mentee = ma.fields.List(ma.fields.String(), metadata={"description": CODES})
    capacity = ma.fields.Integer(metadata={"description": "1 to 20, and no fewer than now."})
    accepting = ma.fields.Boolean()


@bp.get("/me")
@bp.response(200, MentoringChoicesSchema)
def my_choices() -> dict[str, Any]:
    """The caller's mentoring choices and settings."""
    return _choices_of(current_user)


@bp.patch("/me")
@bp.arguments(MentoringChoicesChangeSchema)
@bp.response(200, MentoringChoicesSchema)
def change_my_choices(change: dict[str, Any]) -> dict[str, Any]:
    """Change the choices named, as My data and the mentor settings do."""
    member: User = current_user._get_current_object()
    for name, choice in (("offers_mentoring", OFFERS), ("looks_for_mentor", LOOKS)):
        if name in change:
            choose(member, choice, change[name])
    for role in (fields.MENTOR, fields.MENTEE):
        if f"fields_as_{role}" in change:
            fields.choose_fields(member, role, change[f"fields_as_{role}"])
    if "capacity" in change or "accepting" in change:
        settings = directory.mentor_settings_of(member)
        directory.update_mentor_settings(
            member,
            capacity=change.get("capacity", settings.capacity),
            accepting=change.get("accepting", settings.accepting),
        )
    db.session.commit()
    return _choices_of(member)


def _choices_of(member: User) -> dict[str, Any]:
    settings = directory.mentor_settings_of(member)
    checked = verification.verification_of(member)
    return {
        "offers_mentoring": offers_mentoring(member),
        "looks_for_mentor": looks_for_mentor(member),
        "fields_as_mentor": fields.chosen_codes(member, fields.MENTOR),
        "fields_as_mentee": fields.chosen_codes(member, fields.MENTEE),
        "verification": checked.state if checked else None,
        "listed": mentors_as_checked(member),
        "capacity": settings.capacity,
        "accepting": settings.accepting,
        "mentee_count": settings.mentee_count,
    }
