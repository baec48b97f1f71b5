"""alma's HTTP API, ``/api/v1/``: JSON in and out, for members' apps and the programme's
other systems. Core and each plugin contribute parts (``ApiBlueprint``, hook
``register_api_blueprints``) to one OpenAPI 3.1 document, generated from the code by
flask-smorest and served at ``/api/v1/openapi.json``, with a reader at ``/api/docs``.

Every part works the same way: the caller is authenticated first (``core.webapi.auth``),
errors are ``application/problem+json`` (``core.webapi.problems``), most lists are paginated
by cursor (``core.webapi.pagination``; the few whose order changes as one reads by page
number, as on the site), and the views call the same
services as the pages, so nothing the browser refuses is possible here. docs/api.md is the
guide."""

from __future__ import annotations

import http
import threading
from collections.abc import Callable
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import APISpec
from flask import Flask, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core.db import LARGEST_ID
from core.errors import DomainError
from core.webapi import auth, preconditions, problems

PREFIX = "/api/v1"
VERSION = "1.0"


class ProblemSchema(ma.Schema):
    """An error (RFC 9457)."""

    type = ma.fields.String(required=True, metadata={"description": "What kind of error."})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(metadata={"description": "What went wrong, for people."})
    errors = ma.fields.Dict(metadata={"description": "Each wrong field's messages."})


class ChangedMeanwhileSchema(ProblemSchema):
    """412 ``precondition-failed``: the resource changed since the version ``If-Match``
    named; its ``ETag`` header names the version now."""

    current = ma.fields.Dict(
        metadata={"description": "The resource as it is now, to merge with and send again."}
    )


ETAG_HEADER: dict[str, Any] = {
    "ETag": {
        "description": "The version read, to send back in `If-Match` with a change.",
        "schema": {"type": "string"},
    }
}
"""The OpenAPI description of a response's ``ETag`` header, for ``@bp.response(...,
headers=ETAG_HEADER)`` on a view that answers a version of a resource."""


class IdField(ma.fields.Integer):
    """A row's id or number sent in a body or a query (``mentor_id``, a version's number): a
    whole number an id column holds, 1 to 2**31 - 1, as ``<int:...>`` in a path. Anything
    else is invalid input (422), not a query the database fails on; the document says the
    range. In a body it must be a JSON integer (``7.5`` is not cut to 7); in a query, where
    every value is text, give ``strict=False``."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("strict", True)
        options.setdefault("validate", ma.validate.Range(1, LARGEST_ID))
        super().__init__(**options)


class PageField(IdField):
    """``?page=`` of a list paged by number (one whose order is not the newest first):
    1 when left out."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("strict", False)
        options.setdefault("load_default", 1)
        options.setdefault("metadata", {"description": "From 1."})
        super().__init__(**options)


