"""How fast alma's member pages are under load, served by gunicorn on a realistic data set,
as ratios to ceiling routes of the same app measured in the same run.

    .venv/bin/python -m bench.pages [--scale 0.1 --scale 1] [--rounds 3] [--seconds 10]
        [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

For each scale (default: 1/10 of the data set, then all of it) it builds the community of
``bench/dataset.py`` in a PostgreSQL database of its own, counts the SQL statements of each
page in this process (Flask's test client), then serves the app with gunicorn (2 sync
workers, as ``bench/wsgi.py``) and loads each route in turn with wrk (8 connections, one per
wrk thread, ``--seconds`` per step), over ``--rounds`` interleaved rounds so that the noise of
a shared machine hits every route alike. Member pages carry a logged-in session cookie.
The member page shell (``/bench/shell``: the member loaded, the navigation's badges and
``base.html`` around an empty page) is measured too: no member page can be faster.

The request + accept flow posts a mentorship request as a mentee, then accepts it as the
mentor, each pair fresh (``--pairs`` prepared mentee/mentor pairs), and is compared with the
route that does one INSERT and a commit; pages are compared with the route that does one
indexed SELECT, and the shell, the wiki article and the mentor search with their lean twins
(``bench/lean.py``, served by a gunicorn of its own in the same rounds).

The primary figure is the **server CPU per request**: the user + system time of the gunicorn
workers and of the PostgreSQL backends serving them, read from ``/proc`` before and after each
wrk step (``bench/cpu.py``), divided by the requests served. Before serving, the same is
measured in this process (Flask's test client, ``--loops`` requests per route, then as many
request and accept posts), without HTTP or concurrency. The machine's cores and load
average are printed beside the figures. ``--in-process-only`` skips gunicorn and wrk.
Targets (issue 17): see ``CPU_TARGET_MS`` and the constants beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from flask_login.utils import _create_identifier
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.pool import NullPool
from werkzeug.test import TestResponse

from bench.ceilings import CeilingPlugin, create_write_table
from bench.cpu import CpuMeter, CpuUsed, children_of, machine
from bench.dataset import (
    DEFAULT_SERVER,
    PLUGINS,
    Landmarks,
    build_database,
    copy_rows,
    reset_sequences,
    throwaway_database,
    verified_mentors,
)
from bench.lean import create_lean_app, dispose
from bench.stack import create_stack_app
from bench.stack import dispose as dispose_stack
from core.app import create_app
from core.db import db, utcnow
from core.models import LoginSession, User
from core.services.accounts import hash_password
from core.testing import free_port, sql_statements
from plugins.mentoring.models import MentoringMember, Mentorship, MentorVerification

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
USER_AGENT = "alma-bench"
CONNECTIONS = 8
WORKERS = 2
MENTOR_CAPACITY = 20  # each flow mentor accepts up to this many of the prepared requests

SELECT_CEILING, INSERT_CEILING, FLOW = "one SELECT (ceiling)", "INSERT+commit (ceiling)", "flow"
SHELL = "member page shell (floor)"  # no page of a member can be faster
# issue 17's targets: throughput as a share of the SELECT ceiling's (the shell's higher), p99
# at most 4x p50, the flow as a share of the INSERT ceiling's, each page's server CPU per
# request (app + database, ms) and at most 1.3x its lean twin's
PAGE_RPS_TARGET, SHELL_RPS_TARGET, P99_OVER_P50, PAGE_SQL_TARGET = 0.25, 0.6, 4.0, 10
FLOW_TARGET, LEAN_TARGET = 0.15, 1.3
CPU_TARGET_MS = {
    SHELL: 1.0,
    "wiki article": 2.5,
    "profile Overview": 4.0,
    "mentor search": 4.0,
    "mentorship + chat": 4.0,
    "group page": 4.0,
    "flow: request": 5.0,
    "flow: accept": 6.0,
}
STACK_SHELL = "stack: shell"  # bench/stack.py: the lean shell with alma's libraries
TWIN_OF = {SHELL: "lean: shell", STACK_SHELL: "lean: shell"}  # pages' twins: by their routes
SAME_AT_SCALE = 0.8  # at full size, a page keeps at least this share of its 1/10 ratio


# ---- sessions as a logged-in browser has them ----------------------------------------------------


@dataclass(frozen=True)
class Session:
    cookie: str  # the value of the ``session`` cookie
    csrf_token: str  # what a form of that session posts


def member_session(app: Flask, user_id: int) -> Session:
    """A session cookie logging the member in, as after a login from 127.0.0.1 with the
    benchmark's user agent (like core.testing.session_cookie, plus what flask-login and
    Flask-WTF keep in a real session: the ``_id`` that session protection compares, so no
    response rewrites the cookie, and the CSRF secret its forms' tokens are signed from)."""
    now = utcnow()
    with app.app_context(), db.engine.begin() as connection:
        session_id = connection.scalar(
            insert(LoginSession)
            .values(user_id=user_id, user_agent=USER_AGENT, created_at=now, last_seen_at=now)
            .returning(LoginSession.id)
        )
    identifier = session_identifier(app)
    csrf_secret = secrets.token_hex(20)
    data = {
        "_user_id": f"{user_id}:s{session_id}",  # User.get_id()
        "_fresh": True,
        "_id": identifier,
        "csrf_token": csrf_secret,
    }
    cookie = app.session_interface.get_signing_serializer(app).dumps(data)
    token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(csrf_secret)
    return Session(cookie, token)


