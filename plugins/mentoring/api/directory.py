"""The mentor directory and the caller's suggestions."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from flask_login import current_user

from core.api import InvalidInput, NotAllowed, PageField
from plugins.mentoring.api import bp
from plugins.mentoring.choices import looks_for_mentor
from plugins.mentoring.services import directory, fields, suggestions


class DirectoryArguments(ma.Schema):
    """The directory's filters, as on its page."""

    q = ma.fields.String(load_default="", metadata={"description": "Words in a name, bio, topic."})
    topic = ma.fields.String(load_default="", metadata={"description": "An expertise topic."})
    language = ma.fields.String(load_default="", metadata={"description": "An ISO 639-1 code."})
    field = ma.fields.String(
        load_default="", metadata={"description": "A field of study's code (a broad one: all)."}
    )
    free = ma.fields.Boolean(
        load_default=False, metadata={"description": "Only mentors with room for a mentee."}
    )
    # as the page's ?page=: beyond 2**31 the offset would overflow the database's integers
    page = PageField()


class MentorSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(required=True)
    has_room = ma.fields.Boolean(required=True, metadata={"description": "Takes a mentee now."})
    expertise = ma.fields.List(ma.fields.String(), required=True)
    languages = ma.fields.List(ma.fields.String(), required=True)
    fields_of_study = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Their names, as mentor."}
    )


class DirectoryPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MentorSchema), required=True)
    next_page = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "null on the last page."}
    )


@bp.get("/mentors")
@bp.arguments(DirectoryArguments, location="query")
@bp.response(200, DirectoryPageSchema)
def mentors(arguments: dict[str, Any]) -> dict[str, Any]:
    """The mentor directory: those with room first, then by name, a page at a time (by
    number: the order is the page's, not the newest first)."""
    field = fields.fields_of_study().by_code.get(arguments["field"])
    if arguments["field"] and field is None:  # the page ignores it, saying so
        raise InvalidInput(_("There is no such field of study."))
    found = directory.search_mentors(
        text=arguments["q"],
        topic=arguments["topic"],
        language=arguments["language"],
        field=arguments["field"],
        with_room=arguments["free"],
        page=arguments["page"],
    )
    lists = directory.lists_of(found)
    items = [
        {
            "id": mentor.id,
            "display_name": mentor.display_name,
            "has_room": has_room,
            "expertise": lists.expertise.get(mentor.id, []),
            "languages": lists.languages.get(mentor.id, []),
            "fields_of_study": lists.fields.get(mentor.id, []),
        }
        for mentor, has_room in found.mentors
    ]
    return {"items": items, "next_page": found.page + 1 if found.has_more else None}


class SuggestionSchema(ma.Schema):
    mentor_id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(required=True)
    reasons = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Why, in words."}
    )


class SuggestionsSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SuggestionSchema), required=True)
    has_interests = ma.fields.Boolean(
        required=True, metadata={"description": "false: add interests to the profile first."}
    )


@bp.get("/suggestions")
@bp.response(200, SuggestionsSchema)
def suggested() -> dict[str, Any]:
    """The mentors suggested to the caller, best first, with the reasons (for a member looking
    for a mentor, as on their pages)."""
    if not looks_for_mentor(current_user):
        raise NotAllowed(_("Suggestions are for members looking for a mentor."))
    found = suggestions.suggestions_for(current_user)
    items = [
        {
            "mentor_id": one.mentor.id,
            "display_name": one.mentor.display_name,
            "reasons": one.reasons,
        }
        for one in found.shown
    ]
    return {"items": items, "has_interests": found.has_interests}
