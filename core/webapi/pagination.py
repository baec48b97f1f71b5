"""Lists in the HTTP API come a page at a time, by cursor: a page is ``{"items": [...],
"next": "<cursor>"}`` (``next`` is null on the last page), and ``?after=<cursor>`` asks for
the page after. A cursor is opaque to clients; it names the last item shown, so rows added
meanwhile never shift a page (as an offset would). Most lists come newest first
(:func:`cursor_page`); a list in time order (meetings) by the time and id of that last item
(:func:`time_page`), so a row whose time has passed meanwhile shifts none either."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from flask_babel import gettext as _
from sqlalchemy import Select, and_, or_
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


def time_page(
    query: Select[Any],
    at: InstrumentedAttribute[datetime],
    key: InstrumentedAttribute[int],
    arguments: dict[str, Any],
) -> dict[str, Any]:
    """The page of ``query``'s rows that ``arguments`` (``PageArguments``) asks for, soonest
    first by the time column ``at``, rows at the same time by the unique integer column
    ``key``. Its cursor names both of the last row shown, so the next page starts after it
    wherever the rows before it went (an offset would skip a row for each that dropped out
    of the query meanwhile, a meeting that began)."""
    limit: int = arguments["limit"]
    after = arguments.get("after")
    if after is not None:
        when, last = _decoded_time(after)
        query = query.where(or_(at > when, and_(at == when, key > last)))
    ordered = query.order_by(None).order_by(at.asc(), key.asc())
    rows: Sequence[Any] = db.session.scalars(ordered.limit(limit + 1)).all()
    items, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        next_cursor = _encoded_time(getattr(items[-1], at.key), getattr(items[-1], key.key))
    return {"items": items, "next": next_cursor}


def next_link(page: dict[str, Any]) -> dict[str, str]:
    """The ``Link`` header of ``page``'s next page, if there is one (RFC 8288)."""
    if page["next"] is None:
        return {}
    arguments = request.args.to_dict() | {"after": page["next"]}
    return {"Link": f'<{request.base_url}?{urlencode(arguments)}>; rel="next"'}


def _encoded(value: int) -> str:
    return _opaque(f"k{value}")


def _decoded(cursor: str) -> int:
    text = _revealed(cursor)
    if not (text.startswith("k") and _is_id(text[1:])):
        raise _not_ours()
    return int(text[1:])


def _encoded_time(when: datetime, value: int) -> str:
    return _opaque(f"t{when.isoformat()}|{value}")


def _decoded_time(cursor: str) -> tuple[datetime, int]:
    text = _revealed(cursor)
    when, _bar, value = text[1:].partition("|")
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        raise _not_ours() from None
    if not text.startswith("t"):
        raise _not_ours()
    if moment.tzinfo is None or not _is_id(value):
        raise _not_ours()
    return moment, int(value)


def _opaque(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _revealed(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""


def _is_id(text: str) -> bool:
    # a key alma gave is an id: a larger number would fail the query, not find nothing
    return text.isascii() and text.isdigit() and int(text) <= LARGEST_ID


def _not_ours() -> Problem:
    return Problem("invalid-cursor", _("The cursor is not one alma gave."))
