"""Scheduled work, run by exactly one process.

``alma serve`` runs the scheduler in its own process; a deployment with several web workers
runs one ``alma scheduler`` instead and web workers run none. A lock makes a second scheduler
wait rather than run jobs twice: an advisory lock on PostgreSQL (good across machines), a file
lock in the instance folder otherwise. The lock is checked before every job: a scheduler
whose lock went (its PostgreSQL session was ended) runs nothing until it holds it again.
Each job's last run is kept in the database, so a job overdue when a scheduler starts runs at
once, and jobs are written to be safe if two processes run them at the same moment anyway
(``alma jobs run`` beside a scheduler).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import IO, Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    JobEvent,
    JobSubmissionEvent,
)
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from core.contributions import Job
from core.db import db, insert_on_conflict, utcnow
from core.jobs import wake_job
from core.models import JobFailure, JobRun
from core.services.accounts import prune_login_failures
from core.services.exports import EXPORT_JOB_ID, build_data_exports
from core.services.lifecycle import ERASE_JOB_ID, erase_due_accounts
from core.services.mail import (
    DELIVER_JOB_ID,
    DIGEST_JOB_ID,
    deliver_outbox,
    prune_sent_mails,
    send_digests,
)
from core.services.webhooks import DELIVER_JOB_ID as DELIVER_WEBHOOKS_JOB_ID
from core.services.webhooks import deliver_webhooks, prune_webhooks
from core.state import alma

logger = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x616C6D61  # "alma"
TRIGGERS: dict[str, type[BaseTrigger]] = {
    "interval": IntervalTrigger,
    "cron": CronTrigger,
    "date": DateTrigger,
}


def core_jobs(app: Flask) -> list[Job]:
    return [
        Job(
            DELIVER_JOB_ID, deliver_outbox, "interval", {"seconds": app.config["MAIL_POLL_SECONDS"]}
        ),
        Job("core.prune_login_failures", prune_login_failures, "interval", {"hours": 1}),
        Job("core.prune_sent_mails", prune_sent_mails, "interval", {"hours": 6}),
        # digests fall due at the top of a local hour: sent within a quarter of an hour
        Job(DIGEST_JOB_ID, send_digests, "interval", {"minutes": 15}),
        Job(EXPORT_JOB_ID, build_data_exports, "interval", {"minutes": 10}),
        Job(ERASE_JOB_ID, erase_due_accounts, "interval", {"hours": 1}),
        Job(
            DELIVER_WEBHOOKS_JOB_ID,
            deliver_webhooks,
            "interval",
            {"seconds": app.config["WEBHOOK_POLL_SECONDS"]},
        ),
        Job("core.prune_webhooks", prune_webhooks, "interval", {"hours": 6}),
    ]


def all_jobs(app: Flask) -> list[Job]:
    return core_jobs(app) + alma(app).hooks.jobs()


def job_named(app: Flask, name: str) -> Job | None:
    return next((job for job in all_jobs(app) if job.id == name), None)


def run_job(app: Flask, job: Job) -> bool:
    """Run one job in its own app context and unit of work, noting its run in the same
    commit; whether it succeeded."""
    with app.app_context():
        started = utcnow()
        try:
            job.func()
            _note_run(job.id, started)
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            logger.exception("job %s failed", job.id)
            _note_failure(job.id, started, error)
            return False
        return True


class RunNow(Enum):
    """What "run now" in the console did."""

    WOKEN = "woken"  # this process runs the scheduler, which runs the job at once
    RAN = "ran"
    FAILED = "failed"
    RUNNING = "running"  # already running here: not started twice


_running_here: dict[str, threading.Lock] = {}
_running_here_guard = threading.Lock()


def run_now(app: Flask, job: Job) -> RunNow:
    """Run ``job`` now for an admin. If this process runs the scheduler, wake the job there:
    the scheduler never runs a job twice at once, and a wake-up during a run runs it once
    more when that run ends. Otherwise run it in this process, as ``alma jobs run`` does
    beside a scheduler elsewhere (jobs are safe to run twice at the same moment), but never
    twice at once in this process."""
    scheduler = alma(app).scheduler
    if scheduler is not None and scheduler.running:
        wake_job(app, job.id)
        return RunNow.WOKEN
    with _running_here_guard:
        running = _running_here.setdefault(job.id, threading.Lock())
    if not running.acquire(blocking=False):
        return RunNow.RUNNING
    try:
        return RunNow.RAN if run_job(app, job) else RunNow.FAILED
    finally:
        running.release()


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _note_run(job_id: str, started: datetime) -> None:
    values = {"last_run_at": started, "run_by": _this_process()}
    db.session.execute(
        insert_on_conflict(JobRun)
        .values(job_id=job_id, **values)
        .on_conflict_do_update(index_elements=[JobRun.job_id], set_=values)
    )


def _note_failure(job_id: str, started: datetime, error: Exception) -> None:
    """Keep a failed run's error for the console, in a unit of work of its own (the job's
    was rolled back)."""
    values = {"failed_at": started, "error": f"{type(error).__name__}: {error}"}
    try:
        db.session.execute(
            insert_on_conflict(JobFailure)
            .values(job_id=job_id, **values)
            .on_conflict_do_update(index_elements=[JobFailure.job_id], set_=values)
        )
        db.session.commit()
    except DBAPIError:  # the database itself is what failed: the log line above is all
        db.session.rollback()
        logger.warning("could not note job %s's failure", job_id)


@dataclass(frozen=True)
class JobStatus:
    """What an operator asks of a job: when it runs, when it last ran (and where), when it
    runs next and how its last failed run failed."""

    job: Job
    last_run: tuple[datetime, str] | None
    next_run: datetime | None
    last_failure: JobFailure | None

    @property
    def schedule(self) -> str:
        """Its trigger in words: ``interval seconds=30``, ``cron hour=3``."""
        arguments = (f"{key}={value}" for key, value in self.job.trigger_args.items())
        return " ".join([self.job.trigger, *arguments])


def job_statuses(app: Flask) -> list[JobStatus]:
    """Every job's status (``alma jobs list`` and the console). The next run is the one this
    process's scheduler plans, or, if another process runs the jobs, the one a scheduler
    would plan from the job's last run."""
    ran, now = last_runs(app), utcnow()
    failures = _last_failures(app)
    scheduler = alma(app).scheduler
    statuses = []
    for job in all_jobs(app):
        scheduled = scheduler.get_job(job.id) if scheduler is not None else None
        if scheduled is not None:
            next_run = scheduled.next_run_time
        else:
            trigger = TRIGGERS[job.trigger](timezone="UTC", **job.trigger_args)
            next_run = _first_run(job, trigger, ran.get(job.id), now)
            next_run = next_run or trigger.get_next_fire_time(None, now)
        statuses.append(JobStatus(job, ran.get(job.id), next_run, failures.get(job.id)))
    return statuses


