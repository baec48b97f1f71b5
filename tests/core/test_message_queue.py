"""Several web processes share live events through Redis (SOCKETIO_MESSAGE_QUEUE)."""

import secrets
import threading

import socketio

from core.services.notifications import notify
from core.testing import TEST_PASSWORD, session_cookie

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_an_alert_committed_in_one_process_reaches_a_member_connected_to_another(
    make_app, serve, db, create_user
):
    # a channel of this test's own: another run on this Redis pushes to members with the
    # same ids (Redis pub/sub ignores the database number of the URL)
    channel = f"alma-test-{secrets.token_hex(4)}"
    web_a = make_app(SOCKETIO_MESSAGE_QUEUE=REDIS_URL, SOCKETIO_CHANNEL=channel)
    web_b = make_app(SOCKETIO_MESSAGE_QUEUE=REDIS_URL, SOCKETIO_CHANNEL=channel)
    member = create_user()
    received = threading.Event()
    counts = []
    client = socketio.Client(reconnection=False)

    @client.on("alerts")
    def on_alerts(data):
        counts.append(data["unread"])
        received.set()

    client.connect(
        serve(web_b), headers={"Cookie": f"session={session_cookie(web_b, member)}"}, wait_timeout=5
    )
    try:
        with web_a.app_context():
            notify(db.session.merge(member), "Hello from process A")
            db.session.commit()
        assert received.wait(timeout=10), "the alert never crossed Redis"
        assert counts == [1]
    finally:
        client.disconnect()


def test_a_password_change_in_one_process_closes_the_connections_another_holds(
    make_app, serve, db, create_user
):
    channel = f"alma-test-{secrets.token_hex(4)}"
    web_a = make_app(SOCKETIO_MESSAGE_QUEUE=REDIS_URL, SOCKETIO_CHANNEL=channel)
    web_b = make_app(SOCKETIO_MESSAGE_QUEUE=REDIS_URL, SOCKETIO_CHANNEL=channel)
    member, other = create_user(), create_user()
    # the stolen laptop, on process B, and another member's tab there too
    laptop, bystander = socketio.Client(reconnection=False), socketio.Client(reconnection=False)
    gone = threading.Event()
    laptop.on("disconnect", lambda *args: gone.set())
    url_b = serve(web_b)
    for client, user in ((laptop, member), (bystander, other)):
        cookie = session_cookie(web_b, user)
        client.connect(url_b, headers={"Cookie": f"session={cookie}"}, wait_timeout=5)
    try:
        # the member changes their password on their phone, served by process A
        phone = web_a.test_client()
        phone.login(member)
        phone.post(
            "/account/password",
            data={
                "pw-current_password": TEST_PASSWORD,
                "pw-password": "a brand new password",
                "pw-confirm": "a brand new password",
            },
        )

        assert gone.wait(timeout=10), "the other process kept the laptop's connection open"
        assert bystander.connected
    finally:
        for client in (laptop, bystander):
            if client.connected:
                client.disconnect()
