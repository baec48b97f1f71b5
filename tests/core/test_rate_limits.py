"""Rate limits as a visitor meets them: registering, mailed links and failed logins counted
per IP address, a 429 that says how long to wait and gives the form back filled, the count
freed as time passes; counted in memory or in Redis (shared by several web processes), and
a Redis that is down or stalled never stops a write. Plugins' limits (chat, forum, wiki,
groups, requests) are tested with each plugin."""

from __future__ import annotations

import logging
import re
import secrets
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Blueprint

from core.config import ConfigError, load_settings
from core.hookspecs import hookimpl
from core.models import User
from core.ratelimits import RETRY_EVERY, STORAGE_TIMEOUT, rate_limit, rate_limited, storage_url
from core.testing import TEST_PASSWORD, body_of, count_rows, path_of

START = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
LINK = re.compile(r"http://alma\.test/\S+")


def browser(app, address="203.0.113.7"):
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=address)
    return client


def register(client, n: int):
    return client.post(
        "/register",
        data={
            "display_name": f"Newcomer {n}",
            "email": f"new{n}@example.org",
            "password": "a long enough password",
        },
    )


def text_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of this test's own in the shared Redis on 127.0.0.1:6379."""
    return f"alma-test-{secrets.token_hex(6)}"


# ---- registering, per IP address ----------------------------------------------------------


def test_registering_too_often_gives_a_429_with_the_form_filled_until_the_hour_passes(
    make_app, clock, rate_limit_storage
):
    app = make_app(RATE_LIMIT_STORAGE_URL=rate_limit_storage, RATE_LIMITS={"register": "2/hour"})
    visitor = browser(app)
    assert register(visitor, 1).status_code == 302
    assert register(visitor, 2).status_code == 302

    refused = register(visitor, 3)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3600"
    page = text_of(refused)
    assert "You did this too often for now. Try again in 60 minutes." in page
    assert 'value="Newcomer 3"' in page and 'value="new3@example.org"' in page
    assert count_rows(app, User, User.email == "new3@example.org") == 0

    other_network = browser(app, address="198.51.100.20")
    assert register(other_network, 4).status_code == 302  # counted apart

    clock.shift(timedelta(minutes=30))
    waiting = register(visitor, 3)
    assert waiting.status_code == 429 and "Try again in 30 minutes." in text_of(waiting)
    clock.shift(timedelta(minutes=31))
    assert register(visitor, 3).status_code == 302
    assert count_rows(app, User, User.email == "new3@example.org") == 1


def test_a_refused_form_counts_nothing(make_app):
    app = make_app(RATE_LIMITS={"register": "1/hour"})
    visitor = browser(app)
    bad = visitor.post("/register", data={"display_name": "X", "email": "not an address"})
    assert bad.status_code == 200  # the form's own errors, not a limit
    assert register(visitor, 1).status_code == 302


def test_the_default_limits_hold_without_settings(make_app):
    app = make_app()
    visitor = browser(app)
    for n in range(10):  # the default: 10 registrations an hour from one address
        assert register(visitor, n).status_code == 302
    assert register(visitor, 10).status_code == 429


# ---- mailed links, per IP address ---------------------------------------------------------


@pytest.mark.parametrize("form", ["/reset", "/login/link", "/confirm"])
def test_link_mails_are_limited_per_address_and_the_address_typed_stays(make_app, mail, form):
    app = make_app(RATE_LIMITS={"link-mail": "2/hour"})
    visitor = browser(app)
    for n in range(2):
        assert visitor.post(form, data={"email": f"who{n}@example.org"}).status_code == 302

    refused = visitor.post(form, data={"email": "third@example.org"})

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 3500
    assert 'value="third@example.org"' in text_of(refused)
    assert "Try again in 60 minutes." in text_of(refused)


def test_a_limited_reset_form_mails_nothing(make_app, mail, create_user):
    create_user(email="ada@example.org")
    app = make_app(RATE_LIMITS={"link-mail": "1/hour"})
    visitor = browser(app)
    visitor.post("/reset", data={"email": "nobody@example.org"})
    assert visitor.post("/reset", data={"email": "ada@example.org"}).status_code == 429
    assert mail.to("ada@example.org") == []


# ---- logging in: spraying many accounts from one address ----------------------------------


