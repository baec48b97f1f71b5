"""Who calls the HTTP API: a personal access token (``Authorization: Bearer alma_pat_…``),
within its scope, or the browser's own session (writes then carry the page's CSRF token in
``X-CSRFToken``, as forms do). Each caller's calls count against the limit ``api``: per token,
or per member for the session, with ``RateLimit-*`` headers on every answer."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

from core.db import write_after_request
from core.ratelimits import rate_limit
from core.services import tokens
from core.webapi.problems import problem

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
API_CALLS = rate_limit("api", "300/minute;10000/day")

ViewT = TypeVar("ViewT", bound=Callable[..., object])


def public(view: ViewT) -> ViewT:
    """Open an API view to anyone, logged in or not (a certificate's verification, say); the
    OpenAPI document says so (``security: []``). Put it under the route's decorator, which
    reads the view's documentation."""
    view.api_public = True  # type: ignore[attr-defined]
    documentation = getattr(view, "_apidoc", {})  # flask-smorest's, kept on the view
    documentation.setdefault("manual_doc", {})["security"] = []
    view._apidoc = documentation  # type: ignore[attr-defined]
    return view


def authenticate_call() -> Response | None:
    """Before every API view: the caller becomes ``current_user``, or the call is refused
    with a problem saying why."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "api_public", False):
        return None
    header = request.headers.get("Authorization")
    if header is not None:
        return _by_token(header)
    if not current_user.is_authenticated:
        refusal = problem("unauthorized", _("Log in, or send a personal access token."))
        refusal.headers["WWW-Authenticate"] = 'Bearer realm="alma"'
        return refusal
    if request.method not in SAFE_METHODS:
        csrf: CSRFProtect = current_app.extensions["csrf"]
        csrf.protect()  # a CSRFError, answered as the problem csrf-failed
    _count_call(f"member:{current_user.id}")
    return None


def _by_token(header: str) -> Response | None:
    scheme, _space, secret = header.partition(" ")
    token = tokens.token_for(secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        refusal = problem("invalid-token", _("This token is unknown or revoked."))
        refusal.headers["WWW-Authenticate"] = 'Bearer realm="alma", error="invalid_token"'
        return refusal
    g._login_user = token.user  # Flask-Login's current_user, for this request only
    g.api_token = token
    if tokens.seen_long_ago(token):
        write_after_request(functools.partial(tokens.note_used, token.id))
    if request.method not in SAFE_METHODS and token.scope != "write":
        refusal = problem("insufficient-scope", _("This token may only read."))
        refusal.headers["WWW-Authenticate"] = (
            'Bearer realm="alma", error="insufficient_scope", scope="write"'
        )
        return refusal
    _count_call(f"token:{token.id}")
    return None


def _count_call(who: str) -> None:
    g.api_caller = who
    API_CALLS.hit(who)  # over the limit: RateLimited, answered as the problem rate-limited


def quota_headers(response: Response) -> Response:
    """After an API view: what is left of the caller's limit (IETF RateLimit headers)."""
    who = g.get("api_caller")
    quota = API_CALLS.quota(who) if who else None
    if quota is not None:
        response.headers["RateLimit-Limit"] = str(quota.limit)
        response.headers["RateLimit-Remaining"] = str(quota.remaining)
        response.headers["RateLimit-Reset"] = str(quota.reset)
    return response
