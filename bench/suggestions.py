""" "Suggested for you" on the full data set: server time and statements of the pages that
show it, beside the same pages without it.

    .venv/bin/python -m bench.suggestions [--scale 1] [--rounds 5] [--requests 20] [--show-sql]
        [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Builds the community of ``bench/dataset.py`` (10,000 members at scale 1, a third of them
mentors, each mentee with two interests) in a PostgreSQL database of its own, then requests
through the WSGI app in this process, in turn (``--rounds`` times, ``--requests`` each):
the directory's first page and the Mentoring area as the data set's mentee (with their
suggestions), the same pages as a mentor (who gets none), and the directory's search. It
prints per page the median server time, the app's CPU time and the statements one request
runs. Target: the pages with suggestions within the directory's own speed targets
(``bench/pages.py``: at most 10 statements, the same at every scale, p99 under 50 ms).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile

from flask import Flask
from sqlalchemy import select

from bench.ceilings import CeilingPlugin
from bench.console import Timings, time_routes
from bench.dataset import DEFAULT_SERVER, PLUGINS, SEARCH_WORD, build_database, throwaway_database
from bench.pages import Session, member_session, statements_of
from core.app import create_app
from core.db import db
from plugins.mentoring.models import MentoringMember

PAGES = {
    "directory, first page": "/mentoring/mentors",
    "Mentoring area": "/mentoring/",
    "directory, a search": f"/mentoring/mentors?q={SEARCH_WORD}",
}


def a_mentor(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(
            select(MentoringMember.user_id)
            .where(MentoringMember.wants_to_mentor.is_(True))
            .order_by(MentoringMember.user_id)
            .limit(1)
        )


def report(
    app: Flask, viewers: dict[str, Session], timings: dict[str, dict[str, Timings]], show_sql: bool
) -> None:
    print("\n| page | viewer | server ms (median) | p95 ms | app CPU ms | SQL |")
    print("|---|---|---:|---:|---:|---:|")
    for who, session in viewers.items():
        for name, path in PAGES.items():
            wall = sorted(timings[who][name].wall)
            found = statements_of(app, "GET", path, session)
            print(
                f"| {name} | {who} | {statistics.median(wall):.1f} "
                f"| {wall[int(len(wall) * 0.95)]:.1f} "
                f"| {statistics.median(timings[who][name].cpu):.1f} | {len(found)} |"
            )
            if show_sql:
                print(*found, sep="\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 is the full data set")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="a PostgreSQL server URL")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20, help="per route and round")
    parser.add_argument("--show-sql", action="store_true", help="print each page's statements")
    args = parser.parse_args()

    with throwaway_database(args.server) as url:
        app = create_app(
            {
                "DATABASE_URL": url,
                "PLUGINS": [*PLUGINS, "bench"],
                "SECRET_KEY": secrets.token_hex(),
            },
            instance_path=tempfile.mkdtemp(prefix="alma-bench-suggestions-"),
            extra_plugins={"bench": CeilingPlugin()},
        )
        landmarks, built = build_database(app, args.scale)
        print(f"scale {args.scale}: data set built in {built:.0f} s")
        viewers = {
            "mentee (suggestions)": member_session(app, landmarks.viewer_id),
            "mentor (none)": member_session(app, a_mentor(app)),
        }
        timings = {}
        for _ in range(args.rounds):  # interleaved: a shared machine's noise hits both alike
            for who, session in viewers.items():
                run = time_routes(app, PAGES, session, 1, args.requests)
                for name, found in run.items():
                    kept = timings.setdefault(who, {}).setdefault(name, Timings())
                    kept.wall += found.wall
                    kept.cpu += found.cpu
        report(app, viewers, timings, args.show_sql)
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
