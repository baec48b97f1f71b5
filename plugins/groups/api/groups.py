"""Groups in alma's HTTP API (``/api/v1/groups``): the directory, a group as its page shows
it, and joining an open group, through the same services as the pages."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_login import current_user

from core.api import (
    ApiBlueprint,
    PageArguments,
    absolute_url,
    cursor_page,
    db,
    next_link,
    page_schema,
)
from plugins.groups.models import Group
from plugins.groups.services import directory, membership
from plugins.groups.services.access import GroupAccess, group_for, pending_request
from plugins.groups.services.shared import group_path

bp = ApiBlueprint("groups", __name__, url_prefix="/groups", description="Members' groups.")


class GroupCardSchema(ma.Schema):
    """A group in the directory."""

    id = ma.fields.Integer(required=True, attribute="group.id")
    name = ma.fields.Function(lambda card: card.group.shown_name, required=True)
    topic = ma.fields.Function(lambda card: _unless_hidden(card.group, card.group.topic))
    join_policy = ma.fields.String(
        required=True,
        attribute="group.join_policy",
        metadata={"description": "open, request or invitation"},
    )
    visibility = ma.fields.String(
        required=True, attribute="group.visibility", metadata={"description": "public or members"}
    )
    member_count = ma.fields.Integer(required=True)
    role = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "The caller's, if a member."}
    )
    url = ma.fields.Function(lambda card: absolute_url(group_path(card.group.id)), required=True)


class ManagerSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(required=True)


class GroupSchema(ma.Schema):
    """A group as its page shows the caller (an invitee to a members-only group sees the
    invitation only: no members, managers or description)."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True, required=True)
    topic = ma.fields.String(allow_none=True, required=True)
    join_policy = ma.fields.String(required=True)
    visibility = ma.fields.String(required=True)
    hidden = ma.fields.Boolean(required=True, metadata={"description": "Hidden by moderators."})
    member_count = ma.fields.Integer(allow_none=True, required=True)
    managers = ma.fields.List(ma.fields.Nested(ManagerSchema), required=True)
    is_member = ma.fields.Boolean(required=True)
    is_manager = ma.fields.Boolean(required=True)
    invited = ma.fields.Boolean(required=True)
    request_pending = ma.fields.Boolean(required=True)
    url = ma.fields.String(required=True)


class DirectoryArguments(PageArguments):
    q = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=200),
        metadata={"description": "Every word in the name, description or topic."},
    )
    mine = ma.fields.Boolean(load_default=False, metadata={"description": "Only the caller's."})


@bp.get("")
@bp.arguments(DirectoryArguments, location="query")
@bp.response(200, page_schema(GroupCardSchema))
def groups(arguments: dict[str, Any]) -> Any:
    """The groups the directory shows the caller, newest first."""
    query = directory.visible_groups(current_user, text=arguments["q"], mine=arguments["mine"])
    page = cursor_page(query, Group.id, arguments)
    page["items"] = directory.cards_of(page["items"], current_user)
    return page, 200, next_link(page)


@bp.get("/<int:group_id>")
@bp.response(200, GroupSchema)
def group(group_id: int) -> dict[str, Any]:
    """A group, as its page shows it to the caller."""
    return _answer(group_for(group_id, current_user, invitee_may_see=True))


@bp.post("/<int:group_id>/join")
@bp.response(200, GroupSchema)
def join(group_id: int) -> dict[str, Any]:
    """Join an open group, as its page's button does."""
    membership.join_group(group_id, current_user)
    db.session.commit()
    return _answer(group_for(group_id, current_user))


def _answer(access: GroupAccess) -> dict[str, Any]:
    found = access.group
    outsider = not found.is_public and not access.is_member  # an invitee: the invitation only
    member_count, managers = (None, []) if outsider else membership.members_and_managers(found)
    pending = None if access.is_member else pending_request(found.id, current_user.id)
    return {
        "id": found.id,
        "name": found.shown_name,
        "description": None if outsider else _unless_hidden(found, found.description),
        "topic": _unless_hidden(found, found.topic),
        "join_policy": found.join_policy,
        "visibility": found.visibility,
        "hidden": found.hidden_at is not None,
        "member_count": member_count,
        "managers": managers,
        "is_member": access.is_member,
        "is_manager": access.is_manager,
        "invited": access.invitation is not None,
        "request_pending": pending is not None,
        "url": absolute_url(group_path(found.id)),
    }


def _unless_hidden(found: Group, text: str) -> str | None:
    return None if found.hidden_at is not None else text
