"""The app's Socket.IO server: members only, each in a private room of their own.

With several web processes, live events cross Redis. Redis going down must not take the site
with it: pages, logins, logouts and chat messages go on (stored, acknowledged, pushed to the
tabs of this process), only the events bound for other processes are lost while it is down.
Once it is back, each process tells its tabs to ``resync``: a page fetches what it missed."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

import redis
import socketio
from flask import Flask, current_app, request, session
from flask_login import current_user
from flask_socketio import SocketIO, disconnect, join_room
from werkzeug.serving import WSGIRequestHandler

from core.contributions import SocketHandler

CONNECTED_AS = "alma_connected_as"  # in a connection's session: the member it belongs to
KEPT_FOR = 7 * 24 * 3600  # seconds a member's list of connections outlives its last update
REDIS_TIMEOUT = 1.0  # seconds a request waits for Redis before it does without
RETRY_EVERY = 1.0  # seconds between tries to reach Redis again, however long it was down
PING_EVERY = 2.0  # seconds of quiet after which the listener checks that Redis still answers
RESYNC = "resync"  # the event that tells a page live events may have been lost

log = logging.getLogger(__name__)


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def create_socketio(app: Flask, handlers: list[SocketHandler]) -> SocketIO:
    # async_mode is explicit: installing eventlet or gevent must not silently change it.
    queue_url = app.config["SOCKETIO_MESSAGE_QUEUE"]
    socketio = SocketIO(
        app,
        async_mode="threading",
        client_manager=RedisQueue(queue_url, channel=app.config["SOCKETIO_CHANNEL"])
        if queue_url
        else None,
        logger=False,
        engineio_logger=False,
        # A tab's events are handled in the thread that reads its connection, one after the
        # other in the order sent, rather than each in a thread started for it: a message
        # and the read mark sent after it are stored in that order, and a chat message
        # costs a fifth less server CPU (bench.chat, docs/performance.md).
        async_handlers=False,
    )
    engineio_server = socketio.server.eio  # type: ignore[attr-defined]  # made by init_app
    app.wsgi_app = UpgradeCutShort(app.wsgi_app, engineio_server)  # type: ignore[method-assign]

    logging.getLogger("engineio.server").addFilter(_closed_tab_is_normal)
    connections = MemberConnections(queue_url, app.config["SOCKETIO_CHANNEL"])
    app.extensions["alma_connections"] = connections

    @socketio.on("connect")
    def connect(auth: Any = None) -> bool:
        if not current_user.is_authenticated:
            return False  # refused: visitors get no socket
        join_room(user_room(current_user.id))
        session[CONNECTED_AS] = current_user.id  # this connection's copy of the session
        connections.opened(current_user.id, request.sid)  # type: ignore[attr-defined]  # set by Flask-SocketIO
        return True

    @socketio.on("disconnect")
    def disconnected(reason: Any = None) -> None:
        if CONNECTED_AS in session:
            connections.closed(session[CONNECTED_AS], request.sid)  # type: ignore[attr-defined]  # set by Flask-SocketIO

    for handler in handlers:
        socketio.on_event(handler.event, _members_only(handler.handler), handler.namespace)
    return socketio


class UpgradeCutShort:
    """Around the app: a WebSocket upgrade the browser cut short is an ordinary end, not a
    failed request.

    A page left (or a network that drops the new connection) while its Socket.IO connection
    moves from long polling to a WebSocket: the probe arrives, then the WebSocket's close,
    before the server answers the probe. That answer then fails with a bare ``OSError``
    (python-engineio 4.15), which the web server takes for an error in the app: Werkzeug
    writes an error page on the WebSocket (the browser's console says "Invalid frame
    header"), gunicorn logs a traceback. And engine.io's session stays marked as upgrading,
    so that its long polls answer at once with nothing: a tab still open would poll in a
    tight loop until its ping timed out.

    Here the session goes back to long polling, as after engine.io's own failed upgrades,
    and the request ends as engine.io ends a WebSocket that closed."""

    def __init__(self, wsgi_app: Callable[..., Any], engineio_server: Any) -> None:
        self.wsgi_app = wsgi_app
        self.engineio_server = engineio_server

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            return self.wsgi_app(environ, start_response)
        except OSError as error:
            if type(error) is not OSError or error.args or not _is_websocket(environ):
                raise
            self._back_to_polling(environ)
            # what engine.io does once a WebSocket has ended, as simple-websocket tells servers
            if "werkzeug.socket" in environ:
                raise ConnectionError from None  # the client went: nothing to answer
            if "gunicorn.socket" in environ:
                raise StopIteration from None  # the connection was taken over
            return []

    def _back_to_polling(self, environ: dict[str, Any]) -> None:
        sid = parse_qs(environ.get("QUERY_STRING", "")).get("sid", [None])[0]
        session = self.engineio_server.sockets.get(sid)
        if session is not None and session.upgrading and not session.upgraded:
            session.upgrading = False


class WebSocketsEndTheirConnection(WSGIRequestHandler):
    """Werkzeug's request handler (``alma serve``, the tests' live servers), for connections
    that become WebSockets: once one has ended, nothing more is read from its connection.

    engine.io ends a WebSocket's request under Werkzeug by raising ``ConnectionError``,
    which Werkzeug takes for a dropped connection and then, keeping HTTP/1.1 connections
    alive, reads on. A client that closes after the server ended the WebSocket (as
    python-socketio's does, or a browser's late frames) has its frames read as a new
    request: answered with a 400 where the client waits for a close, and logged as an
    error ("Bad request syntax"). The connection is over: here it is closed."""

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        self.close_connection = True


def _is_websocket(environ: dict[str, Any]) -> bool:
    return bool(environ.get("HTTP_UPGRADE", "").lower() == "websocket")


def _closed_tab_is_normal(record: logging.LogRecord) -> bool:
    """Leave out what engine.io logs as an ERROR when a tab closes or a page is left: the
    last requests of its connection (the close, a pending long poll) race with the end of
    its session, and arrive for a session that is over or gone ("Session is disconnected",
    "Invalid session")."""
    message = record.getMessage()
    return "Session is disconnected" not in message and not message.startswith("Invalid session")


def _members_only(handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    def guarded(*args: Any) -> Any:
        if not current_user.is_authenticated:
            disconnect()
            return None
        try:
            return handler(*args)
        except (KeyError, ValueError):
            # python-socketio forgets a connection as soon as it closes, and then refuses it
            # (joining a room, say): the tab was closed or the page left while its event was
            # handled, and nobody is left to answer
            if _still_connected():
                raise
            log.debug("a %s event outlived its connection", handler.__name__, exc_info=True)
            return None

    return guarded


def _still_connected() -> bool:
    server = current_app.extensions["socketio"].server
    sid, namespace = request.sid, request.namespace  # type: ignore[attr-defined]  # set by Flask-SocketIO
    return bool(server.manager.is_connected(sid, namespace))


def disconnect_user(user_id: int) -> None:
    """Close a member's live connections, in every web process (after logout or a password
    change): a browser whose session is still valid reconnects at once, one that was logged
    out cannot, and no push reaches a connection that outlived its session."""
    server = current_app.extensions["socketio"].server
    here = [sid for sid, _engine_sid in server.manager.get_participants("/", user_room(user_id))]
    elsewhere = current_app.extensions["alma_connections"].take(user_id)
    for sid in {*here, *elsewhere}:
        server.disconnect(sid, namespace="/")  # through Redis to the process that holds it


class MemberConnections:
    """The ids of each member's open connections, in Redis beside the message queue, so that
    any web process can close a member's connections held by another (python-socketio only
    knows a room's members in its own process). Without a message queue there is one process,
    which knows its own: nothing is kept.

    While Redis is down (or too slow to answer) a member still connects, logs out or changes
    their password: a connection opened meanwhile is not listed, and a logout closes only the
    connections of its own process. Any other one closes at its next event (core checks the
    session at each), and receives only that member's own events until then."""

    def __init__(self, redis_url: str, channel: str) -> None:
        self._redis = (
            redis.Redis.from_url(
                redis_url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
            )
            if redis_url
            else None
        )
        self._prefix = f"{channel}:connections:"

    def opened(self, user_id: int, sid: str) -> None:
        if self._redis is not None:
            key = self._prefix + str(user_id)
            # the expiry only clears what a crashed process left: a live key is renewed
            with _without_redis("list a new connection"):
                pipeline = self._redis.pipeline()
                pipeline.sadd(key, sid)
                pipeline.expire(key, KEPT_FOR)
                pipeline.execute()

    def closed(self, user_id: int, sid: str) -> None:
        if self._redis is not None:
            with _without_redis("forget a closed connection"):
                self._redis.srem(self._prefix + str(user_id), sid)

    def take(self, user_id: int) -> list[str]:
        """The member's connections, forgotten: they are about to close."""
        if self._redis is None:
            return []
        key = self._prefix + str(user_id)
        with _without_redis("close the member's connections in other processes"):
            pipeline = self._redis.pipeline()
            pipeline.smembers(key)
            pipeline.delete(key)
            sids, _deleted = pipeline.execute()
            return [sid.decode() for sid in sids]
        return []


