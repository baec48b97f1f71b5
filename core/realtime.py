"""The app's Socket.IO server: members only, each in a private room of their own."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, current_app, request, session
from flask_login import current_user
from flask_socketio import SocketIO, disconnect, join_room

from core.contributions import SocketHandler

CONNECTED_AS = "alma_connected_as"  # in a connection's session: the member it belongs to
KEPT_FOR = 7 * 24 * 3600  # seconds a member's list of connections outlives its last update


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def create_socketio(app: Flask, handlers: list[SocketHandler]) -> SocketIO:
    # async_mode is explicit: installing eventlet or gevent must not silently change it.
    socketio = SocketIO(
        app,
        async_mode="threading",
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"] or None,
        channel=app.config["SOCKETIO_CHANNEL"],
        logger=False,
        engineio_logger=False,
    )

    connections = MemberConnections(
        app.config["SOCKETIO_MESSAGE_QUEUE"], app.config["SOCKETIO_CHANNEL"]
    )
    app.extensions["alma_connections"] = connections

    @socketio.on("connect")
    def connect(auth: Any = None) -> bool:
        if not current_user.is_authenticated:
            return False  # refused: visitors get no socket
        join_room(user_room(current_user.id))
        session[CONNECTED_AS] = current_user.id  # this connection's copy of the session
        connections.opened(current_user.id, request.sid)
        return True

    @socketio.on("disconnect")
    def disconnected(reason: Any = None) -> None:
        if CONNECTED_AS in session:
            connections.closed(session[CONNECTED_AS], request.sid)

    for handler in handlers:
        socketio.on_event(handler.event, _members_only(handler.handler), handler.namespace)
    return socketio


def _members_only(handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    def guarded(*args: Any) -> Any:
        if not current_user.is_authenticated:
            disconnect()
            return None
        return handler(*args)

    return guarded


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
    which knows its own: nothing is kept."""

    def __init__(self, redis_url: str, channel: str) -> None:
        self._redis = redis.Redis.from_url(redis_url) if redis_url else None
        self._prefix = f"{channel}:connections:"

    def opened(self, user_id: int, sid: str) -> None:
        if self._redis is not None:
            key = self._prefix + str(user_id)
            # the expiry only clears what a crashed process left: a live key is renewed
            self._redis.pipeline().sadd(key, sid).expire(key, KEPT_FOR).execute()

    def closed(self, user_id: int, sid: str) -> None:
        if self._redis is not None:
            self._redis.srem(self._prefix + str(user_id), sid)

    def take(self, user_id: int) -> list[str]:
        """The member's connections, forgotten: they are about to close."""
        if self._redis is None:
            return []
        key = self._prefix + str(user_id)
        sids, _deleted = self._redis.pipeline().smembers(key).delete(key).execute()
        return [sid.decode() for sid in sids]


def push_badge(user_id: int, endpoint: str, count: int) -> None:
    """Show ``count`` on the navigation badge of ``endpoint`` (a ``NavItem``'s) in every
    open tab of a member, whatever page it shows (``core/static/js/alma.js``)."""
    emit_to_user(user_id, "badge", {"endpoint": endpoint, "count": count})


def emit_to_user(user_id: int, event: str, data: Any) -> None:
    """Send ``event`` to every open tab of one member (across web processes with Redis)."""
    current_app.extensions["socketio"].emit(event, data, to=user_room(user_id))
