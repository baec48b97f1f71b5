"""Credits in alma's HTTP API (``/api/v1/credits``): the member's own ledger and total, as
their ledger page shows them. Another member's ledger is nobody's business, as on the pages."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_login import current_user
from sqlalchemy import select

from core.api import ApiBlueprint, PageArguments, absolute_url, cursor_page, next_link, page_schema
from plugins.credits import services
from plugins.credits.models import CreditEntry

bp = ApiBlueprint(
    "credits", __name__, url_prefix="/credits", description="The member's credits and ledger."
)


class EntrySchema(ma.Schema):
    """An entry of the member's ledger."""

    id = ma.fields.Integer(required=True)
    entry_kind = ma.fields.String(
        required=True, metadata={"description": "credit, reversal (withdrawn) or adjustment"}
    )
    label = ma.fields.Function(
        services.entry_label, required=True, metadata={"description": "What it was for."}
    )
    detail = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "A goal's title, an adjustment's reason."},
    )
    url = ma.fields.Method("page_of", allow_none=True, required=True)
    points = ma.fields.Integer(required=True)
    capped_from = ma.fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "The rule's points when the daily limit cut the entry down."},
    )
    created_at = ma.fields.AwareDateTime(required=True)

    def page_of(self, entry: CreditEntry) -> str | None:
        return absolute_url(entry.url) if entry.url and not entry.is_reversal else None


class BalanceSchema(ma.Schema):
    total = ma.fields.Integer(required=True, metadata={"description": "The member's credits."})


@bp.get("/ledger")
@bp.arguments(PageArguments, location="query")
@bp.response(200, page_schema(EntrySchema))
def ledger(arguments: dict[str, Any]) -> Any:
    """The member's ledger, newest first."""
    query = select(CreditEntry).where(CreditEntry.user_id == current_user.id)
    page = cursor_page(query, CreditEntry.id, arguments)
    return page, 200, next_link(page)


@bp.get("/balance")
@bp.response(200, BalanceSchema)
def balance() -> dict[str, int]:
    """The member's total of credits."""
    return {"total": services.credit_total(current_user)}
