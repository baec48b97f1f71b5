"""A live connection does not outlive the session that opened it."""

import re
import threading

import pytest
import socketio

from core.testing import TEST_PASSWORD, session_cookie

TIMEOUT = 5


@pytest.fixture
def connected(app, live_server):
    clients = []

    def connect(user):
        client = socketio.Client(reconnection=False)
        gone = threading.Event()
        client.on("disconnect", lambda *args: gone.set())
        client.connect(
            live_server,
            headers={"Cookie": f"session={session_cookie(app, user)}"},
            transports=["polling"],
            wait_timeout=TIMEOUT,
        )
        clients.append(client)
        return client, gone

    yield connect
    for client in clients:
        if client.connected:
            client.disconnect()


def test_logging_out_closes_the_members_live_connections(app, connected, create_user):
    member = create_user()
    _socket, gone = connected(member)
    browser = app.test_client()
    browser.login(member)

    browser.post("/logout")

    assert gone.wait(TIMEOUT), "the socket stayed open after logout"


def test_changing_the_password_closes_the_other_devices_connections(app, connected, create_user):
    member = create_user()
    _socket, gone = connected(member)
    browser = app.test_client()
    browser.login(member)

    browser.post(
        "/account/password",
        data={
            "pw-current_password": TEST_PASSWORD,
            "pw-password": "a brand new password",
            "pw-confirm": "a brand new password",
        },
    )

    assert gone.wait(TIMEOUT), "the socket stayed open after the password change"


def test_a_suspension_closes_the_members_live_connections(app, connected, create_user):
    member, coordinator = create_user(), create_user(role="coordinator")
    _socket, gone = connected(member)
    staff = app.test_client()
    staff.login(coordinator)

    staff.post(f"/admin/members/{member.id}/suspend", data={"reason": "spam"})

    assert gone.wait(TIMEOUT), "the socket stayed open after the suspension"


def test_another_members_logout_leaves_my_connection_open(app, connected, create_user):
    mine, other = create_user(), create_user()
    socket, gone = connected(mine)
    browser = app.test_client()
    browser.login(other)

    browser.post("/logout")

    assert not gone.wait(0.5) and socket.connected


def test_ending_a_session_from_the_list_closes_its_connection(app, connected, create_user):
    member = create_user()
    _socket, gone = connected(member)  # a session of its own, as a login makes
    phone = app.test_client()
    phone.login(member)
    page = phone.get("/account").get_data(as_text=True)
    ids = {int(number) for number in re.findall(r"/account/sessions/(\d+)/end", page)}
    assert len(ids) == 2
    socket_session = min(ids)  # the first login

    phone.post(f"/account/sessions/{socket_session}/end")

    assert gone.wait(TIMEOUT), "the socket stayed open after its session ended"
    assert phone.get("/account").status_code == 200  # the phone's own session goes on
