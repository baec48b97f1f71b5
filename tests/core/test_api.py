"""The HTTP API's core as an app developer meets it: personal access tokens made and revoked
in My data, who may call what (token scopes, the browser's session with its CSRF token),
errors as problem+json, cursor pagination, rate limits per token, and the OpenAPI document."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from flask import Blueprint
from sqlalchemy import select, update

from core.api import ApiBlueprint, hookimpl, public
from core.db import utcnow
from core.models import ApiToken, Notification, User
from core.services.notifications import notify
from core.services.tokens import create_token
from core.testing import assert_api_routes_refuse_visitors, count_rows, stored

PROBLEM = "application/problem+json"
NEW_TOKEN = re.compile(r'id="new-token"[^>]*value="(alma_pat_[^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def token_of(db, user: User, scope: str = "write") -> str:
    secret = create_token(user, "my app", scope)
    db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def problem_type(response) -> str:
    assert response.mimetype == PROBLEM, response.get_data(as_text=True)
    return response.json["type"]


# ---- tokens in My data -------------------------------------------------------------------------


def test_a_token_is_shown_once_and_only_its_fingerprint_is_kept(app, client, member):
    client.login(member)
    assert "You have no tokens" in client.get("/account/tokens").get_data(as_text=True)

    made = client.post("/account/tokens", data={"name": "Calendar sync", "scope": "read"})
    secret = NEW_TOKEN.search(made.get_data(as_text=True)).group(1)
    assert "Copy it now" in made.get_data(as_text=True)

    listed = client.get("/account/tokens").get_data(as_text=True)
    assert "Calendar sync" in listed and "read only" in listed and "never used" in listed
    assert secret not in listed and secret[:13] in listed  # its first characters name it
    assert secret not in stored(app, select(ApiToken.secret_hash))
    assert stored(app, select(ApiToken.scope)) == "read"

    assert client.get("/api/v1/me", headers=bearer(secret)).json["email"] == "mo@example.org"


def test_a_token_needs_a_name_and_a_known_scope(client, member):
    client.login(member)
    unnamed = client.post("/account/tokens", data={"name": "  ", "scope": "read"})
    assert unnamed.status_code == 400
    assert "Name the token" in unnamed.get_data(as_text=True)
    admin = client.post("/account/tokens", data={"name": "x", "scope": "admin"})
    assert admin.status_code == 400
    assert not NEW_TOKEN.search(admin.get_data(as_text=True))


def test_a_revoked_token_is_refused_and_only_its_owner_can_revoke_it(
    app, client, db, member, outsider
):
    secret = token_of(db, member)
    token_id = stored(app, select(ApiToken.id))

    client.login(outsider)
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200

    client.login(member)
    page = client.post(f"/account/tokens/{token_id}/revoke", follow_redirects=True)
    assert "The token is revoked" in page.get_data(as_text=True)
    refused = client.get("/api/v1/me", headers=bearer(secret))
    assert refused.status_code == 401
    assert problem_type(refused) == "/api/problems/invalid-token"
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_a_token_stops_working_while_its_member_is_suspended_or_deactivated(
    app, client, db, member
):
    secret = token_of(db, member)
    db.session.execute(update(User).where(User.id == member.id).values(suspended_at=utcnow()))
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401

    db.session.execute(
        update(User).where(User.id == member.id).values(suspended_at=None, deactivated_at=utcnow())
    )
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_last_use_is_shown_and_written_at_most_every_few_minutes(app, client, db, member):
    secret = token_of(db, member)
    with time_machine.travel(utcnow(), tick=False) as traveller:
        client.get("/api/v1/me", headers=bearer(secret))
        first = stored(app, select(ApiToken.last_used_at))
        assert first is not None
        traveller.shift(timedelta(minutes=1))
        client.get("/api/v1/me", headers=bearer(secret))
        assert stored(app, select(ApiToken.last_used_at)) == first
        traveller.shift(timedelta(minutes=10))
        client.get("/api/v1/me", headers=bearer(secret))
        assert stored(app, select(ApiToken.last_used_at)) > first
    client.login(member)
    assert "last used" in client.get("/account/tokens").get_data(as_text=True)


# ---- who may call ------------------------------------------------------------------------------


def test_a_call_without_credentials_is_refused_with_how_to_authenticate(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert problem_type(response) == "/api/problems/unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Basic bW86cHc=", "Bearer ", "Bearer alma_pat_made-up"):
        wrong = client.get("/api/v1/me", headers={"Authorization": header})
        assert problem_type(wrong) == "/api/problems/invalid-token", header


def test_a_read_only_token_reads_but_cannot_write(app, client, db, member):
    secret = token_of(db, member, scope="read")
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    refused = client.patch("/api/v1/me", json={"display_name": "Changed"}, headers=bearer(secret))
    assert refused.status_code == 403
    assert problem_type(refused) == "/api/problems/insufficient-scope"
    assert 'scope="write"' in refused.headers["WWW-Authenticate"]
    assert stored(app, select(User.display_name)) == "Mo Member"


def test_a_token_acts_only_as_its_own_member(client, db, member, outsider):
    secret = token_of(db, outsider)
    assert client.get("/api/v1/me", headers=bearer(secret)).json["email"] == "olga@example.org"
    theirs = client.get(f"/api/v1/members/{member.id}", headers=bearer(secret)).json
    assert theirs["display_name"] == "Mo Member"
    assert "email" not in theirs and "timezone" not in theirs


def test_the_browsers_session_reads_and_writes_with_the_pages_csrf_token(make_app, create_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    create_user(email="ada@example.org", display_name="Ada")
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    csrf = CSRF_INPUT.search(page).group(1)
    browser.post(
        "/login",
        data={"email": "ada@example.org", "password": "correct horse battery", "csrf_token": csrf},
    )
    assert browser.get("/api/v1/me").json["display_name"] == "Ada"

    forged = browser.patch("/api/v1/me", json={"display_name": "Forged"})
    assert forged.status_code == 403
    assert problem_type(forged) == "/api/problems/csrf-failed"
    changed = browser.patch(
        "/api/v1/me", json={"display_name": "Ada L."}, headers={"X-CSRFToken": csrf}
    )
    assert changed.status_code == 200
    assert changed.json["display_name"] == "Ada L."


def test_a_token_call_needs_no_csrf_token_and_sets_no_cookie(make_app, create_user, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    secret = token_of(db, create_user(email="ada@example.org"))
    response = app.test_client().patch(
        "/api/v1/me", json={"bio": "From my app"}, headers=bearer(secret)
    )
    assert response.status_code == 200
    assert response.json["bio"] == "From my app"
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


# ---- the member ------------------------------------------------------------------------------


def test_the_profile_changes_by_the_rules_of_the_profile_form(app, client, db, member):
    secret = token_of(db, member)
    changed = client.patch(
        "/api/v1/me",
        json={
            "display_name": " Mo M. ",
            "expertise": ["Python", "python", "Careers"],
            "languages": ["de", "en"],
            "timezone": "Europe/Vienna",
        },
        headers=bearer(secret),
    ).json
    assert changed["display_name"] == "Mo M."
    assert changed["expertise"] == ["Python", "Careers"]
    assert changed["languages"] == ["de", "en"]
    assert changed["timezone"] == "Europe/Vienna"
    assert changed["bio"] == ""  # left out: left as it was

    for wrong, message in [
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"languages": ["xx"]}, "languages"),
        ({"display_name": ""}, "name"),
        ({"display_name": "x" * 81}, "at most 80"),
        ({"expertise": [f"topic {n}" for n in range(13)]}, "at most 12"),
    ]:
        refused = client.patch("/api/v1/me", json=wrong, headers=bearer(secret))
        assert refused.status_code == 422, wrong
        assert problem_type(refused) == "/api/problems/invalid-input"
        assert message in refused.json["detail"], (wrong, refused.json)
    assert stored(app, select(User.timezone)) == "Europe/Vienna"

    typo = client.patch("/api/v1/me", json={"nmae": "x"}, headers=bearer(secret))
    assert typo.status_code == 422
    assert "nmae" in typo.json["errors"]["json"]
    not_json = client.patch("/api/v1/me", data="name=x", headers=bearer(secret))
    assert not_json.status_code == 415
    assert problem_type(not_json) == "/api/problems/unsupported-media-type"


def test_a_body_of_optional_fields_may_be_left_out_as_the_document_says(client, db, member):
    operation = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/me"]["patch"]
    assert operation["requestBody"]["required"] is False
    unchanged = client.patch("/api/v1/me", headers=bearer(token_of(db, member)))
    assert unchanged.status_code == 200 and unchanged.json["display_name"] == "Mo Member"


def test_a_hidden_or_unknown_member_is_not_found(client, db, create_user, member):
    secret = token_of(db, member)
    hidden = create_user(email="hidden@example.org")
    db.session.execute(update(User).where(User.id == hidden.id).values(suspended_at=utcnow()))
    db.session.commit()
    for member_id in (hidden.id, 999_999, 2**31):
        response = client.get(f"/api/v1/members/{member_id}", headers=bearer(secret))
        assert response.status_code == 404, member_id
        assert problem_type(response) == "/api/problems/not-found"


# ---- alerts and pagination ---------------------------------------------------------------------


def test_alerts_come_newest_first_a_page_at_a_time_by_cursor(client, db, member, outsider):
    for number in range(25):
        notify(member, f"Alert {number}")
    notify(outsider, "Not yours")
    db.session.commit()
    secret = token_of(db, member)

    messages, url, pages = [], "/api/v1/alerts?limit=10", 0
    while url:
        response = client.get(url, headers=bearer(secret))
        assert response.status_code == 200
        messages += [alert["message"] for alert in response.json["items"]]
        link = response.headers.get("Link")
        assert (link is None) == (response.json["next"] is None)
        url = link and re.match(r"<http://[^/]+([^>]+)>", link).group(1)
        pages += 1
    assert pages == 3
    assert messages == [f"Alert {number}" for number in reversed(range(25))]

    # an alert arriving meanwhile shifts no page: the cursor names the last one shown
    first = client.get("/api/v1/alerts?limit=10", headers=bearer(secret)).json
    notify(member, "Newer")
    db.session.commit()
    after = client.get(f"/api/v1/alerts?limit=10&after={first['next']}", headers=bearer(secret))
    assert after.json["items"][0]["message"] == "Alert 14"


def test_a_bad_cursor_or_limit_is_a_problem(client, db, member):
    secret = token_of(db, member)
    for query, kind, status in [
        ("after=not-ours", "/api/problems/invalid-cursor", 400),
        ("after=" + "A" * 30, "/api/problems/invalid-cursor", 400),
        ("after=azk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", "/api/problems/invalid-cursor", 400),
        ("limit=0", "/api/problems/invalid-input", 422),
        ("limit=101", "/api/problems/invalid-input", 422),
        ("limit=ten", "/api/problems/invalid-input", 422),
    ]:
        response = client.get(f"/api/v1/alerts?{query}", headers=bearer(secret))
        assert response.status_code == status, query
        assert problem_type(response) == kind, query


def test_alerts_are_marked_read_one_or_all_and_only_ones_own(app, client, db, member, outsider):
    mine = notify(member, "Mine")
    notify(member, "Also mine")
    theirs = notify(outsider, "Theirs")
    db.session.commit()
    secret = token_of(db, member)
    assert client.get("/api/v1/alerts/unread", headers=bearer(secret)).json == {"unread": 2}

    one = client.post(f"/api/v1/alerts/{mine.id}/read", headers=bearer(secret))
    assert one.json == {"unread": 1}
    assert client.post(f"/api/v1/alerts/{mine.id}/read", headers=bearer(secret)).json == {
        "unread": 1
    }
    other = client.post(f"/api/v1/alerts/{theirs.id}/read", headers=bearer(secret))
    assert other.status_code == 404
    assert stored(app, select(Notification.read_at).where(Notification.id == theirs.id)) is None
    assert client.post("/api/v1/alerts/read", headers=bearer(secret)).json == {"unread": 0}


# ---- errors, limits and the document -----------------------------------------------------------


class Probe:
    """A throwaway plugin with an API part: a public route, and one that fails."""

    @hookimpl
    def register_api_blueprints(self) -> list[Blueprint]:
        bp = ApiBlueprint("probe", __name__, url_prefix="/probe", description="A probe.")

        @bp.get("/hello")
        @public
        def hello():
            return {"hello": "world"}

        @bp.get("/broken")
        def broken():
            raise RuntimeError("a bug")

        return [bp]


@pytest.fixture
def probed(make_app):
    return make_app(extra_plugins={"probe": Probe()}, PLUGINS=["probe"])


def test_a_plugins_part_joins_the_api_and_its_document(probed, db, create_user):
    client = probed.test_client()
    assert client.get("/api/v1/probe/hello").json == {"hello": "world"}  # public
    document = client.get("/api/v1/openapi.json").json
    assert "/api/v1/probe/hello" in document["paths"]
    assert {"name": "probe", "description": "A probe."} in document["tags"]
    assert document["paths"]["/api/v1/probe/hello"]["get"]["tags"] == ["probe"]


def test_the_document_says_which_operations_need_no_caller(probed):
    document = probed.test_client().get("/api/v1/openapi.json").json
    assert document["security"] == [{"token": []}, {"session": []}]  # every operation's
    operations = document["paths"]
    assert operations["/api/v1/probe/hello"]["get"]["security"] == []
    assert "security" not in operations["/api/v1/probe/broken"]["get"]  # the document's
    assert "security" not in operations["/api/v1/me"]["get"]


def test_a_crash_an_unknown_address_and_a_wrong_method_are_problems(probed, db, create_user):
    probed.config["PROPAGATE_EXCEPTIONS"] = False
    client = probed.test_client()
    secret = token_of(db, create_user(email="ada@example.org"))
    crash = client.get("/api/v1/probe/broken", headers=bearer(secret))
    assert crash.status_code == 500
    assert problem_type(crash) == "/api/problems/server-error"
    assert "a bug" not in crash.get_data(as_text=True)
    unknown = client.get("/api/v1/nothing-here", headers=bearer(secret))
    assert problem_type(unknown) == "/api/problems/not-found"
    wrong = client.delete("/api/v1/me", headers=bearer(secret))
    assert wrong.status_code == 405
    assert problem_type(wrong) == "/api/problems/method-not-allowed"
    assert "GET" in wrong.headers["Allow"]
    described = client.get("/api/problems/invalid-token").json
    assert described["status"] == 401 and "token" in described["description"]


def test_each_token_has_its_own_rate_limit_with_headers(make_app, create_user, db):
    app = make_app(RATE_LIMITS={"api": "3/minute"})
    client = app.test_client()
    first = token_of(db, create_user(email="ada@example.org"))
    second = token_of(db, create_user(email="bob@example.org"))
    remaining = []
    for _ in range(3):
        response = client.get("/api/v1/me", headers=bearer(first))
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "3"
        remaining.append(response.headers["RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    refused = client.get("/api/v1/me", headers=bearer(first))
    assert refused.status_code == 429
    assert problem_type(refused) == "/api/problems/rate-limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_the_document_is_openapi_3_1_and_every_error_is_a_problem(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert set(document["components"]["securitySchemes"]) == {"token", "session"}
    assert {"/api/v1/me", "/api/v1/alerts", "/api/v1/members/{member_id}"} <= set(document["paths"])
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # the path's own, such as {member_id}
                continue
            assert operation.get("summary") or operation.get("description"), (path, method)
            for status, answer in operation["responses"].items():
                if "$ref" in answer or not status.startswith(("4", "5")):
                    continue
                assert list(answer["content"]) == [PROBLEM], (path, method, status)
    for name, answer in document["components"].get("responses", {}).items():
        if "content" in answer:
            assert list(answer["content"]) == [PROBLEM], name


def test_every_api_route_refuses_visitors_and_read_only_tokens_on_writes(app, client, db, member):
    """The route x role rule of the API, for every route any enabled part adds."""
    assert_api_routes_refuse_visitors(app, client, bearer(token_of(db, member, scope="read")))
    assert count_rows(app, ApiToken) == 1


def test_the_data_export_lists_the_tokens_but_never_a_secret(db, member):
    from core.services.exports import core_part

    secret = token_of(db, member, scope="read")
    exported = core_part(member).data["api_tokens"]
    assert [(token["name"], token["scope"]) for token in exported] == [("my app", "read")]
    assert secret not in repr(exported) and exported[0]["starts_with"] == secret[:13]


def test_erasing_an_account_deletes_its_tokens(app, db, member, outsider):
    from core.services.lifecycle import erase_account

    token_of(db, member)
    token_of(db, outsider)
    db.session.execute(update(User).where(User.id == member.id).values(deactivated_at=utcnow()))
    erase_account(db.session.get(User, member.id))
    db.session.commit()
    assert count_rows(app, ApiToken) == 1
    assert count_rows(app, ApiToken, ApiToken.user_id == outsider.id) == 1


def test_a_profile_the_moderators_hid_shows_no_bio_or_photo_to_others(client, db, member, outsider):
    db.session.execute(
        update(User)
        .where(User.id == member.id)
        .values(bio="offensive bio", photo="abc.jpg", profile_hidden_at=utcnow())
    )
    db.session.commit()
    theirs = client.get(f"/api/v1/members/{member.id}", headers=bearer(token_of(db, outsider)))
    assert (theirs.json["bio"], theirs.json["photo_url"], theirs.json["hidden"]) == ("", None, True)
    own = client.get("/api/v1/me", headers=bearer(token_of(db, member))).json
    assert own["bio"] == "offensive bio" and own["hidden"] is True


def test_two_views_of_one_name_in_a_part_are_refused():
    # flask-smorest would call the second "approve_1", a name that moves with every route
    bp = ApiBlueprint("twice", __name__, url_prefix="/twice", description="Twice.")

    @bp.post("/meetings/<int:meeting_id>/approve")
    def approve(meeting_id: int):
        return {}

    with pytest.raises(ValueError, match="two views named 'approve'"):

        @bp.post("/agreements/<int:agreement_id>/approve")
        def approve(agreement_id: int):  # the mistake under test
            return {}

    @bp.post("/agreements/<int:agreement_id>/approve", endpoint="approve_agreement")
    def approve_agreement(agreement_id: int):
        return {}
