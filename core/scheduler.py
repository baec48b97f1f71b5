"""Scheduled work, run by exactly one process.

``alma serve`` runs the scheduler in its own process; a deployment with several web workers
runs one ``alma scheduler`` instead and web workers run none. A lock makes a second scheduler
wait rather than run jobs twice: an advisory lock on PostgreSQL (good across machines), a file
lock in the instance folder otherwise.
"""

from __future__ import annotations

import fcntl
import logging
import time
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.contributions import Job
from core.db import db
from core.services.accounts import prune_login_failures
from core.services.mail import DELIVER_JOB_ID, deliver_outbox, prune_sent_mails
from core.state import alma

logger = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x616C6D61  # "alma"


def core_jobs(app: Flask) -> list[Job]:
    return [
        Job(
            DELIVER_JOB_ID, deliver_outbox, "interval", {"seconds": app.config["MAIL_POLL_SECONDS"]}
        ),
        Job("core.prune_login_failures", prune_login_failures, "interval", {"hours": 1}),
        Job("core.prune_sent_mails", prune_sent_mails, "interval", {"hours": 6}),
    ]


def all_jobs(app: Flask) -> list[Job]:
    return core_jobs(app) + alma(app).hooks.jobs()


def run_job(app: Flask, job: Job) -> None:
    """Run one job in its own app context and unit of work."""
    with app.app_context():
        try:
            job.func()
            db.session.commit()
        except Exception:
            db.session.rollback()
            logger.exception("job %s failed", job.id)


class SchedulerLock:
    """Held by the one process that runs jobs."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._connection: Any = None
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        with self.app.app_context():
            if db.engine.dialect.name == "postgresql":
                self._connection = db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
                got = self._connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
                if not got:
                    self._connection.close()
                    self._connection = None
                return bool(got)
        path = self._lock_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("w")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            return False
        return True

    def _lock_file(self) -> Path:
        """Beside the SQLite database (the thing the lock protects), else in the instance."""
        url = make_url(self.app.config["DATABASE_URL"])
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(url.database).with_name(Path(url.database).name + ".scheduler-lock")
        return Path(self.app.instance_path) / "scheduler.lock"

    def release(self) -> None:
        if self._connection is not None:
            # close() alone would return the connection to the pool, its session and the
            # advisory lock still alive; invalidating really ends the session
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
        if self._file is not None:
            self._file.close()
            self._file = None


def build_scheduler(app: Flask, *, blocking: bool = False) -> BaseScheduler:
    scheduler: BaseScheduler = BlockingScheduler() if blocking else BackgroundScheduler()
    scheduler.configure(
        timezone="UTC",
        # after downtime a job runs once, not once per missed run
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    for job in all_jobs(app):
        scheduler.add_job(
            run_job, job.trigger, args=(app, job), id=job.id, name=job.id, **job.trigger_args
        )
    return scheduler


def start_in_background(app: Flask) -> BaseScheduler | None:
    """For ``alma serve``: run jobs in this process unless another scheduler already does."""
    lock = SchedulerLock(app)
    if not lock.acquire():
        logger.warning("another process runs the scheduler; this one runs no jobs")
        return None
    scheduler = build_scheduler(app)
    scheduler.start()
    state = alma(app)
    state.scheduler, state.scheduler_lock = scheduler, lock
    return scheduler


def run_forever(app: Flask, retry_seconds: float = 5.0) -> None:
    """For ``alma scheduler``: wait for the lock (a standby takes over when the active one
    stops), then run jobs until interrupted (Ctrl+C, or SIGTERM through the command)."""
    lock = SchedulerLock(app)
    announced = False
    while not lock.acquire():
        if not announced:
            logger.warning("another scheduler is running; standing by")
            announced = True
        time.sleep(retry_seconds)
    scheduler = build_scheduler(app, blocking=True)
    alma(app).scheduler = scheduler
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        # no job starts any more, but the running one finishes before the lock goes: a mail
        # the SMTP server accepted is recorded as sent, not sent again by the next scheduler
        if scheduler.running:
            scheduler.shutdown(wait=True)
    finally:
        lock.release()
