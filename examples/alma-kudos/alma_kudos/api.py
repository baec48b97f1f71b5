"""The plugin's part of alma's HTTP API (``/api/v1/kudos``): the same services as the pages,
described by schemas, in the same OpenAPI document as core's (docs/api.md)."""

from typing import Any

import marshmallow as ma
from flask_login import current_user
from sqlalchemy import select

from alma_kudos.models import SHOWN, Kudos
from alma_kudos.services import give_kudos
from core.api import (
    ApiBlueprint,
    IdField,
    PageArguments,
    cursor_page,
    db,
    member_for,
    next_link,
    page_schema,
)

bp = ApiBlueprint("kudos", __name__, url_prefix="/kudos", description="Thanks between members.")


class KudosSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    giver_id = ma.fields.Integer(required=True)
    receiver_id = ma.fields.Integer(required=True)
    message = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "sent or kept"})
    created_at = ma.fields.AwareDateTime(required=True)


class GiveSchema(ma.Schema):
    receiver_id = IdField(required=True)
    message = ma.fields.String(required=True, metadata={"description": "1 to 200 characters."})


@bp.get("/received")
@bp.arguments(PageArguments, location="query")
@bp.response(200, page_schema(KudosSchema))
def received(arguments: dict[str, Any]) -> Any:
    """The kudos the member received and still holds, newest first."""
    query = select(Kudos).where(Kudos.receiver_id == current_user.id, Kudos.status.in_(SHOWN))
    page = cursor_page(query, Kudos.id, arguments)
    return page, 200, next_link(page)


@bp.post("")
@bp.arguments(GiveSchema)
@bp.response(201, KudosSchema)
def give(kudos: dict[str, Any]) -> Kudos:
    """Thank a member, as the button on their profile does."""
    receiver = member_for(current_user, kudos["receiver_id"])
    given = give_kudos(current_user, receiver, kudos["message"])
    db.session.commit()
    return given
