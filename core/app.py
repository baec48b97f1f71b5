"""The application factory: everything is built here, nothing at import time."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import posixpath
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, Response, has_request_context, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, MapAdapter, Rule
from werkzeug.security import safe_join

from core.config import ConfigError, instance_path_from_env, load_settings, plugin_settings
from core.db import LARGEST_ID, db, end_request_transaction, write_after_request
from core.forms import profile_form_with
from core.i18n import (
    AlmaBabel,
    select_locale,
    select_timezone,
    translation_directories,
)
from core.models import User
from core.plugins import Hooks, InstalledPlugin, build_plugin_manager, installed_plugins
from core.ratelimits import init_rate_limits
from core.realtime import create_socketio
from core.services import accounts
from core.services.badges import badge_query
from core.services.mail_kinds import build_catalog
from core.services.reports import report_kinds
from core.services.statistics import core_statistics
from core.services.webhooks import webhook_event_types
from core.state import AlmaState
from core.views import register_core_views
from core.views.admin import admin_sections
from core.webapi import init_api

logger = logging.getLogger(__name__)

POOL_RECYCLE_SECONDS = 1800
SAME_URLS_KEPT = 1000  # static files and argument-free pages: far fewer on any site
A_YEAR = 365 * 24 * 3600  # how long a browser keeps a static file asked for by its version


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    instance_path: str | Path | None = None,
    extra_plugins: Mapping[str, object] | None = None,
) -> Flask:
    """Build an alma app.

    ``config`` overrides the settings file and environment (tests use it); ``extra_plugins``
    makes plugin objects installed without an entry point (tests and embedding), and they
    are enabled like any other, through ``PLUGINS``.
    """
    instance = Path(instance_path).resolve() if instance_path else instance_path_from_env()
    settings = load_settings(instance, config)
    app = AlmaFlask(__name__, instance_path=str(instance))
    app.url_map.converters["int"] = DatabaseIntConverter
    app.config.update(settings)
    _harden_session_cookie(app)

    installed = installed_plugins(extra_plugins)
    hooks = Hooks(build_plugin_manager(settings["PLUGINS"], installed))
    app.config["PLUGIN_SETTINGS"] = _checked_plugin_settings(settings, hooks, installed)
    nav_items = hooks.nav_items()
    profile_fields = hooks.profile_fields()
    app.extensions["alma"] = AlmaState(
        hooks=hooks,
        installed=installed,
        enabled=list(settings["PLUGINS"]),
        activity_kinds={kind.name: kind for kind in hooks.activity_kinds()},
        goal_kinds={kind.name: kind for kind in hooks.goal_kinds()},
        mail_catalog=build_catalog(hooks.mail_kinds()),
        nav_items=nav_items,
        badge_query=badge_query(nav_items),
        profile_areas=hooks.profile_areas(),
        profile_sections=hooks.profile_sections(),
        profile_fields=profile_fields,
        profile_form=profile_form_with(profile_fields),
        home_counters=hooks.home_counters(),
        member_facts=hooks.member_facts(),
        admin_sections=admin_sections(hooks.admin_sections()),
        statistics=[*core_statistics(), *hooks.statistics()],
        report_kinds=report_kinds(hooks.report_kinds()),
        webhook_events=webhook_event_types(hooks.webhook_events()),
    )

    app.config["SQLALCHEMY_DATABASE_URI"] = settings["DATABASE_URL"]
    pool = settings["DATABASE_POOL_SIZE"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        # a connection the server closed is replaced at checkout (core.db), with no round
        # trip; one older than this is replaced in case the network dropped it silently
        "pool_recycle": POOL_RECYCLE_SECONDS,
        "pool_size": pool,
        # the most recently used connection first: a quiet site's requests keep to a few
        # connections, whose statements PostgreSQL has prepared (psycopg prepares a
        # statement at its fifth run on a connection; round robin would spread the runs)
        "pool_use_lifo": True,
        "max_overflow": pool,
    }
    db.init_app(app)
    CSRFProtect(app)
    enabled_plugins = [hooks.manager.get_plugin(name) for name in settings["PLUGINS"]]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = translation_directories(
        enabled_plugins, settings.get("BABEL_TRANSLATION_DIRECTORIES", "")
    )
    AlmaBabel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    _init_login(app)
    app.teardown_request(end_request_transaction)
    app.extensions["alma"].socketio = create_socketio(app, hooks.socket_handlers())

    if settings["TRUSTED_PROXIES"]:
        # the client's address (login throttling) and https (cookies, HSTS) as the proxy saw them
        hops = settings["TRUSTED_PROXIES"]
        # Flask's documented way to add a WSGI middleware, though typed as a method
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    register_core_views(app)
    for blueprint in hooks.blueprints():
        app.register_blueprint(blueprint)
    init_api(app, hooks.api_blueprints())
    init_rate_limits(app)  # after the plugins' views, which declare their limits
    with app.app_context():
        hooks.app_created(app)
    app.keep_versioned_files_for_good()
    return app


class RuleBuiltOnFirstUse(Rule):
    """A URL rule that writes its URL builders when a link is first built from it, not when
    the app is made. Werkzeug writes two for each rule, as Python source it compiles, and
    with every plugin enabled the app has about 260 rules: that was 40 ms of CPU in every
    ``alma`` command and web process (half of making a second app in one), for links that
    most commands never build. Matching a request is unchanged; a builder werkzeug cannot
    write (a converter refusing a rule's default) now fails at that rule's first link
    instead of at start. It overrides werkzeug's private ``Rule._compile_builder``, hence
    the upper bound on werkzeug in pyproject.toml."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        attribute = "_build_unknown" if append_unknown else "_build"
        write_builder = super()._compile_builder

        def build_first_link(rule: Rule, /, **values: Any) -> tuple[str, str]:
            builder = write_builder(append_unknown).__get__(rule, None)
            setattr(rule, attribute, builder)  # from now on, straight to it
            return builder(**values)  # type: ignore[no-any-return]

        return build_first_link


class AlmaFlask(Flask):
    """Flask, whose ``url_for`` also works where no request gives an address (a job, the
    demo, the CLI): it builds on ``BASE_URL``, read when the app context starts (``alma
    serve`` may set it after the app is built)."""

    url_rule_class = RuleBuiltOnFirstUse

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._same_for_every_request: dict[tuple[str, str, str | None], str] = {}
        self._file_versions: dict[tuple[str, str], str | None] = {}

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        if request is not None or self.config["SERVER_NAME"] is not None:
            return super().create_url_adapter(request)
        base = urlsplit(self.config["BASE_URL"])
        return self.url_map.bind(base.netloc, url_scheme=base.scheme)

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        """Flask's ``url_for``; in a request, a link to a static file or to a page that takes
        no arguments (a page's 20 or so: its stylesheets, scripts and navigation) is the same
        for every request under the same script root, and is built once."""
        plain = _anchor is None and _method is None and _scheme is None and _external is None
        if not (
            plain
            and (not values or (_serves_files(endpoint) and values.keys() == {"filename"}))
            and not endpoint.startswith(".")  # relative to the request's blueprint
            and not self.url_default_functions
            and has_request_context()
        ):
            return super().url_for(
                endpoint,
                _anchor=_anchor,
                _method=_method,
                _scheme=_scheme,
                _external=_external,
                **self._with_file_version(endpoint, values),
            )
        key = (request.script_root, endpoint, values.get("filename"))
        url = self._same_for_every_request.get(key)
        if url is None:
            url = super().url_for(endpoint, **self._with_file_version(endpoint, values))
            if len(self._same_for_every_request) < SAME_URLS_KEPT:
                self._same_for_every_request[key] = url
        return url

    def file_version(self, endpoint: str, filename: str) -> str | None:
        """A fingerprint of the content of a static file (core's ``static`` or a plugin's
        ``<blueprint>.static``), read once per process and file; None for a file that is
        not there. Links to static files carry it (``?v=…``) outside debug mode, so that a
        browser keeps each file until it changes instead of asking again at every page."""
        key = (endpoint, filename)
        if key not in self._file_versions:
            scaffold = self if endpoint == "static" else self.blueprints.get(endpoint[:-7])
            folder = scaffold.static_folder if scaffold is not None else None
            path = safe_join(folder, filename) if folder is not None else None
            self._file_versions[key] = (
                hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
                if path is not None and os.path.isfile(path)
                else None
            )
        return self._file_versions[key]

    def _with_file_version(self, endpoint: str, values: dict[str, Any]) -> dict[str, Any]:
        filename = values.get("filename")
        if (
            self.debug
            or not _serves_files(endpoint)
            or endpoint.startswith(".")  # relative to the request's blueprint: left as it was
            or not isinstance(filename, str)
        ):
            return values
        version = self.file_version(endpoint, filename)
        return values if version is None else {**values, "v": version}

    def keep_versioned_files_for_good(self) -> None:
        """Once every blueprint is registered: a static file sent for a link that carries its
        current version never changes under that link, and browsers keep it for a year
        without asking again (core's files anywhere, ``public``; a plugin's files only in the
        member's browser, ``private``, since a plugin may serve them to members only)."""
        for endpoint, send in list(self.view_functions.items()):
            if _serves_files(endpoint):
                self.view_functions[endpoint] = self._kept_for_good(endpoint, send)

    def _kept_for_good(self, endpoint: str, send: Callable[..., Any]) -> Callable[..., Any]:
        kept = f"{'public' if endpoint == 'static' else 'private'}, max-age={A_YEAR}, immutable"

        @functools.wraps(send)
        def send_kept(filename: str) -> Response:
            response: Response = send(filename=filename)  # or NotFound
            # the file's own path only (another spelling of it is sent as before): what is
            # fingerprinted is bounded by the files there are
            if (
                "v" in request.args
                and posixpath.normpath(filename) == filename
                and request.args["v"] == self.file_version(endpoint, filename)
            ):
                response.headers["Cache-Control"] = kept
            return response

        return send_kept


def _serves_files(endpoint: str) -> bool:
    """Core's static files and every plugin blueprint's (``<blueprint>.static``)."""
    return endpoint == "static" or endpoint.endswith(".static")


class DatabaseIntConverter(IntegerConverter):
    """``<int:…>`` in URLs, bounded to what an id column holds: a huge number is a 404, not a
    database error."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(url_map, *args, **kwargs)


def _checked_plugin_settings(
    settings: dict[str, Any], hooks: Hooks, installed: Mapping[str, InstalledPlugin]
) -> dict[str, dict[str, Any]]:
    """Every enabled plugin's ``[plugins.<name>]``, checked against what it declares. Tables
    of plugins that are not enabled are kept as they are, for when they are."""
    raw: dict[str, dict[str, Any]] = settings["PLUGIN_SETTINGS"]
    _report_tables_of_plugins_not_enabled(raw, settings["PLUGINS"], installed)
    declared = hooks.settings()
    checked = dict(raw)
    for name in settings["PLUGINS"]:
        checked[name] = plugin_settings(name, raw.get(name, {}), declared.get(name, {}))
    return checked


def _report_tables_of_plugins_not_enabled(
    tables: Mapping[str, dict[str, Any]],
    enabled: list[str],
    installed: Mapping[str, InstalledPlugin],
) -> None:
    """A ``[plugins.<name>]`` table for no installed plugin is a typo or a missing package:
    startup stops. One for an installed plugin that is not enabled is kept for when it is (an
    operator disabling a plugin, ``ALMA_PLUGINS=... alma db upgrade``), with a warning."""
    enabled_text = ", ".join(enabled) or "none"
    for name in tables:
        if name in enabled:
            continue
        if name not in installed:
            raise ConfigError(
                f"plugins.{name}",
                f"no installed plugin is named {name!r} (enabled plugins: {enabled_text};"
                f" installed: {', '.join(sorted(installed)) or 'none'})",
            )
        logger.warning(
            "[plugins.%s] is ignored: plugin %r is installed but not enabled (enabled plugins: %s)",
            name,
            name,
            enabled_text,
        )


def _harden_session_cookie(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["BASE_URL"].startswith("https://"),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=app.config["BASE_URL"].startswith("https://"),
        REMEMBER_COOKIE_DURATION=timedelta(days=app.config["SESSION_DAYS"]),
        MAX_CONTENT_LENGTH=app.config["PHOTO_MAX_BYTES"] + 1_000_000,
    )


def _init_login(app: Flask) -> None:
    login = LoginManager(app)
    login.login_view = "auth.login"
    login.session_protection = "basic"

    @login.user_loader
    def load_user(cookie_id: str) -> User | None:
        # "<user id>:s<session id>" (see User.get_id); older forms name no session
        user_id, _, session_id = cookie_id.partition(":s")
        if not (user_id.isdigit() and session_id.isdigit()):
            return None
        login = accounts.live_session(int(user_id), int(session_id))
        if login is None:
            return None
        if accounts.seen_long_ago(login):
            write_after_request(functools.partial(accounts.note_seen, login.id))
        return login.user
