"""The member in the API: oneself (``/me``: read, change the profile) and another member's
public profile (``/members/<id>``), as the profile pages show them."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask_login import current_user

from core.db import db
from core.models import User
from core.services import profiles
from core.webapi import ApiBlueprint

bp = ApiBlueprint("members", __name__, url_prefix="", description="Members and their profiles.")


class MemberSchema(ma.Schema):
    """A member's public profile."""

    id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(required=True)
    bio = ma.fields.String(required=True)
    expertise = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Topics they know about."}
    )
    interests = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Topics they want to learn."}
    )
    languages = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "ISO 639-1 codes."}
    )
    photo_url = ma.fields.String(allow_none=True, required=True)
    hidden = ma.fields.Boolean(
        required=True,
        metadata={"description": "The moderators hid the bio and photo: both are left out."},
    )

    @ma.pre_dump
    def read_member(self, member: User, **_: Any) -> dict[str, Any]:
        return _fields_of(member, shown_to_others=True)


class OwnProfileSchema(MemberSchema):
    """The member's own profile: their public profile and what only they see."""

    email = ma.fields.String(required=True)
    timezone = ma.fields.String(required=True)
    locale = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "null: the browser's."}
    )

    @ma.pre_dump
    def read_member(self, member: User, **_: Any) -> dict[str, Any]:
        return _fields_of(member, shown_to_others=False) | {
            "email": member.email,
            "timezone": member.timezone,
            "locale": member.locale,
        }


class ProfileChangeSchema(ma.Schema):
    """What to change of the profile; what is left out stays as it is."""

    display_name = ma.fields.String()
    bio = ma.fields.String()
    timezone = ma.fields.String(metadata={"description": "An IANA time zone."})
    locale = ma.fields.String(allow_none=True)
    expertise = ma.fields.List(ma.fields.String())
    interests = ma.fields.List(ma.fields.String())
    languages = ma.fields.List(ma.fields.String())


@bp.get("/me")
@bp.response(200, OwnProfileSchema)
def me() -> User:
    """The member calling."""
    member: User = current_user._get_current_object()
    return member


@bp.patch("/me")
@bp.arguments(ProfileChangeSchema)
@bp.response(200, OwnProfileSchema)
def change_me(change: dict[str, Any]) -> User:
    """Change the member's profile, by the rules of the profile form."""
    member: User = current_user._get_current_object()
    topics = {
        kind: profiles.split_topics(", ".join(change[kind]))
        for kind in ("expertise", "interests")
        if kind in change
    }
    profiles.update_profile(
        member,
        display_name=change.get("display_name", member.display_name),
        bio=change.get("bio", member.bio),
        timezone=change.get("timezone", member.timezone),
        locale=change.get("locale", member.locale),
        expertise=topics.get("expertise", member.topic_names("expertise")),
        interests=topics.get("interests", member.topic_names("interest")),
        languages=change.get("languages", member.language_codes),
    )
    db.session.commit()
    return member


@bp.get("/members/<int:member_id>")
@bp.response(200, MemberSchema)
def member(member_id: int) -> User:
    """A member's public profile, as their profile page shows it to the caller."""
    return profiles.member_for(current_user, member_id)


def _fields_of(member: User, *, shown_to_others: bool) -> dict[str, Any]:
    """The profile's fields; what the moderators hid is left out for others, as the profile
    page leaves it out (the member still reads their own bio, as My data shows it)."""
    hidden = member.profile_hidden_at is not None
    photo = url_for("home.photo", name=member.photo, _external=True) if member.photo else None
    if hidden and shown_to_others:
        photo = None
    return {
        "id": member.id,
        "display_name": member.display_name,
        "bio": "" if hidden and shown_to_others else member.bio,
        "hidden": hidden,
        "expertise": member.topic_names("expertise"),
        "interests": member.topic_names("interest"),
        "languages": member.language_codes,
        "photo_url": photo,
    }
