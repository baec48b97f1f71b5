"""How fast the staff's console answers on the full data set, in server time per request.

    .venv/bin/python -m bench.console [--scale 1] [--rounds 5] [--requests 20] [--show-sql]
        [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Builds the community of ``bench/dataset.py`` (10,000 members at scale 1) in a PostgreSQL
database of its own, adds what only the console reads (a year of audit log, suspended
members), makes the viewer an admin, then requests every console page through the WSGI app in
this process: each section every plugin contributes (found through the app, so a new section is
measured without changing this script), their filters and a member's page. Routes are visited
in turn, ``--rounds`` times with ``--requests`` each, so that the noise of a shared machine
hits them alike. It prints, per page, the median server time (the app's wall time, which
includes waiting for PostgreSQL), the app's CPU time, the ratio to a route returning a
constant, and the SQL statements one request runs. Target: every console page under 150 ms of
server time, with a statement count that does not grow with the data.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask, url_for
from sqlalchemy import select, update

from bench.ceilings import CeilingPlugin
from bench.dataset import (
    DEFAULT_SERVER,
    PLUGINS,
    build_database,
    copy_rows,
    reset_sequences,
    throwaway_database,
)
from bench.pages import USER_AGENT, Session, member_session, statements_of
from core.app import create_app
from core.db import db, utcnow
from core.models import REPORT_REASONS, REPORT_STATES, AuditEntry, Report, User
from core.state import alma

TARGET_MS = 150.0
AUDIT_ROWS = 50_000
SUSPENDED = 100
REPORTS = 5_000  # members' reports of profiles, OPEN_REPORTS of them waiting
OPEN_REPORTS = 200


@dataclass
class Timings:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def seed_console(app: Flask, viewer_id: int) -> tuple[int, str]:
    """Makes the viewer an admin, suspends some members and writes a year of audit log;
    returns a member to open and a word that finds members by name."""
    rng = random.Random(20261204)
    now = utcnow()
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(update(User).where(User.id == viewer_id).values(role="admin"))
        members = connection.execute(
            select(User.id, User.display_name.label("name")).order_by(User.id)
        ).all()
        suspended = rng.sample([m.id for m in members if m.id != viewer_id], SUSPENDED)
        connection.execute(update(User).where(User.id.in_(suspended)).values(suspended_at=now))
        acts = ("member.suspend", "member.unsuspend", "member.resend_confirmation")
        copy_rows(
            connection,
            AuditEntry.__table__,
            (
                {
                    "id": number,
                    "created_at": now - timedelta(minutes=rng.randrange(525_600)),
                    "actor_id": viewer_id,
                    "actor_label": "bench admin",
                    "actor_role": "admin",
                    "act": rng.choice(acts),
                    "target_kind": "member",
                    "target_id": member.id,
                    "target_label": member.name,
                    "reason": "benchmark",
                    "client_address": "127.0.0.1",
                }
                for number, member in enumerate(
                    (rng.choice(members) for _ in range(AUDIT_ROWS)), start=1
                )
            ),
        )
        # one report per reporter and item, so that the open ones keep their unique index
        copy_rows(
            connection,
            Report.__table__,
            (
                {
                    "id": number,
                    "reporter_id": members[number % len(members)].id,
                    "kind": "core.profile",
                    "item_id": (item := members[(number + 1) % len(members)]).id,
                    "reason": rng.choice(REPORT_REASONS),
                    "text": "",
                    "snapshot_title": f"Profile of {item.name}",
                    "snapshot_text": "benchmark",
                    "snapshot_url": f"/members/{item.id}",
                    "author_id": item.id,
                    "state": (
                        state := "open" if number <= OPEN_REPORTS else rng.choice(REPORT_STATES[1:])
                    ),
                    "created_at": now - timedelta(minutes=rng.randrange(525_600)),
                    "decided_at": None if state == "open" else now,
                    "decided_by_id": None if state == "open" else viewer_id,
                }
                for number in range(1, REPORTS + 1)
            ),
        )
        reset_sequences(connection, [AuditEntry.__table__, Report.__table__])
        target = members[len(members) // 2]
    return target.id, target.name.split()[0]


def console_routes(app: Flask, member_id: int, word: str) -> dict[str, str]:
    """Every section of the console, then the pages staff open most from them."""
    with app.test_request_context():
        routes = {"console home": url_for("admin.index")}
        for section in alma(app).admin_sections:
            routes[str(section.title)] = url_for(section.endpoint)
        routes["members: search by name"] = url_for("admin.members", q=word)
        routes["members: suspended"] = url_for("admin.members", state="suspended")
        routes["members: page 20"] = url_for("admin.members", page=20)
        routes["a member's page"] = url_for("admin.member", member_id=member_id)
        routes["audit log: one member"] = url_for("admin.audit", target=word)
        routes["audit log: page 100"] = url_for("admin.audit", page=100)
        routes["reports: hidden"] = url_for("admin.reports", state="hidden")
        routes["a report's page"] = url_for("admin.report", report_id=1)
        routes["mentorships: stuck"] = url_for("mentoring_admin.mentorships", stuck=1)
        routes["mentorships: one name"] = url_for("mentoring_admin.mentorships", q=word)
        routes["a mentorship's page"] = url_for("mentoring_admin.mentorship", mentorship_id=1)
        routes["statistics: 24 months"] = url_for("admin.statistics", months=24)
        routes["statistics: CSV"] = url_for("admin.statistics_export")
    return routes


def time_routes(
    app: Flask, routes: dict[str, str], viewer: Session, rounds: int, requests: int
) -> dict[str, Timings]:
    client = app.test_client(use_cookies=False)
    headers = {"User-Agent": USER_AGENT, "Cookie": f"session={viewer.cookie}"}
    environ = {"REMOTE_ADDR": "127.0.0.1"}
    timings = {name: Timings() for name in ["constant (reference)", *routes]}
    paths = {"constant (reference)": "/bench/constant", **routes}
    for name, path in paths.items():  # warm up: templates compiled, connections open
        response = client.get(path, headers=headers, environ_base=environ)
        if response.status_code != 200:
            raise SystemExit(f"{name}: {path} answered {response.status_code}")
    for _ in range(rounds):
        for name, path in paths.items():
            for _ in range(requests):
                wall, cpu = time.perf_counter(), time.process_time()
                client.get(path, headers=headers, environ_base=environ)
                timings[name].wall.append((time.perf_counter() - wall) * 1000)
                timings[name].cpu.append((time.process_time() - cpu) * 1000)
    return timings


def report(app: Flask, routes: dict[str, str], viewer: Session, timings, show_sql: bool) -> bool:
    constant = statistics.median(timings["constant (reference)"].wall)
    print(
        f"\n| page | path | server ms | app CPU ms | x constant | SQL | under {TARGET_MS:.0f} ms |"
    )
    print("|---|---|---:|---:|---:|---:|---|")
    print(f"| constant (reference) | `/bench/constant` | {constant:.2f} | | 1.0 | 0 | |")
    all_met = True
    for name, path in routes.items():
        wall = statistics.median(timings[name].wall)
        cpu = statistics.median(timings[name].cpu)
        found = statements_of(app, "GET", path, viewer)
        met = wall < TARGET_MS
        all_met &= met
        print(
            f"| {name} | `{path}` | {wall:.1f} | {cpu:.1f} | {wall / constant:.0f} "
            f"| {len(found)} | {'yes' if met else '**no**'} |"
        )
        if show_sql:
            print(*found, sep="\n")
    return all_met


def in_process_options(description: str) -> argparse.Namespace:
    """The options of a bench that requests through the WSGI app in its own process."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", type=float, default=1.0, help="1 is the full data set")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="a PostgreSQL server URL")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20, help="per route and round")
    parser.add_argument("--show-sql", action="store_true", help="print each page's statements")
    return parser.parse_args()


@contextmanager
def bench_app(server: str, name: str) -> Iterator[Flask]:
    """The app with every plugin and the bench's reference routes, on a database of its own
    that is dropped afterwards."""
    with throwaway_database(server) as url:
        app = create_app(
            {
                "DATABASE_URL": url,
                "PLUGINS": [*PLUGINS, "bench"],
                "SECRET_KEY": secrets.token_hex(),
            },
            instance_path=tempfile.mkdtemp(prefix=f"alma-bench-{name}-"),
            extra_plugins={"bench": CeilingPlugin()},
        )
        try:
            yield app
        finally:
            with app.app_context():
                db.engine.dispose()


def main() -> None:
    args = in_process_options(__doc__.splitlines()[0])
    with bench_app(args.server, "console") as app:
        landmarks, built = build_database(app, args.scale)
        member_id, word = seed_console(app, landmarks.viewer_id)
        print(f"scale {args.scale}: data set built in {built:.0f} s; {AUDIT_ROWS:,} audit rows")
        viewer = member_session(app, landmarks.viewer_id)
        routes = console_routes(app, member_id, word)
        timings = time_routes(app, routes, viewer, args.rounds, args.requests)
        met = report(app, routes, viewer, timings, args.show_sql)
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