def session_identifier(app: Flask) -> str:
    """The ``_id`` flask-login's session protection computes for the benchmark's requests
    (from 127.0.0.1 with its user agent): computed by flask-login itself, since it hashes
    the bytes' ``repr`` of both (``b'127.0.0.1'|b'alma-bench'``), easy to get wrong."""
    environ = {"REMOTE_ADDR": "127.0.0.1"}
    headers = {"User-Agent": USER_AGENT}
    with app.test_request_context(environ_base=environ, headers=headers):
        return _create_identifier()


# ---- the request + accept flow -------------------------------------------------------------------


@dataclass
class FlowPairs:
    """Fresh mentees and mentors for the flow: pair ``n`` is mentee ``n % len(mentees)`` and
    mentor ``n % len(mentors)`` (all pairs distinct, no mentor above capacity)."""

    mentees: list[tuple[int, Session]]
    mentors: list[tuple[int, Session]]
    count: int

    def pair(self, number: int) -> tuple[tuple[int, Session], tuple[int, Session]]:
        return self.mentees[number % len(self.mentees)], self.mentors[number % len(self.mentors)]

    @property
    def first_user_id(self) -> int:
        return min(self.mentees[0][0], self.mentors[0][0])


def add_flow_pairs(app: Flask, count: int) -> FlowPairs:
    """Members for ``count`` request + accept flows, besides the community."""
    mentor_count = -(-count // MENTOR_CAPACITY)
    mentee_count = mentor_count + 1  # coprime with mentor_count: the first pairs are distinct
    with app.app_context(), db.engine.begin() as connection:
        first = connection.scalar(select(func.max(User.id))) + 1
        password = hash_password(secrets.token_urlsafe(12))
        ids = range(first, first + mentor_count + mentee_count)
        copy_rows(
            connection,
            User.__table__,
            (
                {
                    "id": user_id,
                    "email": f"flow{user_id}@example.org",
                    "password_hash": password,
                    "display_name": f"Flow member {user_id}",
                    "bio": "Here for the benchmark.",
                    "timezone": "UTC",
                    "email_confirmed_at": utcnow(),
                    "created_at": utcnow(),
                }
                for user_id in ids
            ),
        )
        copy_rows(
            connection,
            MentoringMember.__table__,
            (
                {"user_id": user_id, "capacity": MENTOR_CAPACITY, "wants_to_mentor": True}
                for user_id in ids[:mentor_count]
            ),
        )
        copy_rows(
            connection,
            MentoringMember.__table__,
            ({"user_id": user_id, "wants_to_be_mentored": True} for user_id in ids[mentor_count:]),
        )
        copy_rows(
            connection, MentorVerification.__table__, verified_mentors(ids[:mentor_count], utcnow())
        )
        reset_sequences(connection, [User.__table__])
    sessions = [(user_id, member_session(app, user_id)) for user_id in ids]
    return FlowPairs(sessions[mentor_count:], sessions[:mentor_count], count)


def write_flow_script(folder: Path, pairs: FlowPairs, first: int) -> Path:
    """The wrk script of the flow: each wrk thread (one connection) posts a request as the
    mentee of its next pair, reads the new mentorship's id from the redirect, and accepts
    it as the mentor; pairs from ``first`` on, shared out among the threads."""
    data = folder / f"pairs-{first}.lua"
    with data.open("w") as out:
        out.write("return {\n")
        for number in range(first, pairs.count):
            (_mentee, mentee_session), (mentor, mentor_session) = pairs.pair(number)
            out.write(
                f'{{m={mentor}, c="{mentee_session.cookie}", t="{mentee_session.csrf_token}",'
                f' mc="{mentor_session.cookie}", mt="{mentor_session.csrf_token}"}},\n'
            )
        out.write("}\n")
    script = folder / f"flow-{first}.lua"
    script.write_text(FLOW_SCRIPT.replace("PAIRS_FILE", str(data)) + REPORT_SCRIPT)
    return script


FLOW_SCRIPT = """
local threads, started = {}, 0
function setup(thread)
  thread:set("index", started)
  started = started + 1
  table.insert(threads, thread)
end
function init(args)
  pairs_data = dofile("PAIRS_FILE")
  stride = tonumber(args[1])
  next_pair = index + 1
  flows, refused = 0, 0
end
local function form_post(path, cookie, body)
  return wrk.format("POST", path, {
    ["Cookie"] = "session=" .. cookie,
    ["User-Agent"] = "alma-bench",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end
function request()
  if accepting then
    return form_post("/mentoring/" .. accepting.id .. "/accept", accepting.pair.mc,
      "csrf_token=" .. accepting.pair.mt)
  end
  current = pairs_data[next_pair]
  if current == nil then
    wrk.thread:stop()
    return wrk.format("GET", "/bench/constant")
  end
  next_pair = next_pair + stride
  return form_post("/mentoring/request/" .. current.m, current.c,
    "csrf_token=" .. current.t .. "&message=Would+you+mentor+me%3F&topics=Python")
end
function response(status, headers, body)
  if accepting then
    flows = flows + 1
    accepting = nil
  elseif current then
    local id = (headers["Location"] or ""):match("/mentoring/(%d+)")
    if status == 302 and id then
      accepting = {id = id, pair = current}
    else
      refused = refused + 1
    end
    current = nil
  end
end
"""

REPORT_SCRIPT = """
function done(summary, latency, requests)
  local flows, refused, used = 0, 0, 0
  for _, thread in ipairs(threads or {}) do
    flows = flows + (thread:get("flows") or 0)
    refused = refused + (thread:get("refused") or 0)
    used = math.max(used, thread:get("next_pair") or 0)
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"errors": %d, "bad_status": %d, "flows": %d, "refused": %d, "pairs_used": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, errors.connect + errors.read + errors.write + errors.timeout,
    errors.status, flows, refused, used))
end
"""

POST_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""


def send(app: Flask, method: str, path: str, session: Session | None, **form) -> TestResponse:
    """One request through the app in this process, as wrk sends it (from 127.0.0.1, with
    the benchmark's user agent and the session's cookie and CSRF token); it must succeed."""
    client = app.test_client(use_cookies=False)
    headers = {"User-Agent": USER_AGENT}
    if session:
        headers["Cookie"] = f"session={session.cookie}"
        form = {"csrf_token": session.csrf_token, **form} if method == "POST" else form
    response = client.open(
        path,
        method=method,
        headers=headers,
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        data=form or None,
    )
    assert response.status_code in (200, 302), (path, response.status_code)
    return response


def statements_of(app: Flask, method: str, path: str, session: Session | None, **form) -> list[str]:
    """The SQL one request runs (the third of three, so that caches are warm)."""
    for _ in range(2 if method == "GET" else 0):
        send(app, method, path, session)
    with sql_statements(app) as statements:
        send(app, method, path, session, **form)
    return statements


def flow_statements(app: Flask, pairs: FlowPairs) -> tuple[list[str], list[str]]:
    """The statements of the request post and of the accept post, on pair 0."""
    (_mentee, mentee_session), (mentor, mentor_session) = pairs.pair(0)
    asked = statements_of(
        app, "POST", f"/mentoring/request/{mentor}", mentee_session, message="Hello", topics=""
    )
    with app.app_context():
        mentorship_id = db.session.scalar(
            select(func.max(Mentorship.id)).where(Mentorship.mentor_id == mentor)
        )
    accepted = statements_of(app, "POST", f"/mentoring/{mentorship_id}/accept", mentor_session)
    return asked, accepted


# ---- serving and loading -------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # gunicorn's master: its children are the workers

    def workers(self) -> list[int]:
        return children_of(self.pid)


@contextmanager
def gunicorn(
    environment: dict[str, str], folder: Path, target: str = "bench.wsgi:app"
) -> Iterator[Server]:
    """The app ``target`` (alma's of bench/wsgi.py) served by gunicorn (2 sync workers) on a
    free port."""
    port = free_port()
    log_path = folder / f"gunicorn-{port}.log"
    log = log_path.open("wb")
    command = [str(BIN / "gunicorn"), "-w", str(WORKERS), "-k", "sync", "--no-control-socket"]
    server = subprocess.Popen(
        [*command, "-b", f"127.0.0.1:{port}", target],
        cwd=ROOT,
        env=os.environ | environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url, server, log_path)
        yield Server(url, server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def wait_for(probe: str, server: subprocess.Popen, log: Path) -> None:
    """Until gunicorn answers at the URL ``probe``, whatever the status (or fails: its log
    tells why)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped:\n{log.read_text()}")
        try:
            requests.get(probe, timeout=2)
            return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within 60 s:\n{log.read_text()}")


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    session: Session | None = None
    script: Path | None = None  # the ceilings' reporting script if None
    script_args: tuple[str, ...] = ()
    server: str = "alma"  # or "lean" (bench/lean.py), or "stack" (bench/stack.py, in-process)
    twin: str | None = None  # the name of this page's lean twin


def run_wrk(url: str, route: Route, seconds: float, meter: CpuMeter) -> dict[str, Any]:
    command = ["wrk", "-t", str(CONNECTIONS), "-c", str(CONNECTIONS), "-d", f"{seconds:.0f}s"]
    command += ["-H", f"User-Agent: {USER_AGENT}", "-s", str(route.script)]
    if route.session:
        command += ["-H", f"Cookie: session={route.session.cookie}"]
    before = meter.sample()
    done = subprocess.run(
        [*command, f"{url}{route.path}", *route.script_args],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    used = meter.since(before)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed on {route.name}:\n{done.stdout}{done.stderr}")
    line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH "))
    result = json.loads(line.removeprefix("BENCH "))
    result["rps"] = result["requests"] / result["seconds"]
    result["app_cpu_ms"], result["db_cpu_ms"] = used.per_request_ms(result["requests"])
    return result


# ---- one scale -----------------------------------------------------------------------------------


@dataclass
class ScaleResult:
    scale: float
    built_seconds: float
    counts: dict[str, int]
    machine: str = ""
    statements: dict[str, int] = field(default_factory=dict)
    # app and database CPU ms per request, in this process (Flask's test client)
    in_process: dict[str, tuple[float, float]] = field(default_factory=dict)
    html_bytes: dict[str, int] = field(default_factory=dict)
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    twins: dict[str, str] = field(default_factory=dict)  # page -> its lean twin

    def cpu_ms(self, name: str) -> float:
        """Median server CPU per request under load (app + database)."""
        return statistics.median(run["app_cpu_ms"] + run["db_cpu_ms"] for run in self.runs[name])

    def median(self, name: str, key: str) -> float:
        return statistics.median(run[key] for run in self.runs[name])

    def rate(self, name: str) -> float:
        """Requests per second, or flows per second for the flow."""
        if name == FLOW:
            return statistics.median(run["flows"] / run["seconds"] for run in self.runs[name])
        return self.median(name, "rps")


def page_routes(landmarks: Landmarks, viewer: Session) -> list[Route]:
    search = f"/mentoring/mentors?q={landmarks.search_word}"
    return [
        Route("profile Overview", f"/members/{landmarks.viewer_id}", viewer),
        Route("mentor search", search, viewer, twin="lean: mentor search"),
        Route("mentorship + chat", f"/mentoring/{landmarks.long_chat_id}", viewer),
        Route("wiki article", landmarks.article_path, viewer, twin="lean: wiki article"),
        Route("group page", f"/groups/{landmarks.group_id}", viewer),
    ]


def lean_routes(landmarks: Landmarks, viewer: Session) -> list[Route]:
    """The lean twins of the shell, the wiki article and the search (bench/lean.py)."""
    return [
        Route("lean: shell", "/lean/shell", viewer, server="lean"),
        Route("lean: wiki article", f"/lean{landmarks.article_path}", viewer, server="lean"),
        Route(
            "lean: mentor search",
            f"/lean/mentors?q={landmarks.search_word}",
            viewer,
            server="lean",
        ),
    ]


def stack_routes(viewer: Session) -> list[Route]:
    """The stack twin's shell (bench/stack.py), measured in this process only: it shows what
    alma's libraries cost, not a rate to reach under load."""
    return [Route(STACK_SHELL, "/stack/shell", viewer, server="stack")]


# ---- server CPU per request, in this process -----------------------------------------------------


def cpu_in_process(
    apps: dict[str, Flask],
    routes: list[Route],
    pairs: FlowPairs,
    loops: int,
    meter: CpuMeter,
    result: ScaleResult,
) -> None:
    """The app and database CPU of each route served ``loops`` times by Flask's test client
    in this process (no HTTP, no other worker), after two warm-up requests; then of ``loops``
    flows' request posts and accept posts, each kind in a batch (pairs 1 to ``loops``)."""
    for route in routes:
        app = apps[route.server]
        send(app, "GET", route.path, route.session)
        send(app, "GET", route.path, route.session)
        before = meter.sample()
        for _ in range(loops):
            send(app, "GET", route.path, route.session)
        result.in_process[route.name] = meter.since(before).per_request_ms(loops)
    app = apps["alma"]
    asked, accepted = [0.0, 0.0], [0.0, 0.0]
    batch = len(pairs.mentees)  # one pending request per mentee at a time
    for first in range(1, loops + 1, batch):
        numbers = range(first, min(first + batch, loops + 1))
        before = meter.sample()
        for number in numbers:
            (_mentee, mentee_session), (mentor, _mentor_session) = pairs.pair(number)
            send(app, "POST", f"/mentoring/request/{mentor}", mentee_session, message="Hello")
        add_cpu(asked, meter.since(before))
        accepts = [(requested_mentorship(app, pairs, number), number) for number in numbers]
        before = meter.sample()
        for mentorship_id, number in accepts:
            _mentee, (_mentor, mentor_session) = pairs.pair(number)
            send(app, "POST", f"/mentoring/{mentorship_id}/accept", mentor_session)
        add_cpu(accepted, meter.since(before))
    result.in_process["flow: request"] = CpuUsed(*asked).per_request_ms(loops)
    result.in_process["flow: accept"] = CpuUsed(*accepted).per_request_ms(loops)


def add_cpu(total: list[float], used: CpuUsed) -> None:
    total[0] += used.server
    total[1] += used.database


def requested_mentorship(app: Flask, pairs: FlowPairs, number: int) -> int:
    (mentee, _session), (mentor, _mentor_session) = pairs.pair(number)
    with app.app_context():
        found = db.session.scalar(
            select(Mentorship.id).where(
                Mentorship.mentee_id == mentee,
                Mentorship.mentor_id == mentor,
                Mentorship.state == "requested",
            )
        )
        db.session.remove()
    return found


@contextmanager
def cpu_meter(url: str, server_pids: Callable[[], list[int]]) -> Iterator[CpuMeter]:
    """A meter of the web processes ``server_pids()`` and of the database at ``url``'s
    backends, asking which they are on a connection of its own."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as connection:
        yield CpuMeter(server_pids, connection)
    engine.dispose()


def run_scale(args: argparse.Namespace, scale: float, folder: Path) -> ScaleResult:
    with throwaway_database(args.server) as url:
        secret = secrets.token_urlsafe(32)
        settings = {"DATABASE_URL": url, "PLUGINS": [*PLUGINS, "bench"], "SECRET_KEY": secret}
        app = create_app(
            settings,
            instance_path=tempfile.mkdtemp(prefix="alma-bench-", dir=folder),
            extra_plugins={"bench": CeilingPlugin()},
        )
        landmarks, built = build_database(app, scale)
        with app.app_context(), db.engine.begin() as connection:
            create_write_table(connection)
        print(f"\nscale {scale}: data set built in {built:.0f} s", flush=True)
        viewer = member_session(app, landmarks.viewer_id)
        pairs = add_flow_pairs(app, args.pairs)
        result = ScaleResult(scale, built, landmarks.counts, machine=machine())
        pages = page_routes(landmarks, viewer)
        result.twins = TWIN_OF | {page.name: page.twin for page in pages if page.twin}
        count_statements(app, pages, pairs, result, args.show_sql)
        if not args.sql_only:
            ceilings = ceiling_routes(folder, landmarks, viewer)
            routes = [*ceilings, *pages, *lean_routes(landmarks, viewer)]
            in_process = [*routes, *stack_routes(viewer)]
            measure_in_process(app, url, secret, in_process, pairs, args.loops, result)
            if not args.in_process_only:
                serve_and_load(args, url, secret, routes, pairs, folder, result)
                # pair 0 counted the statements, the next args.loops ran in this process
                check_flows(app, pairs, result, args.rounds, accepted_before=1 + args.loops)
        with app.app_context():
            db.engine.dispose()
    return result


def measure_in_process(
    app: Flask,
    url: str,
    secret: str,
    routes: list[Route],
    pairs: FlowPairs,
    loops: int,
    result: ScaleResult,
) -> None:
    """Each page's HTML size and the server CPU of each route (GET) and flow post, in this
    process, for alma, the lean reference and (the shell only) the stack twin."""
    lean, stack = create_lean_app(url, secret), create_stack_app(url, secret)
    apps = {"alma": app, "lean": lean, "stack": stack}
    pages_read = [route for route in routes if route.name != INSERT_CEILING]
    measure_html(apps, pages_read, result)
    with cpu_meter(url, lambda: [os.getpid()]) as meter:
        cpu_in_process(apps, pages_read, pairs, loops, meter, result)
    dispose(lean)
    dispose_stack(stack)
    with app.app_context():
        db.engine.dispose()


def serve_and_load(
    args: argparse.Namespace,
    url: str,
    secret: str,
    routes: list[Route],
    pairs: FlowPairs,
    folder: Path,
    result: ScaleResult,
) -> None:
    """alma and the lean reference, each served by gunicorn, loaded by wrk in rounds."""
    environment = {
        "ALMA_DATABASE_URL": url,
        "ALMA_PLUGINS": ",".join(PLUGINS),
        "ALMA_SECRET_KEY": secret,
        "ALMA_INSTANCE_PATH": tempfile.mkdtemp(prefix="alma-bench-web-", dir=folder),
    }
    with (
        gunicorn(environment, folder) as alma,
        gunicorn(environment, folder, "bench.lean:app_from_environment()") as lean,
    ):
        servers = {"alma": alma, "lean": lean}
        with cpu_meter(url, lambda: [*alma.workers(), *lean.workers()]) as meter:
            load_in_rounds(args, servers, routes, pairs, folder, result, meter)


def measure_html(apps: dict[str, Flask], routes: list[Route], result: ScaleResult) -> None:
    """The size of each page's HTML: a lean twin must show as much as its alma page."""
    for route in routes:
        result.html_bytes[route.name] = len(
            send(apps[route.server], "GET", route.path, route.session).data
        )


def count_statements(
    app: Flask, pages: list[Route], pairs: FlowPairs, result: ScaleResult, show: bool
) -> None:
    for route in pages:
        found = statements_of(app, "GET", route.path, route.session)
        result.statements[route.name] = len(found)
        if show:
            print(f"-- {route.name}: {len(found)} statements", *found, sep="\n")
    asked, accepted = flow_statements(app, pairs)
    result.statements["flow: request"] = len(asked)
    result.statements["flow: accept"] = len(accepted)


def ceiling_routes(folder: Path, landmarks: Landmarks, viewer: Session) -> list[Route]:
    get_script = folder / "get.lua"
    get_script.write_text(REPORT_SCRIPT)
    post_script = folder / "post.lua"
    post_script.write_text(POST_SCRIPT + REPORT_SCRIPT)
    return [
        Route("constant (ceiling)", "/bench/constant", script=get_script),
        Route(SELECT_CEILING, f"/bench/select?id={landmarks.viewer_id}", script=get_script),
        Route(INSERT_CEILING, "/bench/insert", script=post_script),
        Route(SHELL, "/bench/shell", viewer, script=get_script),
    ]


def load_in_rounds(
    args: argparse.Namespace,
    servers: dict[str, Server],
    routes: list[Route],
    pairs: FlowPairs,
    folder: Path,
    result: ScaleResult,
    meter: CpuMeter,
) -> None:
    """Every route in turn, then the flow, ``args.rounds`` times (after a short warm-up:
    each worker imports and connects)."""
    get_script = routes[0].script
    routes = [replace(route, script=route.script or get_script) for route in routes]
    for route in routes:
        run_wrk(servers[route.server].url, route, 1, meter)
    next_pair = args.loops + 1  # pair 0 made the statement counts, the next the in-process runs
    for number in range(args.rounds):
        for route in [*routes, None]:
            if route is None:  # the flow, on pairs never used
                script = write_flow_script(folder, pairs, first=next_pair)
                route = Route(FLOW, "/", script=script, script_args=(str(CONNECTIONS),))
            run = run_wrk(servers[route.server].url, route, args.seconds, meter)
            if route.name == FLOW:  # past the furthest pair any wrk thread took
                next_pair += max(0, run["pairs_used"] - 1)
            result.runs.setdefault(route.name, []).append(run)
            print(
                f"  round {number + 1} {route.name:<24}{run['rps']:>8.0f} req/s"
                f"{run['p99_ms']:>8.1f} ms p99"
                f"{run['app_cpu_ms'] + run['db_cpu_ms']:>8.2f} ms CPU",
                flush=True,
            )


def check_flows(
    app: Flask, pairs: FlowPairs, result: ScaleResult, rounds: int, accepted_before: int
) -> None:
    """Every flow counted made an accepted mentorship, beside the ``accepted_before`` made
    before wrk ran; a flow whose accept was on its way when wrk stopped is done too, but
    not counted."""
    accepted = count_accepted(app, pairs) - accepted_before
    flows = sum(run["flows"] for run in result.runs[FLOW])
    if not 0 <= accepted - flows <= CONNECTIONS * rounds:
        print(f"  warning: {flows} flows counted but {accepted} mentorships accepted")


def count_accepted(app: Flask, pairs: FlowPairs) -> int:
    with app.app_context():
        accepted = db.session.scalar(
            select(func.count()).where(
                Mentorship.mentee_id >= pairs.first_user_id, Mentorship.state == "accepted"
            )
        )
        db.session.remove()
        return accepted


# ---- the report ----------------------------------------------------------------------------------


def report(results: list[ScaleResult]) -> None:
    for result in results:
        print_in_process(result)
        if result.runs:
            print_scale(result)
    if len(results) > 1 and results[0].runs:
        print_growth(results[0], results[-1])


def print_scale(result: ScaleResult) -> None:
    select_rate = result.rate(SELECT_CEILING)
    insert_rate = result.rate(INSERT_CEILING)
    print(
        f"\n== scale {result.scale}: {result.counts['users']:,} members, "
        f"{result.counts['mentoring_messages']:,} messages, "
        f"{result.counts['credits_entries']:,} credit entries; medians of "
        f"{len(result.runs[SELECT_CEILING])} rounds"
    )
    print(f"machine: {result.machine}")
    print(
        f"{'route':<26}{'req/s':>8}{'x SELECT':>10}{'p50 ms':>8}{'p99 ms':>8}{'SQL':>5}"
        f"{'app ms':>8}{'db ms':>7}{'CPU ms':>8}{'x lean':>8}  target"
    )
    for name in result.runs:
        if name == FLOW:
            continue
        rate, p50, p99 = (
            result.rate(name),
            result.median(name, "p50_ms"),
            result.median(name, "p99_ms"),
        )
        app_ms, db_ms = result.median(name, "app_cpu_ms"), result.median(name, "db_cpu_ms")
        twin = result.twins.get(name)
        lean = (app_ms + db_ms) / result.cpu_ms(twin) if twin in result.runs else None
        sql = result.statements.get(name)
        verdict = ""
        if sql is not None or name == SHELL:
            ok = (
                rate / select_rate >= (SHELL_RPS_TARGET if name == SHELL else PAGE_RPS_TARGET)
                and p99 <= P99_OVER_P50 * p50
                and (sql or 0) <= PAGE_SQL_TARGET
                and app_ms + db_ms <= CPU_TARGET_MS.get(name, float("inf"))
                and (lean is None or lean <= LEAN_TARGET)
            )
            verdict = "pass" if ok else "FAIL"
        print(
            f"{name:<26}{rate:>8.0f}{rate / select_rate:>10.2f}{p50:>8.1f}{p99:>8.1f}"
            f"{sql if sql is not None else '':>5}{app_ms:>8.2f}{db_ms:>7.2f}"
            f"{app_ms + db_ms:>8.2f}{f'{lean:.2f}' if lean else '':>8}  {verdict}"
        )
    posts_cpu = result.cpu_ms(FLOW)
    flows, posts = result.rate(FLOW), result.median(FLOW, "rps")
    sql = f"{result.statements['flow: request']}+{result.statements['flow: accept']}"
    print(f"\n{'':<26}{'per s':>8}{'x INSERT':>10}{'p50 ms':>8}{'p99 ms':>8}{'SQL':>7}  target")
    print(
        f"{'request + accept flows':<26}{flows:>8.0f}{flows / insert_rate:>10.2f}"
        f"{'':>16}{sql:>7}  {'pass' if flows / insert_rate >= FLOW_TARGET else 'FAIL'}"
    )
    print(
        f"{'  their posts':<26}{posts:>8.0f}{posts / insert_rate:>10.2f}"
        f"{result.median(FLOW, 'p50_ms'):>8.1f}{result.median(FLOW, 'p99_ms'):>8.1f}"
        f"   {posts_cpu:.2f} ms CPU per post"
    )


def print_in_process(result: ScaleResult) -> None:
    """Server CPU per request measured in this process: no HTTP, nothing else running."""
    print(
        f"\n== scale {result.scale}, in this process (Flask's test client): server CPU per "
        f"request; machine: {result.machine}"
    )
    print(f"{'route':<26}{'app ms':>8}{'db ms':>7}{'CPU ms':>8}{'x lean':>8}{'HTML kB':>9}  target")
    for name, (app_ms, db_ms) in result.in_process.items():
        twin = result.twins.get(name)
        lean = (app_ms + db_ms) / sum(result.in_process[twin]) if twin else None
        target = CPU_TARGET_MS.get(name)
        verdict = ""
        if target is not None:
            ok = app_ms + db_ms <= target and (lean is None or lean <= LEAN_TARGET)
            verdict = "pass" if ok else "FAIL"
        size = result.html_bytes.get(name)
        print(
            f"{name:<26}{app_ms:>8.2f}{db_ms:>7.2f}{app_ms + db_ms:>8.2f}"
            f"{f'{lean:.2f}' if lean else '':>8}{f'{size / 1000:.1f}' if size else '':>9}"
            f"  {verdict}"
        )


def print_growth(small: ScaleResult, large: ScaleResult) -> None:
    print(
        f"\n== from scale {small.scale} to {large.scale}: ratio to the SELECT ceiling, SQL "
        f"statements (the same or fewer, and at least {SAME_AT_SCALE}x the ratio: pass)"
    )
    for name, sql in small.statements.items():
        if name not in small.runs:
            continue
        before = small.rate(name) / small.rate(SELECT_CEILING)
        after = large.rate(name) / large.rate(SELECT_CEILING)
        same = after >= SAME_AT_SCALE * before and large.statements[name] <= sql
        print(
            f"{name:<26}{before:>8.2f}{after:>8.2f}{sql:>5}{large.statements[name]:>5}  "
            f"{'pass' if same else 'FAIL'}"
        )
    before = small.rate(FLOW) / small.rate(INSERT_CEILING)
    after = large.rate(FLOW) / large.rate(INSERT_CEILING)
    print(
        f"{'flows (x INSERT ceiling)':<26}{before:>8.2f}{after:>8.2f}  "
        f"{'pass' if after >= SAME_AT_SCALE * before else 'FAIL'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, action="append", help="repeatable; default 0.1 and 1"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10, help="per route and round")
    parser.add_argument("--pairs", type=int, default=3000, help="mentee/mentor pairs for the flow")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="a PostgreSQL server URL")
    parser.add_argument("--show-sql", action="store_true", help="print each page's statements")
    parser.add_argument("--sql-only", action="store_true", help="count statements, serve nothing")
    parser.add_argument(
        "--loops", type=int, default=200, help="requests per route in the in-process runs"
    )
    parser.add_argument(
        "--in-process-only", action="store_true", help="measure in this process, serve nothing"
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory(prefix="alma-bench-pages-") as folder:
        for scale in args.scale or [0.1, 1.0]:
            results.append(run_scale(args, scale, Path(folder)))
    if args.sql_only:
        for result in results:
            print(f"scale {result.scale}:", result.statements)
        return
    report(results)
    if args.json:
        args.json.write_text(json.dumps([vars(result) for result in results], indent=1))


if __name__ == "__main__":
    main()
