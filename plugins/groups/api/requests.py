"""The managers' side of requests to join: the pending ones, and approving or declining
one (the managers' page's buttons)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_login import current_user

from core.api import PageArguments, cursor_page, db, next_link, page_schema
from plugins.groups.api import bp
from plugins.groups.models import JoinRequest
from plugins.groups.services import membership
from plugins.groups.services.access import manager_access


class JoinRequestSchema(ma.Schema):
    """A member's request to join, as the managers read it."""

    id = ma.fields.Integer(required=True)
    member_id = ma.fields.Integer(required=True, attribute="user_id")
    member_name = ma.fields.Function(lambda request: request.user.display_name, required=True)
    message = ma.fields.String(required=True)
    state = ma.fields.String(
        required=True, metadata={"description": "pending, approved, declined or withdrawn"}
    )
    created_at = ma.fields.AwareDateTime(required=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True, required=True)


@bp.get("/<int:group_id>/requests")
@bp.arguments(PageArguments, location="query")
@bp.response(200, page_schema(JoinRequestSchema))
def pending_requests(arguments: dict[str, Any], group_id: int) -> Any:
    """The group's pending requests to join, oldest first (for its managers)."""
    access = manager_access(group_id, current_user)
    query = membership.pending_requests_query(access.group)
    page = cursor_page(query, JoinRequest.id, arguments, newest_first=False)
    return page, 200, next_link(page)


@bp.post("/<int:group_id>/requests/<int:request_id>/approve")
@bp.response(200, JoinRequestSchema)
def approve(group_id: int, request_id: int) -> JoinRequest:
    """A manager approves a pending request: the member is in, and told so."""
    approved = membership.approve_request(group_id, request_id, current_user)
    db.session.commit()
    return approved


@bp.post("/<int:group_id>/requests/<int:request_id>/decline")
@bp.response(200, JoinRequestSchema)
def decline(group_id: int, request_id: int) -> JoinRequest:
    """A manager declines a pending request; the member is told so."""
    declined = membership.decline_request(group_id, request_id, current_user)
    db.session.commit()
    return declined
