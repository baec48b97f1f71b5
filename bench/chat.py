"""How fast the pair's chat is: round trips between two real Socket.IO clients through the
server, against a minimal Flask-SocketIO room app measured in the same run.

    .venv/bin/python -m bench.chat [--messages 300] [--burst 1000] [--rounds 3]
        [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--redis redis://127.0.0.1:6379/0]

A mentee and a mentor with an accepted mentorship (in a PostgreSQL database of its own) each
connect a python-socketio client over WebSocket and join the pair's room; the mentee sends,
every message is stored, and the time until the mentor's client receives it is the round
trip. ``--messages`` go one at a time (p50 and p99 of the round trip), then a burst of
``--burst`` with at most ``WINDOW`` in flight (messages per second). The server is one
process as production runs it: gunicorn with one gthread worker (``bench/wsgi.py``). The
minimal app (:func:`minimal_app`: join a room, emit to it, threading mode too) runs the same
way and the same procedure, interleaved over ``--rounds`` rounds.

Then two alma processes share events through Redis (``SOCKETIO_MESSAGE_QUEUE``, a channel of
the run's own): the mentee's client on one, the mentor's on the other.

The server CPU per message (the gunicorn workers' and the PostgreSQL backends' CPU time over
the round trips and the burst, per message) is printed beside them.

Targets: server CPU per message at most 2 ms, p50 under 2 ms, p99 at most 2x the minimal
app's, throughput at least 0.5x the minimal app's; across two processes through Redis, p50
under 15 ms.
"""

from __future__ import annotations

import argparse
import os
import queue
import secrets
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import socketio
from flask import Flask, request
from flask_socketio import SocketIO, emit, join_room

from bench.ceilings import CeilingPlugin
from bench.cpu import machine
from bench.dataset import DEFAULT_SERVER, PLUGINS, throwaway_database
from bench.pages import (
    BIN,
    ROOT,
    USER_AGENT,
    Server,
    Session,
    cpu_meter,
    member_session,
    wait_for,
)
from core.app import create_app
from core.db import db, utcnow
from core.models import User
from core.schema import upgrade
from core.services.profiles import save_profile_fields
from core.testing import free_port
from plugins.mentoring.models import VERIFIED, MentorVerification
from plugins.mentoring.services import lifecycle

WINDOW = 20  # messages in flight at most during the burst
TIMEOUT = 10.0
THREADS = 50  # gunicorn gthread threads, as docs/operating.md runs it
P50_MS, P99_FACTOR, THROUGHPUT_SHARE, REDIS_P50_MS = 2.0, 2.0, 0.5, 15.0
CPU_MS = 2.0  # issue 17: server CPU (app + database) per chat message


# ---- the minimal app -----------------------------------------------------------------------------


def minimal_app() -> Flask:
    """A Flask-SocketIO app that only joins rooms and relays messages to them (gunicorn
    loads it as ``bench.chat:minimal_app()``)."""
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="threading", logger=False, engineio_logger=False)

    @app.get("/ping")
    def ping() -> str:
        return "ok"

    @socketio.on("join")
    def join(data: dict[str, Any]) -> dict[str, bool]:
        join_room(data["room"])
        return {"ok": True}

    @socketio.on("send")
    def send(data: dict[str, Any]) -> dict[str, bool]:
        emit("message", {"body": data["body"], "sender": request.sid}, to=data["room"])
        return {"ok": True}

    return app


@dataclass(frozen=True)
class Protocol:
    """How a client joins the room and sends to it, and what it receives."""

    join: tuple[str, dict[str, Any]]
    send: Callable[[str], tuple[str, dict[str, Any]]]
    received: str


MINIMAL = Protocol(
    ("join", {"room": "pair"}), lambda body: ("send", {"room": "pair", "body": body}), "message"
)


def alma_protocol(mentorship_id: int) -> Protocol:
    return Protocol(
        ("mentoring.join", {"mentorship_id": mentorship_id}),
        lambda body: ("mentoring.send", {"mentorship_id": mentorship_id, "body": body}),
        "mentoring.message",
    )


# ---- servers -------------------------------------------------------------------------------------


@contextmanager
def gunicorn_gthread(target: str, environment: dict[str, str], log: Path) -> Iterator[Server]:
    """``target`` served by gunicorn with one gthread worker on a free port."""
    port = free_port()
    command = [str(BIN / "gunicorn"), "-k", "gthread", "-w", "1", "--threads", str(THREADS)]
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*command, "--no-control-socket", "-b", f"127.0.0.1:{port}", target],
            cwd=ROOT,
            env=os.environ | environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/socket.io/?EIO=4&transport=polling", server, log)
        yield Server(url, server.pid)
    finally:
        server.send_signal(signal.SIGINT)  # at once: SIGTERM waits for open sockets
        server.wait(timeout=30)


