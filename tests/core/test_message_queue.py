"""Several web processes share live events through Redis (SOCKETIO_MESSAGE_QUEUE)."""

import secrets
import threading

import pytest
import socketio
from werkzeug.serving import make_server

from core.services.notifications import notify
from core.testing import session_cookie

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def serve():
    servers = []

    def start(app):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


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
