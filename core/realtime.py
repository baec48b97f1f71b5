"""The app's Socket.IO server: members only, each in a private room of their own."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from flask_login import current_user
from flask_socketio import SocketIO, disconnect, join_room

from core.contributions import SocketHandler


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

    @socketio.on("connect")
    def connect(auth: Any = None) -> bool:
        if not current_user.is_authenticated:
            return False  # refused: visitors get no socket
        join_room(user_room(current_user.id))
        return True

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
    """Close a member's live connections in this process (after logout or a password change):
    a browser whose session is still valid reconnects at once, one that was logged out
    cannot, and no push reaches a connection that outlived its session."""
    server = current_app.extensions["socketio"].server
    connections = list(server.manager.get_participants("/", user_room(user_id)))
    for sid, _engine_sid in connections:
        server.disconnect(sid, namespace="/")


def emit_to_user(user_id: int, event: str, data: Any) -> None:
    """Send ``event`` to every open tab of one member (across web processes with Redis)."""
    current_app.extensions["socketio"].emit(event, data, to=user_room(user_id))
