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

import statistics

from flask import Flask
from sqlalchemy import select

from bench.console import Timings, bench_app, in_process_options, time_routes
from bench.dataset import SEARCH_WORD, build_database
from bench.pages import Session, member_session, statements_of
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
    args = in_process_options(__doc__.splitlines()[0])
    with bench_app(args.server, "suggestions") as app:
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


if __name__ == "__main__":
    main()
