"""The member's site alerts in the API: the list, newest first, and marking them read."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.db import db
from core.errors import NotFound
from core.models import Notification
from core.services.notifications import mark_read, unread_count
from core.urls import absolute_url
from core.webapi import ApiBlueprint
from core.webapi.pagination import PageArguments, cursor_page, next_link, page_schema

bp = ApiBlueprint("alerts", __name__, url_prefix="/alerts", description="The member's alerts.")


class AlertSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    message = ma.fields.String(required=True)
    url = ma.fields.Method("page_of", allow_none=True, required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    read_at = ma.fields.AwareDateTime(allow_none=True, required=True)

    def page_of(self, alert: Notification) -> str | None:
        return absolute_url(alert.url) if alert.url else None


class UnreadSchema(ma.Schema):
    unread = ma.fields.Integer(required=True, metadata={"description": "Alerts not read yet."})


@bp.get("")
@bp.arguments(PageArguments, location="query")
@bp.response(200, page_schema(AlertSchema))
def alerts(arguments: dict[str, Any]) -> Any:
    """The member's alerts, newest first."""
    query = select(Notification).where(Notification.user_id == current_user.id)
    page = cursor_page(query, Notification.id, arguments)
    return page, 200, next_link(page)


@bp.get("/unread")
@bp.response(200, UnreadSchema)
def unread() -> dict[str, int]:
    """How many alerts the member has not read (the bell's number)."""
    return {"unread": unread_count(current_user)}


@bp.post("/read")
@bp.response(200, UnreadSchema)
def read_all() -> dict[str, int]:
    """Mark every alert read."""
    mark_read(current_user)
    db.session.commit()
    return {"unread": 0}


@bp.post("/<int:alert_id>/read")
@bp.response(200, UnreadSchema)
def read_one(alert_id: int) -> dict[str, int]:
    """Mark one alert read (reading it again changes nothing)."""
    mine = select(Notification.id).where(
        Notification.id == alert_id, Notification.user_id == current_user.id
    )
    if db.session.scalar(mine) is None:
        raise NotFound(_("You have no such alert."))
    mark_read(current_user, alert_id)
    db.session.commit()
    return {"unread": unread_count(current_user)}
