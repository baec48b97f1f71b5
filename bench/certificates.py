"""How long one certificate takes to render (HTML template + CSS → one-page PDF, WeasyPrint).

    .venv/bin/python bench/certificates.py [--renders 30] [--warm-up 3] [--database-url URL]

Issues a certificate the way production does (a goal completed by both parties, with facts),
then renders its PDF ``--renders`` times after a warm-up (the first render loads fonts and
parses the stylesheet machinery) and prints the median, the spread, and the PDF's size. The CPU time
is what the render costs this process: on a busy machine the wall time waits for a core too.
Target: a median under 100 ms. Without Debian's libharfbuzz-subset0, font subsetting makes
WeasyPrint several times slower.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from core import hookimpl
from core.app import create_app
from core.contributions import GoalKind
from core.db import db, utcnow
from core.models import User
from core.schema import upgrade
from core.services.goals import consent_to_goal, propose_goal

KIND = "bench.finished"


class BenchPlugin:
    @hookimpl
    def register_goal_kinds(self):
        return [GoalKind(KIND, "Finished a mentorship", describe=self.describe)]

    @staticmethod
    def describe(goal):
        mentor, mentee = (party.user.display_name for party in goal.parties)
        return [
            ("Mentor", mentor),
            ("Mentee", mentee),
            ("Period", "3 March \N{EN DASH} 30 June 2026"),
            ("Meetings held", "6"),
        ]


def issue_one_certificate():
    from plugins.certificates.models import Certificate

    mentor = User(
        email="ada@example.org",
        password_hash="-",
        display_name="Ada Lovelace",
        email_confirmed_at=utcnow(),
    )
    mentee = User(
        email="bob@example.org",
        password_hash="-",
        display_name="Bob Smith",
        email_confirmed_at=utcnow(),
    )
    db.session.add_all([mentor, mentee])
    db.session.flush()
    goal = propose_goal(KIND, "Mentorship of Bob Smith by Ada Lovelace", [mentor, mentee])
    consent_to_goal(goal.id, mentor)
    consent_to_goal(goal.id, mentee)
    db.session.commit()
    return db.session.scalars(db.select(Certificate).where(Certificate.user_id == mentee.id)).one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--warm-up", type=int, default=3)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="alma-bench-")
    app = create_app(
        {
            "DATABASE_URL": args.database_url,
            "PLUGINS": ["bench", "certificates"],
            "PLUGIN_SETTINGS": {"certificates": {"goal_kinds": [KIND]}},
            "SECRET_KEY": "bench",
            "BASE_URL": "https://mentoring.example.org",
        },
        instance_path=instance,
        extra_plugins={"bench": BenchPlugin()},
    )
    upgrade(app)
    from plugins.certificates.pdf import render_pdf

    with app.app_context():
        certificate = issue_one_certificate()
        started = time.perf_counter()
        pdf = render_pdf(certificate)
        first = time.perf_counter() - started
        for _ in range(args.warm_up - 1):
            render_pdf(certificate)
        timings, cpu_timings = [], []
        for _ in range(args.renders):
            started, cpu_started = time.perf_counter(), time.process_time()
            render_pdf(certificate)
            timings.append(time.perf_counter() - started)
            cpu_timings.append(time.process_time() - cpu_started)

    timings.sort()
    print(f"certificate render, {args.renders} renders after {args.warm_up} warm-up")
    print(f"first render (cold)   {first * 1000:8.1f} ms")
    print(f"median                {statistics.median(timings) * 1000:8.1f} ms")
    print(f"median CPU time       {statistics.median(cpu_timings) * 1000:8.1f} ms")
    print(f"fastest / slowest     {timings[0] * 1000:8.1f} / {timings[-1] * 1000:.1f} ms")
    print(f"PDF size              {len(pdf) / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()
