"""Where the app's CPU goes on each member page and write, profiled in this process.

    .venv/bin/python -m bench.profile_pages [--scale 0.1] [--requests 200] [--top 15]
        [--only NAME] [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

It builds the community of ``bench/dataset.py`` in a PostgreSQL database of its own, then
runs each route through Flask's test client (a chat message through Flask-SocketIO's test
client) ``--requests`` times in a row: first measured, then again under cProfile. It prints,
per route, the app process's CPU per request (``time.process_time``: the Python of Flask,
the plugins, SQLAlchemy, Jinja and psycopg, not PostgreSQL's own work), the SQL statements
one request runs, and the functions that took the most of that CPU (their own time and with
what they call). The routes are those of ``bench/pages.py``, plus the shell (the floor of
every member page), a mentorship request and its accept, each on a fresh pair.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from bench.ab import profiled_app
from bench.dataset import DEFAULT_SERVER, build_database, throwaway_database
from bench.pages import (
    USER_AGENT,
    FlowPairs,
    Session,
    add_flow_pairs,
    member_session,
    page_routes,
)
from core.db import db
from core.testing import sql_statements

BATCHES = 5


@dataclass
class Measured:
    name: str
    cpu_ms: float  # app CPU per request
    statements: int
    profile: str


def browser(app: Flask, session: Session) -> FlaskClient:
    """A test client carrying ``session`` as a browser from 127.0.0.1 would."""
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_USER_AGENT=USER_AGENT)
    client.set_cookie("session", session.cookie)
    return client


def page(client: FlaskClient, path: str) -> Callable[[], None]:
    def visit() -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    return visit


class Flows:
    """Mentorship requests and accepts, each on a pair that never met."""

    def __init__(self, app: Flask, pairs: FlowPairs) -> None:
        self.app, self.pairs = app, pairs
        self.next_pair = 0
        self.requested: list[tuple[int, Session]] = []  # mentorship id, its mentor's session

    def request(self) -> None:
        (_mentee, mentee_session), (mentor, mentor_session) = self.pairs.pair(self.next_pair)
        self.next_pair += 1
        response = browser(self.app, mentee_session).post(
            f"/mentoring/request/{mentor}",
            data={"csrf_token": mentee_session.csrf_token, "message": "Hello", "topics": ""},
        )
        assert response.status_code == 302, (response.status_code, response.text[-3000:])
        mentorship_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
        self.requested.append((mentorship_id, mentor_session))

    def accept(self) -> None:
        mentorship_id, mentor_session = self.requested.pop(0)
        response = browser(self.app, mentor_session).post(
            f"/mentoring/{mentorship_id}/accept", data={"csrf_token": mentor_session.csrf_token}
        )
        assert response.status_code == 302, (response.status_code, response.text[-3000:])


def chat_sender(app: Flask, session: Session, mentorship_id: int) -> Callable[[], None]:
    """Sends one chat message of the viewer's long chat per call, as the page's script does."""
    client = browser(app, session)
    socket = app.extensions["socketio"].test_client(app, flask_test_client=client)
    assert socket.is_connected()
    sent = iter(range(10**9))

    def send() -> None:
        number = next(sent)
        ack = socket.emit(
            "mentoring.send",
            {
                "mentorship_id": mentorship_id,
                "body": f"Message {number}",
                "key": f"profile-{number:08d}",
            },
            callback=True,
        )
        assert ack["ok"], ack
        socket.get_received()  # what the room was sent back

    return send


def measure(app: Flask, name: str, action: Callable[[], None], requests: int, top: int) -> Measured:
    for _ in range(3):  # warm: caches filled, connections open
        action()
    with sql_statements(app) as statements:
        action()
    batches = []  # the machine is shared: the best of 5 batches is the least disturbed
    for _ in range(BATCHES):
        started = time.process_time()
        for _ in range(requests // BATCHES):
            action()
        batches.append((time.process_time() - started) * 1000 / (requests // BATCHES))
    profiler = cProfile.Profile(time.process_time)  # CPU, not the wait for PostgreSQL
    profiler.enable()
    for _ in range(requests):
        action()
    profiler.disable()
    return Measured(name, min(batches), len(statements), top_functions(profiler, top))


def top_functions(profiler: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top * 2)
    return out.getvalue()


def routes(app: Flask, scale: float, pairs_count: int) -> Iterator[tuple[str, Callable[[], None]]]:
    """Build the data set and yield each route's name and one request of it."""
    landmarks, built = build_database(app, scale)
    print(f"scale {scale}: data set built in {built:.0f} s", flush=True)
    viewer = member_session(app, landmarks.viewer_id)
    client = browser(app, viewer)
    yield "shell", page(client, "/bench/shell")
    for route in page_routes(landmarks, viewer):
        yield route.name, page(client, route.path)
    flows = Flows(app, add_flow_pairs(app, pairs_count))
    yield "request", flows.request
    yield "accept", flows.accept
    yield "chat message", chat_sender(app, viewer, landmarks.long_chat_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--requests", type=int, default=200, help="per route, measured")
    parser.add_argument("--top", type=int, default=15, help="functions shown per route")
    parser.add_argument("--only", action="append", help="a route's name (repeatable)")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="a PostgreSQL server URL")
    args = parser.parse_args()

    results: list[Measured] = []
    with throwaway_database(args.server) as url, tempfile.TemporaryDirectory() as folder:
        app = profiled_app(url, folder)
        # the accepts use the requests' pairs: as many pairs as both measured loops need
        for name, action in routes(app, args.scale, pairs_count=(args.requests * 2 + 4) * 2):
            only = args.only or []
            needed = [*only, "request"] if "accept" in only else only  # accepts need requests
            if needed and name not in needed:
                continue
            measured = measure(app, name, action, args.requests, args.top)
            if not args.only or name in args.only:
                results.append(measured)
                print(
                    f"\n===== {name}: {measured.cpu_ms:.2f} ms app CPU, "
                    f"{measured.statements} SQL\n{measured.profile}",
                    flush=True,
                )
        with app.app_context():
            db.engine.dispose()
    print(
        f"\n{'route':<22}{'app CPU ms':>11}{'SQL':>5}  (scale {args.scale}, "
        f"{args.requests} requests each)"
    )
    for measured in results:
        print(f"{measured.name:<22}{measured.cpu_ms:>11.2f}{measured.statements:>5}")


if __name__ == "__main__":
    main()