# ---- clients and measures ------------------------------------------------------------------------


class ChatClient:
    """A python-socketio client over WebSocket that notes when each numbered message
    arrives."""

    def __init__(self, url: str, session: Session | None, protocol: Protocol) -> None:
        self.protocol = protocol
        self.arrivals: queue.Queue[tuple[int, float]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on(protocol.received, self._received)
        headers = {"User-Agent": USER_AGENT}
        if session:
            headers["Cookie"] = f"session={session.cookie}"
        self.client.connect(url, headers=headers, transports=["websocket"], wait_timeout=TIMEOUT)
        event, data = protocol.join
        answer = self.client.call(event, data, timeout=TIMEOUT)
        if not answer or not answer.get("ok"):
            raise RuntimeError(f"could not join the room: {answer}")

    def _received(self, data: dict[str, Any]) -> None:
        self.arrivals.put((int(data["body"].removeprefix("message ")), time.perf_counter()))

    def send(self, number: int) -> None:
        event, data = self.protocol.send(f"message {number}")
        self.client.emit(event, data)

    def close(self) -> None:
        self.client.disconnect()


@dataclass
class ChatRun:
    round_trips_ms: list[float]
    per_second: float
    cpu_ms: float = 0.0  # the server's and the database's CPU per message

    def percentile(self, share: float) -> float:
        ordered = sorted(self.round_trips_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(sender: ChatClient, receiver: ChatClient, messages: int, burst: int) -> ChatRun:
    """Round trips one at a time, then the throughput of a burst."""
    round_trips, number = [], 0
    for _ in range(messages):
        number += 1
        sent = time.perf_counter()
        sender.send(number)
        arrived, at = receiver.arrivals.get(timeout=TIMEOUT)
        assert arrived == number, (arrived, number)
        round_trips.append((at - sent) * 1000)
    in_flight = threading.Semaphore(WINDOW)
    first = number + 1
    started = time.perf_counter()
    done = threading.Event()

    def receive() -> None:
        for _ in range(burst):
            receiver.arrivals.get(timeout=TIMEOUT)
            in_flight.release()
        done.set()

    threading.Thread(target=receive, daemon=True).start()
    for number in range(first, first + burst):
        if not in_flight.acquire(timeout=TIMEOUT):
            raise RuntimeError("the burst stalled")
        sender.send(number)
    if not done.wait(TIMEOUT):
        raise RuntimeError("the burst did not arrive")
    return ChatRun(round_trips, burst / (time.perf_counter() - started))


def run_pair(
    servers: tuple[Server, Server],
    sessions: tuple[Session | None, Session | None],
    protocol: Protocol,
    args: argparse.Namespace,
    database_url: str,
) -> ChatRun:
    sender = ChatClient(servers[0].url, sessions[0], protocol)
    receiver = ChatClient(servers[1].url, sessions[1], protocol)
    workers = {pid for server in servers for pid in server.workers()}
    try:
        measure(sender, receiver, 20, 20)  # warm-up: threads started, statements prepared
        with cpu_meter(database_url, lambda: list(workers)) as meter:
            before = meter.sample()
            run = measure(sender, receiver, args.messages, args.burst)
            run.cpu_ms = sum(meter.since(before).per_request_ms(args.messages + args.burst))
        return run
    finally:
        sender.close()
        receiver.close()


# ---- the pair ------------------------------------------------------------------------------------


def accepted_pair(app: Flask) -> tuple[int, Session, Session]:
    """A mentee and a mentor whose request was accepted: the chat is open."""
    with app.test_request_context():
        mentee, mentor = (
            User(
                email=f"{name.lower()}@example.org",
                password_hash="-" + secrets.token_hex(8),
                display_name=name,
                email_confirmed_at=utcnow(),
            )
            for name in ("Ada", "Rui")
        )
        db.session.add_all([mentee, mentor])
        db.session.flush()
        save_profile_fields(mentee, {"wants_to_be_mentored": True})
        save_profile_fields(mentor, {"wants_to_mentor": True})
        db.session.add(MentorVerification(user_id=mentor.id, state=VERIFIED, decided_at=utcnow()))
        mentorship = lifecycle.send_request(mentee, mentor, "Would you mentor me?")
        lifecycle.accept_request(mentorship.id, mentor)
        db.session.commit()
        return (
            mentorship.id,
            member_session(app, mentee.id),
            member_session(app, mentor.id),
        )


def stored_messages(app: Flask) -> int:
    from plugins.mentoring.models import ChatMessage

    with app.app_context():
        count = db.session.query(ChatMessage).count()
        db.session.remove()
        return count


# ---- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300, help="one at a time, per round")
    parser.add_argument("--burst", type=int, default=1000, help="for the throughput, per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default=DEFAULT_SERVER, help="a PostgreSQL server URL")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="alma-bench-chat-") as folder,
        throwaway_database(args.server) as url,
    ):
        secret = secrets.token_urlsafe(32)
        app = create_app(
            {"DATABASE_URL": url, "PLUGINS": [*PLUGINS, "bench"], "SECRET_KEY": secret},
            instance_path=Path(folder) / "instance",
            extra_plugins={"bench": CeilingPlugin()},
        )
        upgrade(app)
        mentorship_id, mentee, mentor = accepted_pair(app)
        environment = {
            "ALMA_DATABASE_URL": url,
            "ALMA_PLUGINS": ",".join(PLUGINS),
            "ALMA_SECRET_KEY": secret,
            "ALMA_INSTANCE_PATH": str(Path(folder) / "web"),
            # one mentee sends every message: the chat's rate limit is checked on each, as
            # in production, but set far above what a run sends
            "ALMA_RATE_LIMITS": "mentoring-chat=1000000/minute",
        }
        alma = alma_protocol(mentorship_id)
        runs: dict[str, list[ChatRun]] = {"minimal": [], "alma": [], "alma via Redis": []}
        with ExitStack() as servers:
            log = Path(folder)
            minimal_server = servers.enter_context(
                gunicorn_gthread("bench.chat:minimal_app()", {}, log / "minimal.log")
            )
            alma_server = servers.enter_context(
                gunicorn_gthread("bench.wsgi:app", environment, log / "alma.log")
            )
            for number in range(args.rounds):
                minimal_pair, alma_pair = (minimal_server,) * 2, (alma_server,) * 2
                runs["minimal"].append(run_pair(minimal_pair, (None, None), MINIMAL, args, url))
                runs["alma"].append(run_pair(alma_pair, (mentee, mentor), alma, args, url))
                print(f"  round {number + 1} done", flush=True)
        channel = {
            "ALMA_SOCKETIO_MESSAGE_QUEUE": args.redis,
            "ALMA_SOCKETIO_CHANNEL": f"alma-bench-{secrets.token_hex(6)}",
            "ALMA_RATE_LIMIT_KEY_PREFIX": f"alma-bench-{secrets.token_hex(6)}",
        }
        with ExitStack() as servers:
            started = [
                servers.enter_context(
                    gunicorn_gthread(
                        "bench.wsgi:app", environment | channel, Path(folder) / f"web-{n}.log"
                    )
                )
                for n in (1, 2)
            ]
            for _ in range(args.rounds):
                runs["alma via Redis"].append(
                    run_pair((started[0], started[1]), (mentee, mentor), alma, args, url)
                )
        stored = stored_messages(app)
        with app.app_context():
            db.engine.dispose()
    report(runs, stored, args)


def report(runs: dict[str, list[ChatRun]], stored: int, args: argparse.Namespace) -> None:
    def median(name: str, figure: Callable[[ChatRun], float]) -> float:
        return statistics.median(figure(run) for run in runs[name])

    figures = {
        name: (
            median(name, lambda run: run.percentile(0.5)),
            median(name, lambda run: run.percentile(0.99)),
            median(name, lambda run: run.per_second),
            median(name, lambda run: run.cpu_ms),
        )
        for name in runs
    }
    print(
        f"\nchat: {args.messages} round trips one at a time and a burst of {args.burst} "
        f"(at most {WINDOW} in flight) per round; medians of {args.rounds} rounds; "
        f"{stored:,} messages stored; machine: {machine()}"
    )
    print(f"{'':<18}{'p50 ms':>8}{'p99 ms':>8}{'msg/s':>8}{'p99 x':>7}{'msg/s x':>9}{'CPU ms':>8}")
    minimal = figures["minimal"]
    for name, (p50, p99, rate, cpu) in figures.items():
        print(
            f"{name:<18}{p50:>8.2f}{p99:>8.2f}{rate:>8.0f}"
            f"{p99 / minimal[1]:>7.2f}{rate / minimal[2]:>9.2f}{cpu:>8.2f}"
        )
    p50, p99, rate, cpu = figures["alma"]
    verdicts = [
        (f"alma p50 under {P50_MS} ms", p50 < P50_MS),
        (f"alma p99 at most {P99_FACTOR}x the minimal app's", p99 <= P99_FACTOR * minimal[1]),
        (
            f"alma throughput at least {THROUGHPUT_SHARE}x the minimal app's",
            rate >= THROUGHPUT_SHARE * minimal[2],
        ),
        (f"alma server CPU per message at most {CPU_MS} ms", cpu <= CPU_MS),
        (
            f"through Redis, p50 under {REDIS_P50_MS} ms",
            figures["alma via Redis"][0] < REDIS_P50_MS,
        ),
    ]
    for label, passed in verdicts:
        print(f"  {'pass' if passed else 'FAIL'}  {label}")


if __name__ == "__main__":
    main()