@contextmanager
def _without_redis(purpose: str) -> Iterator[None]:
    """Run the block, or log a warning and go on if Redis does not answer."""
    try:
        yield
    except redis.RedisError as error:
        log.warning("Redis did not answer, could not %s: %s", purpose, error)


class RedisQueue(socketio.RedisManager):  # type: ignore[misc]  # python-socketio is untyped
    """python-socketio's Redis message queue, for Redis going away (killed, or stalled: no
    answer on open connections) and coming back.

    The listener pings Redis when nothing came for ``PING_EVERY`` seconds, and counts it
    lost when the answer does not come either; it tries again every ``RETRY_EVERY`` seconds
    (python-socketio backed off to a minute), and, subscribed again, tells this process's
    pages to ``resync``. While Redis is lost, publishing is skipped at once: a request never
    waits on Redis longer than ``REDIS_TIMEOUT``, and then only to find out that it is gone."""

    connected: bool  # python-socketio's: whether its publishing connection is open

    def __init__(self, url: str, channel: str) -> None:
        options = {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT}
        super().__init__(url, channel=channel, redis_options=options)
        self.lost = False

    def _publish(self, data: Any) -> None:
        if self.lost:
            return  # the listener tells the pages to resync once Redis is back
        try:
            if not self.connected:
                self._redis_connect()
            self.redis.publish(self.channel, self.json.dumps(data))
        except redis.RedisError as error:
            self.connected = False
            log.warning("Redis did not answer, an event reached only this process: %s", error)

    def _redis_listen_with_retries(self) -> Iterator[Any]:
        while True:
            try:
                listener = redis.Redis.from_url(self.redis_url, **self.redis_options)
                pubsub = listener.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                if self.lost:
                    self.lost = False
                    log.warning("Redis is back: live events cross web processes again")
                    # what other processes published meanwhile never came
                    self.server.emit(RESYNC, {}, namespace="/", ignore_queue=True)
                yield from self._messages(pubsub)
            except Exception as error:  # whatever the connection raised, try again
                if not self.lost:
                    self.lost = True
                    log.warning(
                        "Redis is unreachable (%s): live events reach only the tabs of each "
                        "process until it is back",
                        error,
                    )
                time.sleep(RETRY_EVERY)

    def _messages(self, pubsub: Any) -> Iterator[Any]:
        pinged = False
        while True:
            message = pubsub.get_message(timeout=PING_EVERY)
            if message is not None:
                pinged = False  # Redis answers: a message, or the pong
                yield message
            elif pinged:
                raise redis.TimeoutError(f"no answer to a ping within {PING_EVERY} s")
            else:
                pubsub.ping()
                pinged = True


def push_badge(user_id: int, endpoint: str, count: int) -> None:
    """Show ``count`` on the navigation badge of ``endpoint`` (a ``NavItem``'s) in every
    open tab of a member, whatever page it shows (``core/static/js/alma.js``)."""
    emit_to_user(user_id, "badge", {"endpoint": endpoint, "count": count})


def emit_to_user(user_id: int, event: str, data: Any) -> None:
    """Send ``event`` to every open tab of one member (across web processes with Redis)."""
    current_app.extensions["socketio"].emit(event, data, to=user_room(user_id))
