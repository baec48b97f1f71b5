"""Redis, the message queue of several web processes, killed, stalled and started again under
a running site (a private redis-server of the test's own): members still log out, change
their password and connect; once Redis is back, live events cross processes again within
seconds and every open page is told to resync."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from core.realtime import PING_EVERY, REDIS_TIMEOUT, RETRY_EVERY
from core.services.notifications import notify
from core.testing import TEST_PASSWORD, SocketClient, session_cookie

TIMEOUT = 10  # seconds to wait for something that should happen (a loaded CI machine is slow)


@pytest.fixture
def web(make_app, redis_server) -> Callable[[], Flask]:
    """``web()``: one more web process of the same site, sharing the private Redis."""
    channel = f"alma-test-{secrets.token_hex(4)}"
    return lambda: make_app(SOCKETIO_MESSAGE_QUEUE=redis_server.url, SOCKETIO_CHANNEL=channel)


@pytest.fixture
def tab(serve) -> Iterator[Callable[..., SocketClient]]:
    """``tab(app, user)``: a member's page connected to ``app``, keeping its alerts and
    resyncs, and whether it was disconnected (``gone``)."""
    tabs: list[SocketClient] = []

    def open_(app: Flask, user) -> SocketClient:
        page = SocketClient("alerts", "resync")
        page.gone = threading.Event()
        page.client.on("disconnect", lambda *args: page.gone.set())
        page.client.connect(
            serve(app),
            headers={"Cookie": f"session={session_cookie(app, user)}"},
            transports=["polling"],
            wait_timeout=TIMEOUT,
        )
        tabs.append(page)
        return page

    yield open_
    for page in tabs:
        if page.client.connected:
            page.client.disconnect()


def timed(action: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    return action(), time.monotonic() - started


def test_logout_works_while_redis_is_down(web, tab, redis_server, create_user):
    site = web()
    member = create_user()
    page = tab(site, member)
    browser = site.test_client()
    browser.login(member)
    redis_server.kill()

    response = browser.post("/logout")

    assert response.status_code == 302
    assert "/login" in browser.get("/me").location  # logged out
    assert page.gone.wait(TIMEOUT), "the connection of this process stayed open"


def test_a_password_change_works_while_redis_is_down(web, tab, redis_server, create_user):
    site = web()
    member = create_user(email="ada@example.org")
    other_device = tab(site, member)
    browser = site.test_client()
    browser.login(member)
    redis_server.kill()

    response = browser.post(
        "/account/password",
        data={
            "pw-current_password": TEST_PASSWORD,
            "pw-password": "a brand new password",
            "pw-confirm": "a brand new password",
        },
    )

    assert response.status_code == 302
    assert other_device.gone.wait(TIMEOUT)
    browser.post("/logout")
    for password, status in ((TEST_PASSWORD, 401), ("a brand new password", 302)):
        login = browser.post("/login", data={"email": "ada@example.org", "password": password})
        assert login.status_code == status, password


def test_a_stalled_redis_holds_a_logout_up_a_few_seconds_at_most(
    web, tab, redis_server, create_user
):
    site = web()
    member = create_user()
    page = tab(site, member)
    browser = site.test_client()
    browser.login(member)
    redis_server.pause()  # connections stay open, nothing answers

    response, seconds = timed(lambda: browser.post("/logout"))

    assert response.status_code == 302
    assert seconds < 4
    assert page.gone.wait(TIMEOUT)


def test_a_member_connects_and_gets_alerts_while_redis_is_down(
    web, tab, db, redis_server, create_user
):
    site = web()
    member = create_user()
    redis_server.kill()

    page = tab(site, member)  # refused before: listing the connection in Redis failed

    assert page.client.connected
    with site.app_context():
        notify(db.session.merge(member), "Hello")
        db.session.commit()
    assert page.next("alerts") == {"unread": 1}


def test_events_cross_processes_again_within_seconds_of_redis_returning(
    web, tab, db, redis_server, create_user
):
    web_a, web_b = web(), web()
    member = create_user()
    page = tab(web_b, member)
    redis_server.kill()
    with web_a.app_context():
        notify(db.session.merge(member), "Lost on the way: Redis is down")
        db.session.commit()

    redis_server.start()

    # process B subscribes again at once (it backed off to a minute before) and tells its
    # pages that they may have missed something
    assert page.next("resync", timeout=TIMEOUT) == {}
    with web_a.app_context():
        notify(db.session.merge(member), "Through Redis again")
        db.session.commit()
    assert page.next("alerts", timeout=TIMEOUT) == {"unread": 2}
    assert page.received("alerts") == []


def test_a_stalled_redis_is_noticed_and_pages_resync_once_it_answers(
    web, tab, db, redis_server, create_user
):
    web_a, web_b = web(), web()
    member = create_user()
    page = tab(web_b, member)
    sender_page = tab(web_a, create_user())  # a process listens to Redis once it has a tab
    redis_server.pause()  # its connections stay open: only the silence tells
    time.sleep(2 * PING_EVERY + 1)  # each process pinged it, and had no answer

    def alert() -> None:
        with web_a.app_context():
            notify(db.session.merge(member), "Sent while Redis is stalled")
            db.session.commit()

    _nothing, seconds = timed(alert)
    assert seconds < REDIS_TIMEOUT  # known lost: nobody waits on it
    redis_server.resume()

    assert page.next("resync", timeout=RETRY_EVERY + TIMEOUT) == {}
    # the sending process, too, publishes again only once its own listener is back, which
    # its pages learn by their resync: each process finds out on its own
    assert sender_page.next("resync", timeout=RETRY_EVERY + TIMEOUT) == {}
    alert()
    assert page.next("alerts", timeout=TIMEOUT) == {"unread": 2}
