"""Core's pages, error pages, security headers and what every template can use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    has_request_context,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core.contributions import MY_DATA, OVERVIEW, NavItem
from core.db import db
from core.errors import NotAllowed, NotFound
from core.i18n import format_when, language_name, site_languages
from core.ratelimits import RateLimited
from core.services.badges import badges_of
from core.services.profiles import member_badges, member_facts
from core.state import alma
from core.transitions import allowed_actions, guards_asked_once_per_render
from core.webapi.problems import is_api_request, problem_of_http_error

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)


def register_core_views(app: Flask) -> None:
    from core.views import (
        admin,
        alerts,
        auth,
        home,
        lifecycle,
        mail,
        profile,
        reports,
        tokens,
        webhooks,
    )

    blueprints = (
        home.bp,
        auth.bp,
        profile.bp,
        alerts.bp,
        admin.bp,
        lifecycle.bp,
        mail.bp,
        reports.bp,
        tokens.bp,
        webhooks.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    mail.exempt_one_click(app)
    app.before_request(_refuse_nul_characters)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)
    app.add_template_global(get_locale)
    app.add_template_global(site_languages)
    app.add_template_global(member_facts)
    app.add_template_global(allowed_actions)
    guards_asked_once_per_render(app)
    app.add_template_global(member_badges)
    app.add_template_filter(language_name, "language_name")
    app.add_template_filter(format_when, "when")
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(NotFound, lambda error: _error_page(404, str(error)))
    app.register_error_handler(NotAllowed, lambda error: _error_page(403, str(error)))
    app.register_error_handler(RateLimited, lambda error: _error_page(429, str(error)))


def _refuse_nul_characters() -> None:
    """No form or link of alma sends a NUL character, and no database column holds one
    (PostgreSQL refuses it): a request with one in its address or fields is refused whole,
    before any page or service sees it."""
    fields = (*request.args.lists(), *request.form.lists())
    texts = [request.path, *(key for key, _values in fields)]
    texts += [value for _key, values in fields for value in values]
    if any("\x00" in text for text in texts):
        abort(400)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # A member's pages: neither a shared cache nor the next person at the browser's back
    # button may show them. Static files and photos say how they are cached themselves.
    if "Cache-Control" not in response.headers and current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
    return response


def _template_globals() -> dict[str, Any]:
    # A function, not a value: only the page shell calls it, once per page, and not the
    # partials and mails rendered along the way (nor jobs, which have no current_user).
    return {"navigation": _navigation, "profile_areas": _profile_areas}


def _profile_areas() -> list[tuple[str, str]]:
    """The tabs of a profile, as ``(name, title)``: core's Overview, the areas plugins
    contribute, and My data."""
    contributed = [(area.name, str(area.title)) for area in alma().profile_areas]
    return [(OVERVIEW, _("Overview")), *contributed, (MY_DATA, _("My data"))]


@dataclass(frozen=True)
class Navigation:
    links: list[tuple[NavItem, int]]  # the items this visitor sees, each with its badge count
    unread_alerts: int

    @property
    def unread_total(self) -> int:
        """What the menu button shows on a phone, where the collapsed menu hides the counts."""
        return self.unread_alerts + sum(count for item, count in self.links if item.badge)


def _navigation() -> Navigation:
    if not (has_request_context() and current_user.is_authenticated):
        return Navigation([(item, 0) for item in alma().nav_items if not item.members_only], 0)
    badges = badges_of(current_user.id)
    links = [(item, badges.by_endpoint.get(item.endpoint, 0)) for item in alma().nav_items]
    return Navigation(links, badges.alerts)


def _error_page(status: int, message: str | None = None) -> ResponseReturnValue:
    # The request's unit of work is abandoned: after a database error its session refuses
    # every query until rolled back, and the page shell's navigation queries (a dead
    # connection is dropped here too, and the next query takes a fresh one).
    db.session.rollback()
    titles = {
        400: _("This request could not be understood."),
        403: _("You may not see or do this."),
        404: _("There is nothing here."),
        405: _("This action is not possible here."),
        413: _("The file is too large."),
        429: _("Too many requests: please wait a moment."),
        500: _("Something went wrong on our side. Please try again."),
    }
    title = titles.get(status, _("Something went wrong."))
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=title,
            message=message,
            home=url_for("home.index"),
        ),
        status,
    )


def _http_error(error: HTTPException) -> ResponseReturnValue:
    if error.code is None or error.code < 400:
        return error
    if is_api_request():  # an address under /api/ that no API view answers, or a crash
        return problem_of_http_error(error)
    return _error_page(error.code)


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    return _error_page(400, _("The form had expired. Please go back, reload and try again."))