class ApiBlueprint(flask_smorest.Blueprint):
    """A part of the API, under ``/api/v1`` + ``url_prefix``. Its views are described by
    flask-smorest's decorators (``@bp.arguments(Schema)``, ``@bp.response(200, Schema)``)
    and need a caller: a token, whose scope must allow writing for any method but GET, or
    the browser's session; ``@public`` opens one to anyone."""

    def __init__(self, name: str, import_name: str, **options: Any) -> None:
        # "api_wiki" for Flask (beside the pages' "wiki"), "wiki" in the document
        super().__init__(f"api_{name}", import_name, **options)
        self.tag = name
        self.before_request(auth.authenticate_call)
        self.before_request(_json_bodies_only)
        self.after_request(auth.quota_headers)
        self.register_error_handler(HTTPException, problems.problem_of_http_error)
        self.register_error_handler(DomainError, problems.problem_of_domain_error)
        self.register_error_handler(problems.Problem, _answer_problem)
        self.register_error_handler(CSRFError, _csrf_problem)

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        *args: Any,
        **options: Any,
    ) -> None:
        """As flask-smorest's, but two views of one name are refused: it would rename the
        second ``approve_29`` after the number of routes before it, an endpoint name (for
        ``url_for``) that changes whenever a route is added."""
        name = endpoint or getattr(view_func, "__name__", None)
        if name in self._endpoints:  # type: ignore[attr-defined]  # flask-smorest's own list
            raise ValueError(
                f"{self.name}: two views named {name!r}; name one differently (or endpoint=)"
            )
        super().add_url_rule(rule, endpoint, view_func, *args, **options)

    def needs_if_match(self) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Describes a view that changes a resource only on the version read
        (``core.webapi.preconditions``): its ``If-Match`` header, and the problems it answers,
        428 without one and 412 (with the resource now) when the resource changed since."""
        required = self.alt_response(
            428,
            schema=ProblemSchema,
            content_type=problems.MEDIA_TYPE,
            description="precondition-required: send If-Match with the ETag read.",
        )
        failed = self.alt_response(
            412,
            schema=ChangedMeanwhileSchema,
            content_type=problems.MEDIA_TYPE,
            description="precondition-failed: the resource changed since the version named.",
            headers=ETAG_HEADER,
        )
        header = self.doc(parameters=[preconditions.IF_MATCH])

        def describe(view: Callable[..., Any]) -> Callable[..., Any]:
            return header(failed(required(view)))

        return describe

    def route(self, rule: str, *, tags: list[str] | None = None, **options: Any) -> Any:
        return super().route(rule, tags=tags or [self.tag], **options)

    def arguments(  # type: ignore[override]  # required: None means "as the schema says"
        self, schema: Any, *, location: str = "json", required: bool | None = None, **options: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """flask-smorest's, where a JSON body is required (in the document) only if one of its
        fields is: a body of optional fields may be left out, and is then read as ``{}``."""
        if required is None:
            required = location != "json" or _has_required_field(schema)
        decorate: Callable[[Callable[..., Any]], Callable[..., Any]] = super().arguments(
            schema, location=location, required=required, **options
        )
        return decorate


class AlmaApi(flask_smorest.Api):
    """flask-smorest's Api, whose errors are core's problems: it registers no error handler
    of its own (core's answer HTML pages and API calls alike) and documents errors as
    ``application/problem+json``.

    Its OpenAPI document is written when something first reads ``spec`` (the document's
    route, ``flask openapi``), not while the app is built: describing every view's schemas
    was half the time of building an app, which every web process, command and test paid,
    and most never serve the document. A description that fails raises at that read."""

    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app: Flask, **options: Any) -> None:
        self._undocumented: list[Callable[[APISpec], object]] = []
        self._documenting = threading.RLock()
        self._parts_registered = False
        super().__init__(app, **options)

    @property
    def spec(self) -> Any:
        """The OpenAPI document; once every part is registered, with every part described."""
        with self._documenting:
            while self._parts_registered and self._undocumented:
                assert self._spec is not None, "described before flask-smorest made the spec"
                self._undocumented[0](self._spec)
                self._undocumented.pop(0)
        return self._spec

    @spec.setter
    def spec(self, spec: APISpec | None) -> None:
        self._spec = spec

    def document_later(self, describe: Callable[[APISpec], object]) -> None:
        """Have ``describe(spec)`` write its part of the document when it is first read."""
        self._undocumented.append(describe)

    def all_parts_registered(self) -> None:
        """From now on, reading ``spec`` writes what was left to describe (before, only
        flask-smorest's own setup reads it, to add its fields and headers)."""
        self._parts_registered = True

    def _register_error_handlers(self) -> None:
        pass

    def register_blueprint(self, blp: ApiBlueprint, **options: Any) -> None:  # type: ignore[override]
        """flask-smorest's, with the part's own name (``wiki``) as its tag in the document."""
        self._app.extensions["flask-smorest"]["blp_name_to_api"][blp.name] = self
        self._app.register_blueprint(blp, **options)
        self.document_later(
            lambda spec: blp.register_views_in_doc(
                self, self._app, spec, name=blp.name, parameters=None
            )
        )
        self.document_later(
            lambda spec: spec.tag({"name": blp.tag, "description": blp.description})
        )

    def _register_responses(self) -> None:
        self.document_later(_describe_responses)


def _describe_responses(spec: APISpec) -> None:
    """Every HTTP status as a response the views' documentation can name, errors as
    problems."""
    for status in http.HTTPStatus:
        response: dict[str, Any] = {"description": status.phrase}
        if status >= 400:
            response["content"] = {problems.MEDIA_TYPE: {"schema": ProblemSchema}}
        spec.components.response(status.name, response, lazy=True)
    default = {
        "description": "Default error response",
        "content": {problems.MEDIA_TYPE: {"schema": ProblemSchema}},
    }
    spec.components.response("DEFAULT_ERROR", default, lazy=True)


def init_api(app: Flask, parts: list[ApiBlueprint]) -> None:
    """Serve core's and the plugins' API ``parts`` and their OpenAPI document."""
    from core.webapi import alerts, docs, goals, members

    app.config.update(
        API_TITLE="alma",
        API_VERSION=VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
    )
    about = {
        "description": "alma's HTTP API. Make a personal access token on My data, Apps and "
        "API, and send it as `Authorization: Bearer <token>`. Errors are "
        "application/problem+json. Most lists are paginated by cursor (`?after=`); the few "
        "whose order changes as one reads, by number (`?page=`), as each one's parameters say."
    }
    api = AlmaApi(app, spec_kwargs={"info": about, "security": [{"token": []}, {"session": []}]})
    api.document_later(_describe_security_schemes)
    csrf: Any = app.extensions["csrf"]
    for part in [members.bp, alerts.bp, goals.bp, *parts]:
        csrf.exempt(part)  # checked by auth.authenticate_call, for session calls only
        api.register_blueprint(part, url_prefix=PREFIX + (part.url_prefix or ""))
    api.all_parts_registered()
    app.register_blueprint(problems.bp)
    app.register_blueprint(docs.bp)


def _describe_security_schemes(spec: APISpec) -> None:
    spec.components.security_scheme(
        "token",
        {"type": "http", "scheme": "bearer", "description": "A personal access token."},
    )
    spec.components.security_scheme(
        "session",
        {"type": "apiKey", "in": "cookie", "name": "session", "description": "The browser's."},
    )


def _has_required_field(schema: ma.Schema | type[ma.Schema]) -> bool:
    fields = (schema() if isinstance(schema, type) else schema).fields
    return any(field.required for field in fields.values())


def _json_bodies_only() -> Any:
    """A body the API reads is JSON: a form or text sent by mistake is refused, not taken for
    an empty change."""
    if request.content_length and not request.is_json:
        return problems.problem("unsupported-media-type", _("Send the body as application/json."))
    return None


def _answer_problem(error: problems.Problem) -> Any:
    response = problems.problem(error.name, error.detail, **error.members)
    response.headers.update(error.headers)
    return response


def _csrf_problem(error: CSRFError) -> Any:
    return problems.problem("csrf-failed", _("Send the page's CSRF token in X-CSRFToken."))
