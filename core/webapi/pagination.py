"""Lists in the HTTP API come a page at a time, by cursor: a page is ``{"items": [...],
"next": "<cursor>"}`` (``next`` is null on the last page), and ``?after=<cursor>`` asks for
the page after. A cursor is opaque to clients; it names the last item shown, so rows added
meanwhile never shift a page (as an offset would)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from functools import cache
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from flask_babel import gettext as _
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from core.db import LARGEST_ID, db
from core.webapi.problems import Problem

MAX_LIMIT = 100


class PageArguments(ma.Schema):
    """``?limit=`` (1 to 100, default 20) and ``?after=`` of a list."""

    limit = ma.fields.Integer(
        load_default=20,
        validate=ma.validate.Range(1, MAX_LIMIT),
        metadata={"description": "How many items a page holds."},
    )
    after = ma.fields.String(
        load_default=None, metadata={"description": "The `next` cursor of the page before."}
    )


@cache
def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The schema of a page of ``item_schema``'s items (one class per item schema, so the
    OpenAPI document names it once)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    fields: dict[str, Any] = {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "next": ma.fields.String(
            allow_none=True,
            required=True,
            metadata={"description": "The cursor of the next page; null on the last one."},
        ),
    }
    return type(name, (ma.Schema,), fields)


def cursor_page(
    query: Select[Any],
    key: InstrumentedAttribute[int],
    arguments: dict[str, Any],
    *,
    newest_first: bool = True,
) -> dict[str, Any]:
    """The page of ``query``'s rows that ``arguments`` (``PageArguments``) asks for, ordered
    by the unique integer column ``key``; sets the ``Link`` header of the next page."""
    limit: int = arguments["limit"]
    after = arguments.get("after")
    if after is not None:
        last = _decoded(after)
        query = query.where(key < last if newest_first else key > last)
    ordered = query.order_by(key.desc() if newest_first else key.asc())
    rows: Sequence[Any] = db.session.scalars(ordered.limit(limit + 1)).all()
    items, more = rows[:limit], len(rows) > limit
    next_cursor = _encoded(getattr(items[-1], key.key)) if more else None
    return {"items": items, "next": next_cursor}


def next_link(page: dict[str, Any]) -> dict[str, str]:
    """The ``Link`` header of ``page``'s next page, if there is one (RFC 8288)."""
    if page["next"] is None:
        return {}
    arguments = request.args.to_dict() | {"after": page["next"]}
    return {"Link": f'<{request.base_url}?{urlencode(arguments)}>; rel="next"'}


def _encoded(value: int) -> str:
    return base64.urlsafe_b64encode(f"k{value}".encode()).decode().rstrip("=")


def _decoded(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    # a key alma gave is an id: a larger number would fail the query, not find nothing
    if not (text.startswith("k") and text[1:].isdigit() and int(text[1:]) <= LARGEST_ID):
        raise Problem("invalid-cursor", _("The cursor is not one alma gave."))
    return int(text[1:])