def log_in(client, email, password=TEST_PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def test_failed_logins_across_accounts_stop_their_address_but_not_the_login_link(
    make_app, mail, create_user, clock, rate_limit_storage
):
    create_user(email="ada@example.org")
    for n in range(3):
        create_user(email=f"user{n}@example.org")
    app = make_app(
        RATE_LIMIT_STORAGE_URL=rate_limit_storage, RATE_LIMITS={"login-failure": "3/hour"}
    )
    sprayer = browser(app, address="198.51.100.9")
    for n in range(3):  # one guess on each of three accounts: no pair reaches its limit
        assert log_in(sprayer, f"user{n}@example.org", "Summer2027!").status_code == 401

    refused = log_in(sprayer, "ada@example.org")  # even the right password waits

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == 3600
    assert "Too many failed logins from your network. Try again in 60 minutes" in text_of(refused)
    assert 'value="ada@example.org"' in text_of(refused)

    # Ada elsewhere is not slowed down, and on the same network the mailed link still works
    assert log_in(browser(app, address="203.0.113.7"), "ada@example.org").status_code == 302
    page = sprayer.post("/login/link", data={"email": "ada@example.org"}, follow_redirects=True)
    assert page.status_code == 200
    [message] = mail.deliver()
    [link] = LINK.findall(body_of(message))
    assert sprayer.get(path_of(link)).location == "/me"
    assert sprayer.get("/account").status_code == 200

    sprayer.post("/logout")
    clock.shift(timedelta(minutes=61))
    assert log_in(sprayer, "ada@example.org").status_code == 302


def test_logging_in_often_never_counts(make_app, create_user):
    create_user(email="ada@example.org")
    app = make_app(RATE_LIMITS={"login-failure": "2/hour"})
    ada = browser(app)
    for _ in range(4):
        assert log_in(ada, "ada@example.org").status_code == 302
        ada.post("/logout")


# ---- the API for plugins: rate_limited on a view ------------------------------------------


class Shouter:
    """A third party's plugin: a view limited with the decorator."""

    @hookimpl
    def register_blueprints(self):
        bp = Blueprint("shouter", __name__)

        @bp.route("/shout", methods=["GET", "POST"])
        @rate_limited("shouter-shout", "2/minute")
        def shout():
            return "shouted"

        return [bp]


def test_rate_limited_views_answer_429_after_the_limit_for_that_member_only(
    make_app, create_user, clock
):
    app = make_app(extra_plugins={"shouter": Shouter()}, PLUGINS=["shouter"])
    loud, quiet = create_user(), create_user()
    client = app.test_client()
    client.login(loud)
    for _ in range(3):
        assert client.get("/shout").status_code == 200  # reading is not counted
    assert client.post("/shout").status_code == 200
    assert client.post("/shout").status_code == 200

    refused = client.post("/shout")

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert "Try again in 60 seconds." in text_of(refused)
    other = app.test_client()
    other.login(quiet)  # same address, another member: counted apart
    assert other.post("/shout").status_code == 200
    clock.shift(timedelta(seconds=61))
    assert client.post("/shout").status_code == 200


def test_several_limits_of_one_name_must_all_hold_and_a_refusal_counts_nowhere(
    make_app, create_user, clock
):
    app = make_app(
        extra_plugins={"shouter": Shouter()},
        PLUGINS=["shouter"],
        RATE_LIMITS={"shouter-shout": "2/minute;3/hour"},
    )
    client = app.test_client()
    client.login(create_user())
    assert [client.post("/shout").status_code for _ in range(3)] == [200, 200, 429]
    clock.shift(timedelta(seconds=61))
    assert client.post("/shout").status_code == 200  # the third of the hour: not the refusal
    refused = client.post("/shout")
    assert refused.status_code == 429
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600 - 61


def test_a_limit_is_declared_once():
    assert rate_limit("test-once", "3/hour") is rate_limit("test-once", "3/hour")
    with pytest.raises(ValueError, match="declared twice"):
        rate_limit("test-once", "4/hour")
    with pytest.raises(ValueError):
        rate_limit("test-bad", "three a day")


# ---- settings -----------------------------------------------------------------------------


def test_rate_limit_settings_are_checked_and_read_from_the_environment(tmp_path):
    environ = {"ALMA_RATE_LIMITS": "wiki-edit=60/hour, register=5/minute;50/day"}
    settings = load_settings(tmp_path, environ=environ)
    assert settings["RATE_LIMITS"] == {"wiki-edit": "60/hour", "register": "5/minute;50/day"}
    with pytest.raises(ConfigError, match="RATE_LIMITS"):
        load_settings(tmp_path, {"RATE_LIMITS": {"register": "lots"}}, environ={})
    with pytest.raises(ConfigError, match="RATE_LIMITS"):
        load_settings(tmp_path, environ={"ALMA_RATE_LIMITS": "register"})
    with pytest.raises(ConfigError, match="RATE_LIMIT_STORAGE_URL"):
        load_settings(tmp_path, {"RATE_LIMIT_STORAGE_URL": "http://cache"}, environ={})


def test_counts_are_kept_in_the_message_queues_redis_unless_told_otherwise(tmp_path):
    queue = "redis://127.0.0.1:6379/0"
    plain = load_settings(tmp_path, environ={})
    assert storage_url(plain) == "memory://"
    assert storage_url(load_settings(tmp_path, {"SOCKETIO_MESSAGE_QUEUE": queue}, {})) == queue
    own = {"SOCKETIO_MESSAGE_QUEUE": queue, "RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:6379/3"}
    assert storage_url(load_settings(tmp_path, own, {})) == "redis://127.0.0.1:6379/3"


# ---- Redis --------------------------------------------------------------------------------


def test_web_processes_sharing_redis_share_the_counts(make_app, redis_prefix, clock):
    settings = {
        "RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0",
        "RATE_LIMIT_KEY_PREFIX": redis_prefix,
        "RATE_LIMITS": {"register": "2/hour"},
    }
    first, second = make_app(**settings), make_app(**settings)
    assert register(browser(first), 1).status_code == 302
    assert register(browser(second), 2).status_code == 302

    refused = register(browser(first), 3)

    assert refused.status_code == 429 and 'value="new3@example.org"' in text_of(refused)
    assert register(browser(second), 3).status_code == 429
    clock.shift(timedelta(minutes=61))  # the moving window's time is the web process's
    assert register(browser(second), 3).status_code == 302


def test_sites_sharing_redis_count_apart(make_app, redis_prefix):
    def site(prefix):
        return make_app(
            RATE_LIMIT_STORAGE_URL="redis://127.0.0.1:6379/0",
            RATE_LIMIT_KEY_PREFIX=prefix,
            RATE_LIMITS={"register": "1/hour"},
        )

    assert register(browser(site(redis_prefix + "-a")), 1).status_code == 302
    assert register(browser(site(redis_prefix + "-b")), 2).status_code == 302


def test_writes_go_through_while_redis_is_down_and_are_counted_once_it_is_back(
    make_app, redis_server, caplog
):
    app = make_app(SOCKETIO_MESSAGE_QUEUE=redis_server.url, RATE_LIMITS={"register": "1/hour"})
    visitor = browser(app)
    redis_server.kill()

    with caplog.at_level(logging.WARNING, logger="core.ratelimits"):
        for n in range(3):
            assert register(visitor, n).status_code == 302
            time.sleep(RETRY_EVERY)  # asked again each time: still down, still not refused
        assert caplog.text.count("rate limit storage did not answer") == 1  # not per request
        assert count_rows(app, User) == 3

        redis_server.start()
        time.sleep(RETRY_EVERY + 0.1)
        assert register(visitor, 3).status_code == 302
        assert register(visitor, 4).status_code == 429
    assert "rate limit storage answers again" in caplog.text


def test_a_stalled_redis_delays_a_write_by_its_timeout_only(make_app, redis_server):
    app = make_app(SOCKETIO_MESSAGE_QUEUE=redis_server.url, RATE_LIMITS={"register": "1/hour"})
    visitor = browser(app)
    assert visitor.get("/register").status_code == 200  # the process is warm
    redis_server.pause()
    try:
        started = time.monotonic()
        assert register(visitor, 1).status_code == 302
        assert register(visitor, 2).status_code == 302  # not asked again at once
        assert time.monotonic() - started < 2 * STORAGE_TIMEOUT + 2
    finally:
        redis_server.resume()
