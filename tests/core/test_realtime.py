"""The Socket.IO server, with real clients over a real socket: members only, each member's
alerts pushed to that member alone once the transaction commits, and plugins' handlers."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import socketio
from flask_login import current_user
from flask_socketio import disconnect, emit, join_room
from sqlalchemy import delete

from core import hookimpl
from core.contributions import SocketHandler
from core.db import db as database
from core.models import LoginSession
from core.realtime import UpgradeCutShort
from core.services.notifications import mark_read, notify
from core.testing import SocketClient, cut_websocket_upgrade_short, session_cookie

TIMEOUT = 5  # seconds to wait for something that should happen
QUIET = 0.3  # seconds to wait for something that should not


Listener = SocketClient  # a member's connection, keeping what it receives


@pytest.fixture
def connect(app, live_server) -> Iterator[Callable[..., Listener]]:
    """``connect(user=None, cookie=None, transport="polling")``: a client connected to the
    live server, as ``user`` (with a session cookie), or as a visitor.

    Long polling is what a browser starts with, and what most tests use; the WebSocket
    transport works as well (see ``test_alerts_arrive_over_a_websocket``)."""
    listeners: list[Listener] = []

    def open_(
        user: Any = None, *, cookie: str | None = None, transport: str = "polling"
    ) -> Listener:
        listener = Listener()
        listener.listen("alerts")
        listeners.append(listener)
        if user is not None:
            cookie = session_cookie(app, user)
        headers = {"Cookie": f"session={cookie}"} if cookie else {}
        listener.client.connect(
            live_server, headers=headers, transports=[transport], wait_timeout=TIMEOUT
        )
        return listener

    yield open_
    for listener in listeners:
        listener.close()


def test_a_visitor_without_a_session_is_refused(connect):
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect()


def test_a_session_signed_with_another_key_is_refused(connect, create_user, make_app):
    other_site = make_app(SECRET_KEY="another-secret-key")
    forged = session_cookie(other_site, create_user())
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect(cookie=forged)


def test_a_member_connects(connect, create_user):
    listener = connect(create_user())
    assert listener.client.connected


def test_an_alert_is_pushed_to_its_member_only_after_commit(db, connect, create_user):
    ada, rui = create_user(), create_user()
    ada_tab, rui_tab = connect(ada), connect(rui)

    notify(ada, "Rui sent you a mentorship request.")
    db.session.flush()
    assert ada_tab.received("alerts") == []  # nothing before commit
    db.session.commit()

    assert ada_tab.next("alerts") == {"unread": 1}

    # Rui's own alert arrives on Rui's socket after Ada's was emitted: had Ada's been sent to
    # Rui too, it would have arrived first.
    notify(rui, "Ada accepted.")
    db.session.commit()
    assert rui_tab.next("alerts") == {"unread": 1}
    assert rui_tab.received("alerts", wait=0) == []
    assert ada_tab.received("alerts") == []


def test_alerts_arrive_over_a_websocket(db, connect, create_user):
    ada, rui = create_user(), create_user()
    ada_tab = connect(ada, transport="websocket")
    rui_tab = connect(rui)
    assert ada_tab.client.transport() == "websocket"

    notify(ada, "Hello")
    db.session.commit()
    notify(rui, "Hello")
    db.session.commit()

    assert ada_tab.next("alerts") == {"unread": 1}
    assert rui_tab.next("alerts") == {"unread": 1}
    assert ada_tab.received("alerts") == rui_tab.received("alerts") == []


def test_a_websocket_tab_closing_logs_no_error(db, connect, create_user, caplog):
    # Once a WebSocket has ended, Werkzeug's server read what the client still sent on its
    # connection as a new HTTP request: python-socketio's close came after the server had
    # ended the WebSocket, was answered with a 400 and logged as an error, after the
    # client had waited 3 s for an answer to it.
    tab = connect(create_user(), transport="websocket")

    with caplog.at_level(logging.INFO):
        tab.client.disconnect()
        time.sleep(QUIET)  # anything the server logs of it is in by now

    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == []


def test_every_open_tab_of_the_member_gets_the_alert(db, connect, create_user):
    ada = create_user()
    first, second = connect(ada), connect(ada)

    notify(ada, "Hello")
    db.session.commit()

    assert first.next("alerts") == {"unread": 1}
    assert second.next("alerts") == {"unread": 1}


def test_an_alert_rolled_back_is_never_pushed(db, connect, create_user):
    ada = create_user()
    tab = connect(ada)

    notify(ada, "This never happened.")
    db.session.rollback()
    notify(ada, "This did.")
    db.session.commit()

    assert tab.next("alerts") == {"unread": 1}
    assert tab.received("alerts") == []  # one push, for the alert that was committed


def test_marking_read_pushes_the_new_count(db, connect, create_user):
    ada = create_user()
    notify(ada, "One")
    notify(ada, "Two")
    db.session.commit()
    tab = connect(ada)

    mark_read(ada)
    db.session.commit()

    assert tab.next("alerts") == {"unread": 0}


def test_reading_an_alert_on_the_alerts_page_updates_the_other_tabs(
    db, client, connect, create_user
):
    ada = create_user()
    first = notify(ada, "One", url="/me")
    notify(ada, "Two")
    db.session.commit()
    tab = connect(ada)
    client.login(ada)

    response = client.post(f"/alerts/{first.id}/open")

    assert response.status_code == 302
    assert tab.next("alerts") == {"unread": 1}


# ---- plugins' socket handlers --------------------------------------------------------------


class EchoPlugin:
    """A throwaway plugin with two socket handlers: one answers through the ack, the other
    emits an event back; both say who the member is."""

    def __init__(self) -> None:
        self.received: queue.Queue = queue.Queue()
        self.release = threading.Event()

    def ping(self, data: Any) -> dict:
        self.received.put((current_user.id, data))
        return {"pong": data, "member": current_user.id}

    def shout(self, data: Any) -> None:
        self.received.put((current_user.id, data))
        emit("echo.shouted", {"text": str(data["text"]).upper(), "member": current_user.id})

    def hold(self, data: Any) -> None:
        """Takes its time: until the test lets it go, holding no database connection."""
        self.received.put((current_user.id, "held"))
        database.session.remove()  # as a handler waiting on something else than the database
        self.release.wait(TIMEOUT)
        self.received.put((current_user.id, "let go"))

    def fail(self, data: Any) -> None:
        raise KeyError(data["key"])  # a bug, with the connection open

    def hang_up_then_join(self, data: Any) -> None:
        disconnect()  # as a tab closed while its event is handled
        join_room("echo")
        self.received.put((current_user.id, data))

    @hookimpl
    def register_socket_handlers(self):
        return [
            SocketHandler("echo.ping", self.ping),
            SocketHandler("echo.shout", self.shout),
            SocketHandler("echo.hang_up", self.hang_up_then_join),
            SocketHandler("echo.fail", self.fail),
            SocketHandler("echo.hold", self.hold),
        ]


class TestPluginSocketHandlers:
    @pytest.fixture
    def plugin(self) -> EchoPlugin:
        return EchoPlugin()

    @pytest.fixture
    def app(self, make_app, plugin):
        return make_app(extra_plugins={"echo": plugin}, PLUGINS=["echo"])

    def test_a_handler_answers_through_the_ack(self, connect, create_user, plugin):
        ada = create_user()
        tab = connect(ada)

        answer = tab.client.call("echo.ping", {"n": 1}, timeout=TIMEOUT)

        assert answer == {"pong": {"n": 1}, "member": ada.id}
        assert plugin.received.get(timeout=TIMEOUT) == (ada.id, {"n": 1})

    def test_a_handler_emits_back_to_the_member(self, connect, create_user):
        ada = create_user()
        tab = connect(ada)
        tab.listen("echo.shouted")

        tab.client.emit("echo.shout", {"text": "hello"})

        assert tab.next("echo.shouted") == {"text": "HELLO", "member": ada.id}

    def test_a_tabs_events_are_handled_one_after_the_other_as_sent(
        self, connect, create_user, plugin
    ):
        # as a chat message, then the read mark sent after it, are stored in that order
        ada = create_user()
        tab = connect(ada)

        tab.client.emit("echo.hold", {})
        tab.client.emit("echo.ping", {"n": 1})

        assert plugin.received.get(timeout=TIMEOUT) == (ada.id, "held")
        time.sleep(QUIET)  # the ping, if it were handled meanwhile, would be in by now
        plugin.release.set()
        handled = [plugin.received.get(timeout=TIMEOUT) for _ in range(2)]
        assert handled == [(ada.id, "let go"), (ada.id, {"n": 1})]

    def test_a_member_whose_session_ended_is_disconnected(self, db, connect, create_user, plugin):
        ada = create_user()
        tab = connect(ada)
        # as a password change, or "log out" in the list of sessions elsewhere, does
        db.session.execute(delete(LoginSession).where(LoginSession.user_id == ada.id))
        db.session.commit()

        tab.client.emit("echo.ping", {"n": 2})

        deadline = time.monotonic() + TIMEOUT
        while tab.client.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not tab.client.connected
        assert plugin.received.empty()  # the handler never ran

    def test_a_connection_closed_while_its_event_is_handled_ends_it_quietly(
        self, connect, create_user, plugin, caplog
    ):
        tab = connect(create_user())

        with caplog.at_level(logging.ERROR):
            tab.client.emit("echo.hang_up", {"n": 3})
            deadline = time.monotonic() + TIMEOUT
            while tab.client.connected and time.monotonic() < deadline:
                time.sleep(0.05)

            assert not tab.client.connected
            time.sleep(QUIET)  # the handler may still be ending: anything it logs is in by now

        assert plugin.received.empty()  # it stopped where the connection was gone
        assert _failures(caplog) == []

    def test_a_handler_failing_on_an_open_connection_still_fails_loudly(
        self, connect, create_user, caplog
    ):
        tab = connect(create_user())

        with caplog.at_level(logging.ERROR):
            tab.client.emit("echo.fail", {"key": "boom"})
            deadline = time.monotonic() + TIMEOUT
            while not _failures(caplog) and time.monotonic() < deadline:
                time.sleep(0.05)

        [failure] = _failures(caplog)  # logged with its traceback, as gunicorn shows it
        assert isinstance(failure, KeyError) and failure.args == ("boom",)
        assert tab.client.connected


def _failures(caplog: pytest.LogCaptureFixture) -> list[BaseException]:
    return [
        record.exc_info[1] for record in caplog.records if record.exc_info and record.exc_info[1]
    ]


def test_a_tab_closing_logs_no_error(app, live_server, create_user, caplog):
    # A closing tab sends its close while its long poll is still open: the poll's answer, or
    # a last request, arrives for a session that is over. That is how tabs close, no error.
    cookie = {"Cookie": f"session={session_cookie(app, create_user())}"}
    endpoint = f"{live_server}/socket.io/?EIO=4&transport=polling"
    with requests.Session() as tab:
        opened = tab.get(endpoint, headers=cookie, timeout=TIMEOUT)
        sid = json.loads(opened.text[1:])["sid"]
        session_url = f"{endpoint}&sid={sid}"
        assert tab.post(session_url, data="40", headers=cookie, timeout=TIMEOUT).text == "OK"
        assert tab.get(session_url, headers=cookie, timeout=TIMEOUT).text.startswith("40")

        with caplog.at_level(logging.INFO):
            tab.post(session_url, data="1", headers=cookie, timeout=TIMEOUT)  # close
            late = [tab.get(session_url, headers=cookie, timeout=TIMEOUT) for _ in range(2)]

    assert [response.status_code for response in late] == [400, 400]  # the client reconnects
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == []


def test_an_upgrade_cut_short_gets_no_error_page_and_the_tab_goes_on_polling(
    app, db, live_server, create_user, caplog
):
    # The WebSocket already holds the connection: an error page written on it would reach
    # the browser as a broken frame ("Invalid frame header" in its console).
    member = create_user()
    cookie = f"session={session_cookie(app, member)}"
    with caplog.at_level(logging.INFO):
        cut = cut_websocket_upgrade_short(live_server, cookie)

    assert cut.ended_quietly, cut.answer
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == []

    # a tab still open (its network dropped the WebSocket) gets its alerts by long polling
    notify(member, "Rui sent you a mentorship request.")
    db.session.commit()
    packets: list[str] = []
    for _ in range(3):  # while the session was upgrading, a poll answered at once, empty
        poll = requests.get(cut.poll_url, headers={"Cookie": cookie}, timeout=TIMEOUT).text
        # an empty packet ("6") may come first: it ends the poll the upgrade held
        packets += [packet for packet in poll.split("\x1e") if packet != "6"]
        if packets:
            break
    assert packets == ['42["alerts",{"unread":1}]']


@pytest.mark.parametrize(
    "environ, error",
    [
        ({"PATH_INFO": "/me"}, OSError()),  # not a WebSocket: a failed request
        ({"HTTP_UPGRADE": "websocket"}, OSError("Socket has been upgraded already")),
    ],
)
def test_other_os_errors_stay_errors(environ, error):
    def failing(environ: dict, start_response: Any) -> None:
        raise error

    with pytest.raises(OSError) as raised:
        UpgradeCutShort(failing, None)(environ, None)
    assert raised.value is error
