"""Changes that must not overwrite one made meanwhile (a wiki article two members edit, an
agreement two parties amend): the resource's ``ETag`` names its version, a change sends it back
in ``If-Match``, and is refused without one (428) or when it names an old version (412, with
the resource as it is now, to merge with and send again). Every part of the API that guards a
change so answers the same way, and a client learns the rule once."""

from __future__ import annotations

import re
from typing import Any

from flask import request
from flask_babel import gettext as _

from core.webapi.problems import Problem

IF_MATCH: dict[str, Any] = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string"},
    "description": "The `ETag` of the version read.",
}
"""The OpenAPI description of the header, for a view's ``@bp.doc(parameters=[IF_MATCH])``."""


def entity_tag(kind: str, resource_id: int, version: int) -> str:
    """The ``ETag`` of version ``version`` of the ``kind`` (``"article"``) ``resource_id``."""
    return f'"{kind}-{resource_id}-r{version}"'


def versions_in_if_match(kind: str, resource_id: int) -> frozenset[int]:
    """The versions of the ``kind`` ``resource_id`` that the request's ``If-Match`` names
    (tags of :func:`entity_tag`): the change passes if the current version is among them
    (RFC 9110: any listed tag may match), and none (an empty set: a nonsense tag, another
    resource's) never does. A request without ``If-Match`` (or with ``*``, which names no
    version read) is refused: 428."""
    tags = request.if_match
    if not tags or tags.star_tag:
        raise Problem("precondition-required", _("Send If-Match with the ETag you read."))
    ours = re.compile(rf"{re.escape(kind)}-{resource_id}-r(\d+)")
    # werkzeug reads an empty tag ("") as None
    found = (ours.fullmatch(tag or "") for tag in tags.as_set(include_weak=True))
    return frozenset(int(match[1]) for match in found if match)


def changed_meanwhile(detail: str, etag: str, current: dict[str, Any]) -> Problem:
    """The 412 of a change made on an old version: ``current`` is the resource as it is now
    (its JSON), and ``etag`` its version, to send again once merged."""
    return Problem("precondition-failed", detail, headers={"ETag": etag}, current=current)
