"""Whether 1,000 jobs due at the same moment all start within 2 seconds.

    .venv/bin/python -m bench.scheduler [--jobs 1000] [--rounds 3]
        [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

A throwaway plugin registers ``--jobs`` one-off jobs (``"date"`` trigger) due at the same
instant, a few seconds ahead; core's ``build_scheduler`` schedules them exactly as ``alma
scheduler`` does (APScheduler's background scheduler, its default pool of 10 threads, each
job run by ``run_job`` in its own app context and unit of work, committed). Each job notes
when it started and reads one row, as a small job does (on PostgreSQL, in a database of its
own). Prints how late the first, the median, the 99th percentile and the last job started
after the due time. Target: the last within 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import timedelta

from flask import Flask
from sqlalchemy import text

from bench.dataset import DEFAULT_SERVER, throwaway_database
from core import hookimpl
from core.app import create_app
from core.contributions import Job
from core.db import db, utcnow
from core.scheduler import build_scheduler
from core.schema import upgrade

LEAD_SECONDS = 3.0  # the jobs are due this long after they are scheduled
TARGET_SECONDS = 2.0


class DueJobs:
    """A plugin whose jobs are all due at ``due`` and note when each started."""

    def __init__(self, count: int, due_in: float) -> None:
        self.count = count
        self.due_at = utcnow() + timedelta(seconds=due_in)
        self.due_clock = time.time() + due_in
        self.started: list[float] = []
        self.finished = threading.Semaphore(0)

    def run(self) -> None:
        self.started.append(time.time())
        db.session.execute(text("SELECT count(*) FROM users"))
        self.finished.release()

    @hookimpl
    def register_jobs(self):
        return [
            Job(f"bench.due_{number}", self.run, "date", {"run_date": self.due_at})
            for number in range(self.count)
        ]


def one_round(database_url: str, count: int) -> list[float]:
    """How late each job started, in seconds, in the order they started."""
    jobs = DueJobs(count, LEAD_SECONDS)
    app: Flask = create_app(
        {"DATABASE_URL": database_url, "PLUGINS": ["bench"], "SECRET_KEY": "bench"},
        instance_path=tempfile.mkdtemp(prefix="alma-bench-"),
        extra_plugins={"bench": jobs},
    )
    scheduler = build_scheduler(app)
    scheduler.start()
    try:
        for _ in range(count):
            if not jobs.finished.acquire(timeout=LEAD_SECONDS + 60):
                raise RuntimeError(f"only {len(jobs.started)} of {count} jobs ran")
    finally:
        scheduler.shutdown(wait=True)
        with app.app_context():
            db.engine.dispose()
    return [started - jobs.due_clock for started in sorted(jobs.started)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default=DEFAULT_SERVER, help="a PostgreSQL server URL")
    args = parser.parse_args()

    with throwaway_database(args.server) as url:
        upgrade(create_app({"DATABASE_URL": url, "PLUGINS": []}, instance_path=tempfile.mkdtemp()))
        rounds = [one_round(url, args.jobs) for _ in range(args.rounds)]

    print(f"\n{args.jobs} jobs due at the same moment, {args.rounds} rounds (seconds late)")
    print(f"{'round':<8}{'first':>8}{'median':>8}{'p99':>8}{'last':>8}  target")
    for number, delays in enumerate(rounds, 1):
        last = delays[-1]
        print(
            f"{number:<8}{delays[0]:>8.3f}{statistics.median(delays):>8.3f}"
            f"{delays[int(0.99 * len(delays)) - 1]:>8.3f}{last:>8.3f}"
            f"  {'pass' if last < TARGET_SECONDS else 'FAIL'} (all within {TARGET_SECONDS:.0f} s)"
        )


if __name__ == "__main__":
    main()
