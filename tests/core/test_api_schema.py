"""The HTTP API keeps the promises of its own OpenAPI document: Schemathesis reads
``/api/v1/openapi.json`` of an app with every installed plugin (the example one too) and
calls every operation it describes, with data it makes from the document, valid and not,
as a member with a write token and rows of their own to find. No answer may be a server
error; every answer's status, content type and body must be the ones the document gives.

An operation a plugin adds is in the document, so it is called here without a change to
this file. The examples are few per operation and derandomized (the same ones every run),
so that CI stays fast and never flakes; a failure shows the call as ``curl``."""

from __future__ import annotations

import re
import traceback
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.testing import all_installed_plugins, token_headers

EXAMPLES_PER_OPERATION = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def alma_plugins() -> list[str]:
    return all_installed_plugins()


@pytest.fixture
def api_app(make_app):
    # Schemathesis calls as fast as it can: the token's limit would answer most calls 429
    return make_app(RATE_LIMITS={"api": "100000/minute"})


@pytest.fixture
def world(api_app, db, create_user) -> dict[str, Any]:
    """A small site the caller takes part in: a mentor and a mentee with an accepted
    mentorship and its chat, a pending request, a wiki article, a group; the caller is the
    mentee. Generated ids sometimes hit these rows."""
    from plugins.groups.services import directory as groups
    from plugins.mentoring.services import chat, lifecycle
    from plugins.wiki import services as wiki

    mentor = create_user(display_name="Max Mentor", wants_to_mentor=True)
    other_mentor = create_user(display_name="Nina Mentor", wants_to_mentor=True)
    mentee = create_user(display_name="Mia Mentee", wants_to_be_mentored=True)
    mentorship = lifecycle.send_request(mentee, mentor, "Would you mentor me in Python?")
    db.session.flush()
    lifecycle.accept_request(mentorship.id, mentor)
    for text in ("Hello!", "When shall we meet?"):
        chat.post_message(mentorship.id, mentee, text)
    chat.post_message(mentorship.id, mentor, "Tuesday?")
    lifecycle.send_request(mentee, other_mentor, "And you?")
    wiki.create_article(mentee, "Your first meeting", "Meet for **an hour**.", tags="meetings")
    groups.create_group(mentor, name="Python learners")
    db.session.commit()
    return {"caller": mentee, "headers": token_headers(mentee)}


def test_every_operation_answers_as_the_document_says(api_app, world):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)
    operations = [result.ok() for result in schema.get_all_operations()]  # a wrong one fails here
    assert {operation.label for operation in operations} == set(api_views(api_app))
    failures = {}
    for operation in operations:
        try:
            call_with_made_up_data(operation, world["headers"])
        except Exception as failure:  # each operation's, reported together below
            failures[operation.label] = "".join(traceback.format_exception_only(failure))
    assert not failures, "\n\n".join(f"{label}: {error}" for label, error in failures.items())


def test_the_document_says_which_operations_anyone_may_call(api_app):
    """A ``@public`` view (a certificate's verification) needs no caller: ``security: []``;
    every other operation needs the document's token or session."""
    document = api_app.test_client().get("/api/v1/openapi.json").json
    assert document["security"] == [{"token": []}, {"session": []}]
    public = set()
    for route, view in api_views(api_app).items():
        method, path = route.split(" ")
        needs = document["paths"][path][method.lower()].get("security", document["security"])
        if getattr(view, "api_public", False):
            public.add(route)
            assert needs == [], route
        else:
            assert needs == document["security"], route
    assert "GET /api/v1/certificates/{number}/verify" in public


def api_views(app) -> dict[str, Any]:
    """The view of each operation under /api/v1, by its name in the document."""
    views = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            views[f"{method} {path}"] = app.view_functions[rule.endpoint]
    return views


def call_with_made_up_data(operation: Any, headers: dict[str, str]) -> None:
    """Call ``operation`` with a few requests the document allows and a few it forbids;
    raise what the first one that fails a check found."""
    made_up = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,  # the same requests every run: CI never flakes
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is clear
        suppress_health_check=list(HealthCheck),
    )
    @given(case=made_up)
    def call(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()