def _last_failures(app: Flask) -> dict[str, JobFailure]:
    with app.app_context():
        try:
            failures = db.session.scalars(select(JobFailure)).all()
            return {failure.job_id: failure for failure in failures}
        finally:
            db.session.remove()


def last_runs(app: Flask) -> dict[str, tuple[datetime, str]]:
    """Each job's last run that completed: when it started, and which process ran it."""
    with app.app_context():
        try:
            rows = db.session.execute(select(JobRun.job_id, JobRun.last_run_at, JobRun.run_by))
            return {job_id: (last_run_at, run_by) for job_id, last_run_at, run_by in rows}
        finally:
            db.session.remove()


HOLDS_THE_LOCK = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid = 0 AND objid::bigint = :key)"
)
WHO_HOLDS_THE_LOCK = text(
    "SELECT activity.pid, activity.application_name, activity.client_addr"
    " FROM pg_locks AS lock JOIN pg_stat_activity AS activity ON activity.pid = lock.pid"
    " WHERE lock.locktype = 'advisory' AND lock.granted AND lock.classid = 0"
    " AND lock.objid::bigint = :key AND lock.database = ("
    "   SELECT oid FROM pg_database WHERE datname = current_database())"
)


class SchedulerLock:
    """Held by the one process that runs jobs.

    ``still_held()`` is asked before every job: on PostgreSQL the lock lives as long as the
    session of one connection, which an administrator, a failover or a network cut can end
    while this process goes on; another scheduler then takes the lock, and this one must run
    nothing until it takes it back. ``report`` is told when that happens."""

    def __init__(self, app: Flask, report: Callable[[str], object] = logger.warning) -> None:
        self.app = app
        self.report = report
        self._connection: Any = None
        self._file: IO[str] | None = None
        self._held = False
        self._released = False  # on purpose, by release(): still_held() takes nothing back
        self._checking = threading.Lock()  # jobs run in several threads

    def acquire(self) -> bool:
        self._released = False
        return self._take()

    def _take(self) -> bool:
        with self.app.app_context():
            if db.engine.dialect.name == "postgresql":
                self._held = self._acquire_advisory_lock()
                return self._held
        path = self._lock_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("w")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            return False
        self._held = True
        return True

    def _acquire_advisory_lock(self) -> bool:
        try:
            self._connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = self._connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        except DBAPIError as error:  # the database is down or restarting: try again later
            logger.warning("cannot reach the database for the scheduler lock: %s", error)
            got = False
        if not got:
            self._drop_connection()
        return bool(got)

    def still_held(self) -> bool:
        """Whether this process holds the lock now, taking it (back) if it is free; never once
        ``release()`` let it go (a job starting while its scheduler stops would otherwise
        take the lock again, and keep it with nobody to release it)."""
        with self._checking:
            if self._released:
                return False
            if self._holds():
                return True
            lost = self._held
            self._let_go()
            held = self._take()
            if lost and held:
                self.report(
                    "alma scheduler lost its lock (its database session ended) and took it "
                    "again: running jobs"
                )
            elif lost:
                self.report(
                    "alma scheduler lost its lock (its database session ended) and runs no "
                    f"jobs until it holds it again: {self.holder()}"
                )
            elif held:
                self.report("alma scheduler holds the lock again: running jobs")
            return held

    def _holds(self) -> bool:
        if self._file is not None:
            return True  # a file lock lasts as long as this process keeps the file open
        if self._connection is None:
            return False
        try:
            return bool(self._connection.scalar(HOLDS_THE_LOCK, {"key": ADVISORY_LOCK_KEY}))
        except DBAPIError:  # the session was ended, and its lock with it
            return False

    def holder(self) -> str:
        """Who holds the lock instead of this process, in an operator's words."""
        with self.app.app_context():
            if db.engine.dialect.name != "postgresql":
                return f"another process on this machine holds the lock file {self._lock_file()}"
            try:
                with db.engine.connect() as connection:
                    row = connection.execute(WHO_HOLDS_THE_LOCK, {"key": ADVISORY_LOCK_KEY}).first()
            except DBAPIError as error:
                return f"the database cannot be reached ({type(error.orig).__name__})"
        if row is None:
            return "the lock was just released"
        pid, name, address = row
        where = f" from {address}" if address else ""
        return (
            f"another scheduler holds the database's scheduler lock "
            f"(PostgreSQL session {pid}{where}, application {name or 'unnamed'!r})"
        )

    def _lock_file(self) -> Path:
        """Beside the SQLite database (the thing the lock protects), else in the instance."""
        url = make_url(self.app.config["DATABASE_URL"])
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(url.database).with_name(Path(url.database).name + ".scheduler-lock")
        return Path(self.app.instance_path) / "scheduler.lock"

    def release(self) -> None:
        """Let the lock go for good (until ``acquire()``), once any check under way ends."""
        with self._checking:
            self._released = True
            self._let_go()

    def _let_go(self) -> None:
        self._held = False
        self._drop_connection()
        if self._file is not None:
            self._file.close()
            self._file = None

    def _drop_connection(self) -> None:
        if self._connection is not None:
            # close() alone would return the connection to the pool, its session and the
            # advisory lock still alive; invalidating really ends the session
            self._connection.invalidate()
            self._connection.close()
            self._connection = None


