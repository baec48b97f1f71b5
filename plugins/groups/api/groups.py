"""The directory, a group as its page shows the caller (with their standing in it), and
the caller's own ways in and out: joining an open group, asking to join one "on request",
withdrawing that request, leaving."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_login import current_user

from core.api import PageArguments, User, absolute_url, cursor_page, db, next_link, page_schema
from plugins.groups.api import bp
from plugins.groups.models import MAX_MESSAGE, ON_REQUEST, OPEN, Group
from plugins.groups.services import directory, membership
from plugins.groups.services.access import GroupAccess, group_for, pending_request
from plugins.groups.services.shared import group_path
from plugins.groups.services.states import MEMBERSHIP


class GroupCardSchema(ma.Schema):
    """A group in the directory."""

    id = ma.fields.Integer(required=True, attribute="group.id")
    name = ma.fields.Function(lambda card: card.group.shown_name, required=True)
    topic = ma.fields.Function(lambda card: unless_hidden(card.group, card.group.topic))
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
    invitation only: no members, managers or description), and the caller's standing in it:
    what they are, and which of their own ways in or out the page offers them now."""

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
    banned = ma.fields.Boolean(required=True, metadata={"description": "The caller is banned."})
    invited = ma.fields.Boolean(required=True)
    request_pending = ma.fields.Boolean(
        required=True, metadata={"description": "The caller asked to join and awaits the answer."}
    )
    may_join = ma.fields.Boolean(
        required=True, metadata={"description": "An open group the caller may join now."}
    )
    may_ask = ma.fields.Boolean(
        required=True, metadata={"description": "A group on request the caller may ask to join."}
    )
    may_leave = ma.fields.Boolean(required=True)
    url = ma.fields.String(required=True)


class DirectoryArguments(PageArguments):
    q = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=200),
        metadata={"description": "Every word in the name, description or topic."},
    )
    mine = ma.fields.Boolean(load_default=False, metadata={"description": "Only the caller's."})


class JoinAskSchema(ma.Schema):
    message = ma.fields.String(
        required=True,
        metadata={"description": f"Why the caller would like to join; up to {MAX_MESSAGE}."},
    )


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
    """A group, as its page shows it to the caller, with their standing in it."""
    return _answer(group_for(group_id, current_user, invitee_may_see=True))


@bp.post("/<int:group_id>/join")
@bp.response(200, GroupSchema)
def join(group_id: int) -> dict[str, Any]:
    """Join an open group, as its page's button does."""
    membership.join_group(group_id, current_user)
    db.session.commit()
    return _answer(group_for(group_id, current_user))


@bp.post("/<int:group_id>/request")
@bp.arguments(JoinAskSchema)
@bp.response(201, GroupSchema)
def ask(asking: dict[str, Any], group_id: int) -> dict[str, Any]:
    """Ask to join a group "on request", with a message its managers read (they are alerted
    and e-mailed)."""
    membership.request_to_join(group_id, current_user, asking["message"])
    db.session.commit()
    return _answer(group_for(group_id, current_user))


@bp.delete("/<int:group_id>/request")
@bp.response(200, GroupSchema)
def withdraw(group_id: int) -> dict[str, Any]:
    """Withdraw the caller's pending request to join."""
    membership.withdraw_request(group_id, current_user)
    db.session.commit()
    return _answer(group_for(group_id, current_user))


@bp.post("/<int:group_id>/leave")
@bp.response(204)
def leave(group_id: int) -> None:
    """Leave the group (a manager only while another manager remains). A members-only group
    is not found by the caller afterwards."""
    membership.leave_group(group_id, current_user)
    db.session.commit()


def _answer(access: GroupAccess) -> dict[str, Any]:
    found = access.group
    outsider = not found.is_public and not access.is_member  # an invitee: the invitation only
    member_count, managers = (None, []) if outsider else membership.members_and_managers(found)
    pending = None if access.is_member else pending_request(found.id, current_user.id)
    return {
        "id": found.id,
        "name": found.shown_name,
        "description": None if outsider else unless_hidden(found, found.description),
        "topic": unless_hidden(found, found.topic),
        "join_policy": found.join_policy,
        "visibility": found.visibility,
        "hidden": found.hidden_at is not None,
        "member_count": member_count,
        "managers": managers,
        "is_member": access.is_member,
        "is_manager": access.is_manager,
        "banned": access.is_banned,
        "invited": access.invitation is not None,
        "request_pending": pending is not None,
        **_ways_in_and_out(access, managers, asked=pending is not None),
        "url": absolute_url(group_path(found.id)),
    }


def _ways_in_and_out(access: GroupAccess, managers: list[User], *, asked: bool) -> dict[str, bool]:
    """What the group's page offers the caller about belonging to it. Nobody comes into a
    group that no listed manager runs (``membership.join_group``), and an invitee to a
    members-only group comes in by accepting the invitation (on the page) alone."""
    may_come_in = bool(managers) and not access.is_member and not access.is_banned
    own = MEMBERSHIP.allowed(access.membership, access) if access.membership else {}
    return {
        "may_join": may_come_in and access.group.join_policy == OPEN,
        "may_ask": may_come_in and access.group.join_policy == ON_REQUEST and not asked,
        "may_leave": "leave" in own,
    }


def unless_hidden(found: Group, text: str) -> str | None:
    """A group's own words, unless the moderators hide the group."""
    return None if found.hidden_at is not None else text
