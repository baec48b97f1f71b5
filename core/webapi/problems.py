"""Errors of the HTTP API as ``application/problem+json`` (RFC 9457): a stable ``type`` per
kind of error, which a client compares, and a ``detail`` for people. Each type's address,
``/api/problems/<name>``, answers with its description."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from core.errors import DomainError, InvalidInput, NotAllowed, NotFound
from core.ratelimits import RateLimited

API_ROOT = "/api/"
MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    name: str
    status: int
    title: Any  # a lazy string, in the reader's language
    description: str

    @property
    def uri(self) -> str:
        return f"{API_ROOT}problems/{self.name}"


_TYPES = [
    ProblemType("bad-request", 400, _l("Bad request"), "The request is malformed."),
    ProblemType(
        "invalid-cursor", 400, _l("Invalid cursor"), "The `after` cursor was not one alma gave."
    ),
    ProblemType(
        "unauthorized",
        401,
        _l("Authentication needed"),
        "Send `Authorization: Bearer <token>` with a personal access token made in My data.",
    ),
    ProblemType(
        "invalid-token",
        401,
        _l("Invalid token"),
        "The token is unknown or revoked, or its member cannot act now (suspended, deactivated).",
    ),
    ProblemType(
        "insufficient-scope",
        403,
        _l("The token may only read"),
        "Writing needs a token with the write scope.",
    ),
    ProblemType(
        "csrf-failed",
        403,
        _l("CSRF token missing or wrong"),
        "A write with the browser's session must send the page's CSRF token in `X-CSRFToken`.",
    ),
    ProblemType("forbidden", 403, _l("Not allowed"), "The member may not do this."),
    ProblemType("not-found", 404, _l("Not found"), "Nothing is at this address for the member."),
    ProblemType(
        "method-not-allowed", 405, _l("Method not allowed"), "The address does not take it."
    ),
    ProblemType(
        "refused",
        409,
        _l("Refused"),
        "A rule refused the action in the current state (a request already answered, a "
        "meeting already confirmed…); `detail` says which.",
    ),
    ProblemType(
        "precondition-failed",
        412,
        _l("Changed meanwhile"),
        "No version `If-Match` names is the current one: read it again, then retry.",
    ),
    ProblemType(
        "unsupported-media-type", 415, _l("Unsupported media type"), "Send `application/json`."
    ),
    ProblemType(
        "invalid-input",
        422,
        _l("Invalid input"),
        "The input breaks a rule; `detail` says which, `errors` lists fields when it is a "
        "field's fault.",
    ),
    ProblemType(
        "precondition-required",
        428,
        _l("Version needed"),
        "A change needs `If-Match` with the version read (its `ETag`), so that it never "
        "overwrites a change made meanwhile.",
    ),
    ProblemType(
        "rate-limited",
        429,
        _l("Too many requests"),
        "Over the token's rate limit: wait `Retry-After` seconds.",
    ),
    ProblemType("server-error", 500, _l("Server error"), "alma failed; the operator is told."),
]
PROBLEM_TYPES = {problem.name: problem for problem in _TYPES}
_BY_STATUS = {problem.status: problem for problem in reversed(_TYPES)}  # the first of each


class Problem(Exception):
    """Raised in an API view: answered as the problem of type ``name`` (one of
    ``PROBLEM_TYPES``) with ``detail``, extension ``members`` (the current version of what
    changed meanwhile, say) and ``headers``."""

    def __init__(
        self,
        name: str,
        detail: str = "",
        *,
        headers: dict[str, str] | None = None,
        **members: Any,
    ) -> None:
        super().__init__(detail)
        self.name = name
        self.detail = detail
        self.headers = headers or {}
        self.members = members


def is_api_request() -> bool:
    return request.path.startswith(API_ROOT)


def problem(name: str, detail: str = "", *, status: int | None = None, **members: Any) -> Response:
    """The answer for a problem of type ``name``: ``detail`` for people, ``members`` as
    extension members (``errors={...}``)."""
    kind = PROBLEM_TYPES[name]
    code = status or kind.status
    body: dict[str, Any] = {"type": kind.uri, "title": str(kind.title), "status": code}
    if detail:
        body["detail"] = detail
    response = jsonify(body | members)
    response.status_code = code
    response.mimetype = MEDIA_TYPE
    return response


def problem_of_http_error(error: HTTPException) -> Response:
    """An ``abort(...)`` or a routing error as a problem; flask-smorest's argument errors
    (422) carry their fields' messages along."""
    status = error.code or 500
    kind = _BY_STATUS.get(status) or (_BY_STATUS[500] if status >= 500 else _BY_STATUS[400])
    data = getattr(error, "data", None) or {}
    members: dict[str, Any] = {}
    if "messages" in data:
        members["errors"] = data["messages"]
    detail = data.get("message") or (error.description if status < 500 else "")
    response = problem(kind.name, detail or "", status=status, **members)
    passed_on = dict(error.get_headers()) | (data.get("headers") or {})
    for key in ("Allow", "WWW-Authenticate", "Retry-After"):
        if key in passed_on:
            response.headers[key] = passed_on[key]
    return response


def problem_of_domain_error(error: DomainError) -> Response:
    """A service's refusal, as the pages would show it, as a problem."""
    if isinstance(error, RateLimited):
        response = problem("rate-limited", str(error))
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    if isinstance(error, NotFound):
        return problem("not-found", str(error))
    if isinstance(error, NotAllowed):
        return problem("forbidden", str(error))
    if isinstance(error, InvalidInput):
        return problem("invalid-input", str(error))
    return problem("refused", str(error))


bp = Blueprint("problems", __name__, url_prefix="/api/problems")


@bp.get("/<name>")
def describe(name: str) -> Response:
    kind = PROBLEM_TYPES.get(name)
    if kind is None:
        return problem("not-found", _("No such problem type."))
    return jsonify(
        type=kind.uri, title=str(kind.title), status=kind.status, description=kind.description
    )