def run_job_if_holding(app: Flask, job: Job, lock: SchedulerLock) -> None:
    """What the scheduler runs at each tick of a job: the job, if this process still holds
    the lock."""
    if lock.still_held():
        run_job(app, job)


def build_scheduler(app: Flask, lock: SchedulerLock) -> BaseScheduler:
    """A scheduler of every job, each due at its trigger's next time after its last run, or
    now if that is past. An interval job never run is due now too: one due a full interval
    after each start would never run under a scheduler restarted more often than that. A
    cron job never run waits for its time of day."""
    scheduler = BackgroundScheduler()
    scheduler.configure(
        timezone="UTC",
        # after downtime a job runs once, not once per missed run
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    ran, now = last_runs(app), utcnow()
    for job in all_jobs(app):
        scheduled = scheduler.add_job(
            run_job_if_holding,
            job.trigger,
            args=(app, job, lock),
            id=job.id,
            name=job.id,
            **job.trigger_args,
        )
        due = _first_run(job, scheduled.trigger, ran.get(job.id), now)
        if due is not None:
            scheduled.modify(next_run_time=due)
    _run_skipped_runs_when_the_run_ends(scheduler)
    return scheduler


def _first_run(
    job: Job, trigger: BaseTrigger, last_run: tuple[datetime, str] | None, now: datetime
) -> datetime | None:
    """When a scheduler starting ``now`` first runs ``job``; ``None``: at its trigger's own
    first time."""
    if last_run is not None:
        due = trigger.get_next_fire_time(last_run[0], now)
        # None: a one-off job that ran already runs again, as before
        return max(due, now) if due is not None else None
    return now if job.trigger == "interval" else None


def _run_skipped_runs_when_the_run_ends(scheduler: BaseScheduler) -> None:
    """A run skipped because the job was still running happens as soon as that run ends, not
    a whole interval later: above all a wake-up (a mail committed while the outbox job was
    finishing a run that had already looked for mail)."""
    skipped: set[str] = set()

    def on_event(event: JobEvent | JobSubmissionEvent) -> None:
        if event.code == EVENT_JOB_MAX_INSTANCES:
            skipped.add(event.job_id)
        elif event.job_id in skipped:
            skipped.discard(event.job_id)
            # not in this thread: a scheduler shutting down holds its job store's lock until
            # this (the executor's) thread ends, and modify_job needs that lock
            threading.Thread(target=run_now, args=(event.job_id,), daemon=True).start()

    def run_now(job_id: str) -> None:
        with contextlib.suppress(JobLookupError):
            scheduler.modify_job(job_id, next_run_time=utcnow())

    scheduler.add_listener(on_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    logging.getLogger("apscheduler.scheduler").addFilter(_skipped_run_is_handled)


def _skipped_run_is_handled(record: logging.LogRecord) -> bool:
    """Leave out APScheduler's warning of a run skipped because the job was still running:
    the run happens as that one ends (above), so an operator has nothing to do about it."""
    return "maximum number of running instances reached" not in record.getMessage()


def start_in_background(app: Flask) -> BaseScheduler | None:
    """For ``alma serve``: run jobs in this process unless another scheduler already does."""
    lock = SchedulerLock(app)
    if not lock.acquire():
        logger.warning("another process runs the scheduler; this one runs no jobs")
        return None
    scheduler = build_scheduler(app, lock)
    scheduler.start()
    state = alma(app)
    state.scheduler, state.scheduler_lock = scheduler, lock
    return scheduler


def run_forever(
    app: Flask, retry_seconds: float = 5.0, say: Callable[[str], object] = logger.warning
) -> None:
    """For ``alma scheduler``: wait for the lock (a standby takes over when the active one
    stops), then run jobs until interrupted (Ctrl+C, or SIGTERM through the command), checking
    the lock every ``retry_seconds`` besides before each job. ``say`` tells the operator,
    once each time it changes, what this process does and, when it runs no jobs, why."""
    lock = SchedulerLock(app, report=say)
    scheduler = None
    try:
        if not lock.acquire():
            say(f"alma scheduler standing by: {lock.holder()}; it takes over when that one stops")
            while not lock.acquire():
                time.sleep(retry_seconds)
        scheduler = build_scheduler(app, lock)
        alma(app).scheduler = scheduler
        scheduler.start()
        say(f"alma scheduler running {len(scheduler.get_jobs())} jobs (Ctrl+C stops it)")
        while scheduler.running:  # until interrupted, or shut down by whoever holds it
            time.sleep(retry_seconds)
            lock.still_held()
    except (KeyboardInterrupt, SystemExit):
        # no job starts any more, but the running one finishes before the lock goes: a mail
        # the SMTP server accepted is recorded as sent, not sent again by the next scheduler
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)
    finally:
        lock.release()
