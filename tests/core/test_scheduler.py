"""The scheduler: core's and plugins' jobs, each run in its own unit of work, by exactly one
process (a lock: a file in the instance folder on SQLite, an advisory lock on PostgreSQL)."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from flask import Flask
from sqlalchemy import func, select, text

from core import hookimpl
from core.app import create_app
from core.contributions import Job
from core.db import clock_set_to, utcnow
from core.db import db as database
from core.jobs import wake_job
from core.models import JobRun, LoginFailure, OutboxMail
from core.scheduler import (
    ADVISORY_LOCK_KEY,
    WHO_HOLDS_THE_LOCK,
    SchedulerLock,
    build_scheduler,
    core_jobs,
    run_forever,
    run_job,
    run_job_if_holding,
    start_in_background,
)
from core.services.mail import DELIVER_JOB_ID, send_mail
from core.state import alma
from core.testing import free_port

TIMEOUT = 5.0


def wait_until(condition: Callable[[], object], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def failures(app: Flask) -> list[str]:
    """The e-mail addresses of the stored login failures, read in a fresh unit of work."""
    with app.app_context():
        return sorted(database.session.scalars(select(LoginFailure.email)))


def record_failure(email: str) -> None:
    database.session.add(LoginFailure(email=email, ip="127.0.0.1"))
    database.session.flush()


@pytest.fixture
def schedulers() -> Iterator[list]:
    """Schedulers and locks a test starts, stopped and released whatever happens."""
    started: list = []
    yield started
    for item in reversed(started):
        if isinstance(item, SchedulerLock):
            item.release()
        elif item.running:
            item.shutdown(wait=True)  # no job of this test may run into the next one


def background(app: Flask, schedulers: list) -> object | None:
    scheduler = start_in_background(app)
    if scheduler is not None:
        schedulers.extend([alma(app).scheduler_lock, scheduler])
    return scheduler


# ---- jobs ----------------------------------------------------------------------------------


class JobsPlugin:
    """A throwaway plugin contributing jobs."""

    def __init__(self, *jobs: Job) -> None:
        self.contributed = list(jobs)

    @hookimpl
    def register_jobs(self):
        return self.contributed


def test_core_and_plugin_jobs_are_registered_to_run_once_after_downtime(make_app, schedulers):
    plugin = JobsPlugin(Job("nightly.report", lambda: None, "cron", {"hour": 3}))
    app = make_app(extra_plugins={"nightly": plugin}, PLUGINS=["nightly"], MAIL_POLL_SECONDS=7)
    lock = SchedulerLock(app)
    scheduler = build_scheduler(app, lock)
    scheduler.start(paused=True)  # jobs get their defaults when the scheduler starts
    schedulers.append(scheduler)

    jobs = {job.id: job for job in scheduler.get_jobs()}

    assert set(jobs) == {
        DELIVER_JOB_ID,
        "core.prune_login_failures",
        "core.prune_sent_mails",
        "core.send_digests",
        "core.build_data_exports",
        "core.erase_accounts",
        "core.deliver_webhooks",
        "core.prune_webhooks",
        "nightly.report",
    }
    assert jobs[DELIVER_JOB_ID].trigger.interval == timedelta(seconds=7)
    assert jobs["core.prune_login_failures"].trigger.interval == timedelta(hours=1)
    assert jobs["core.erase_accounts"].trigger.interval == timedelta(hours=1)
    cron = {field.name: str(field) for field in jobs["nightly.report"].trigger.fields}
    assert cron["hour"] == "3"
    assert jobs["nightly.report"].args == (app, plugin.contributed[0], lock)
    for job in jobs.values():
        assert job.coalesce is True  # after downtime a job runs once, not once per missed run
        assert job.max_instances == 1
        assert job.misfire_grace_time is None  # however late, a missed run still happens
        assert job.func is run_job_if_holding  # each run asks the lock first


def test_a_job_that_returns_is_committed(app):
    run_job(app, Job("test.ok", lambda: record_failure("kept@example.org")))

    assert failures(app) == ["kept@example.org"]


def test_a_job_that_raises_is_rolled_back_and_logged_and_the_next_still_runs(app, caplog):
    def half_done() -> None:
        record_failure("partial@example.org")
        raise RuntimeError("disk full")

    run_job(app, Job("test.broken", half_done))
    run_job(app, Job("test.ok", lambda: record_failure("next@example.org")))

    assert failures(app) == ["next@example.org"]  # nothing of the broken job's writes
    [record] = [r for r in caplog.records if r.name == "core.scheduler"]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "job test.broken failed"
    assert "disk full" in str(record.exc_info[1])


def test_a_failing_job_does_not_stop_the_scheduler(make_app, schedulers, caplog):
    ran = threading.Event()
    calls = {"broken": 0}

    def broken() -> None:
        calls["broken"] += 1
        raise RuntimeError("boom")

    def ok() -> None:
        record_failure(f"run{calls['broken']}@example.org")
        if calls["broken"] >= 2:
            ran.set()

    plugin = JobsPlugin(
        Job("flaky.broken", broken, "interval", {"seconds": 0.05}),
        Job("flaky.ok", ok, "interval", {"seconds": 0.05}),
    )
    app = make_app(extra_plugins={"flaky": plugin}, PLUGINS=["flaky"])
    lock = SchedulerLock(app)
    assert lock.acquire()
    schedulers.append(lock)
    scheduler = build_scheduler(app, lock)
    scheduler.start()
    schedulers.append(scheduler)

    assert ran.wait(TIMEOUT)
    scheduler.shutdown(wait=True)

    assert calls["broken"] >= 2  # it failed, and ran again
    assert failures(app)  # the other job's work was committed meanwhile
    assert any(r.getMessage() == "job flaky.broken failed" for r in caplog.records)


def test_prune_login_failures_forgets_only_failures_older_than_the_window(make_app):
    app = make_app(LOGIN_FAILURE_WINDOW_MINUTES=15)
    now = utcnow()
    with app.app_context():
        for email, age in [("old@example.org", 16), ("recent@example.org", 14)]:
            database.session.add(
                LoginFailure(email=email, ip="127.0.0.1", created_at=now - timedelta(minutes=age))
            )
        database.session.commit()
    [prune] = [job for job in core_jobs(app) if job.id == "core.prune_login_failures"]

    run_job(app, prune)

    assert failures(app) == ["recent@example.org"]


def test_prune_sent_mails_forgets_only_mails_sent_longer_ago_than_kept(make_app):
    app = make_app(MAIL_KEEP_DAYS=30)
    now = utcnow()
    with app.app_context():
        for to, sent_days_ago in [("old@example.org", 31), ("recent@example.org", 29)]:
            sent_at = now - timedelta(days=sent_days_ago)
            database.session.add(mail_to(to, created_at=sent_at, sent_at=sent_at))
        # never sent (the SMTP server refused it for weeks): still retried, so kept
        database.session.add(mail_to("unsent@example.org", created_at=now - timedelta(days=60)))
        database.session.commit()
    [prune] = [job for job in core_jobs(app) if job.id == "core.prune_sent_mails"]

    run_job(app, prune)

    with app.app_context():
        kept = database.session.scalars(select(OutboxMail.to_address).order_by(OutboxMail.id))
        assert list(kept) == ["recent@example.org", "unsent@example.org"]


def test_a_clock_set_to_a_moment_runs_on_from_it_in_this_context_only():
    moment = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    elsewhere: list[datetime] = []
    with clock_set_to(moment):
        first = utcnow()
        time.sleep(0.01)
        second = utcnow()
        other = threading.Thread(target=lambda: elsewhere.append(utcnow()))
        other.start()
        other.join()

    assert moment <= first < second < moment + timedelta(seconds=1)  # it runs on
    assert elsewhere[0].year < 2030  # another thread (a web request) keeps the real time
    assert utcnow().year < 2030  # and so does this one afterwards


def test_a_job_that_returns_is_noted_as_run_by_this_process(app):
    before = utcnow()
    run_job(app, Job("test.ok", lambda: record_failure("kept@example.org")))
    run_job(app, Job("test.broken", lambda: 1 / 0))

    runs = stored_runs(app)
    assert set(runs) == {"test.ok"}  # a failed run is no run: it is due again
    last_run_at, run_by = runs["test.ok"]
    assert before <= last_run_at <= utcnow()
    assert run_by == f"{socket.gethostname()}:{os.getpid()}"


def stored_runs(app: Flask) -> dict[str, tuple]:
    with app.app_context():
        rows = database.session.execute(select(JobRun.job_id, JobRun.last_run_at, JobRun.run_by))
        return {job_id: (at, by) for job_id, at, by in rows}


def note_runs(app: Flask, **ages: timedelta) -> None:
    """Record that each job (``job_id=age``, dots as ``__``) last ran ``age`` ago."""
    with app.app_context():
        for name, age in ages.items():
            database.session.add(
                JobRun(job_id=name.replace("__", "."), last_run_at=utcnow() - age, run_by="old")
            )
        database.session.commit()


def test_a_job_overdue_when_the_scheduler_starts_runs_at_once(make_app, schedulers):
    """A scheduler restarted more often than a job's interval still runs it: the job's last
    run is in the database, and the new scheduler runs it when it is due after that run."""
    hourly = {"hours": 1}
    plugin = JobsPlugin(
        Job("catchup.overdue", lambda: record_failure("overdue@example.org"), "interval", hourly),
        Job("catchup.recent", lambda: record_failure("recent@example.org"), "interval", hourly),
        Job("catchup.new", lambda: record_failure("new@example.org"), "interval", hourly),
    )
    app = make_app(extra_plugins={"catchup": plugin}, PLUGINS=["catchup"])
    note_runs(app, catchup__overdue=timedelta(minutes=61), catchup__recent=timedelta(minutes=10))
    started = utcnow()

    scheduler = background(app, schedulers)

    # never run: it might never, if it waited a full interval after each start
    assert wait_until(lambda: failures(app) == ["new@example.org", "overdue@example.org"])
    due = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    recent_run = stored_runs(app)["catchup.recent"][0]
    assert due["catchup.recent"] == recent_run + timedelta(hours=1)  # 50 minutes from now
    assert stored_runs(app)["catchup.overdue"][0] >= started
    assert stored_runs(app)["catchup.new"][0] >= started
    assert failures(app) == ["new@example.org", "overdue@example.org"]  # not the recent one


def test_a_missed_nightly_job_runs_as_the_scheduler_starts(make_app, schedulers):
    """A cron job whose time passed since its last run runs at once; one never run waits for
    its time (a nightly report is not sent at noon on the day it is installed)."""
    # hourly at the minute it was half an hour ago; the last run was before that
    at_minute = {"minute": (utcnow() - timedelta(minutes=30)).minute}
    plugin = JobsPlugin(
        Job("nightly.report", lambda: record_failure("n@example.org"), "cron", at_minute),
        Job("nightly.new", lambda: record_failure("new@example.org"), "cron", at_minute),
    )
    app = make_app(extra_plugins={"nightly": plugin}, PLUGINS=["nightly"])
    note_runs(app, nightly__report=timedelta(minutes=61))

    scheduler = background(app, schedulers)

    assert wait_until(lambda: failures(app) == ["n@example.org"])
    assert scheduler.get_job("nightly.new").next_run_time > utcnow() + timedelta(minutes=25)
    assert failures(app) == ["n@example.org"]


def mail_to(address: str, **times) -> OutboxMail:
    return OutboxMail(to_address=address, subject="Hello", text_body="Hello", **times)


# ---- one scheduler -------------------------------------------------------------------------


HOLD_THE_LOCK = """
import sys
from core.app import create_app
from core.scheduler import SchedulerLock

app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "x"}, instance_path=sys.argv[2])
lock = SchedulerLock(app)
print("held" if lock.acquire() else "busy", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture
def other_process(app) -> Iterator[Callable[[], SimpleNamespace]]:
    """``other_process()``: another alma process of the same site (same database and instance
    folder) that takes the scheduler lock; ``.stop()`` ends it."""
    processes: list[subprocess.Popen] = []

    def start() -> SimpleNamespace:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLD_THE_LOCK, app.config["DATABASE_URL"], app.instance_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(process)

        def stop() -> None:
            process.stdin.close()
            process.wait(timeout=TIMEOUT)

        return SimpleNamespace(said=process.stdout.readline().strip(), stop=stop)

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)


def test_a_second_lock_waits_for_the_first_to_be_released(app, other_process, schedulers):
    first = SchedulerLock(app)
    schedulers.append(first)
    assert first.acquire()

    assert not SchedulerLock(app).acquire()  # in this process
    assert other_process().said == "busy"  # in another process of the site

    first.release()

    other = other_process()
    assert other.said == "held"
    assert not first.acquire()
    other.stop()
    assert wait_until(first.acquire)  # and again, once the other's session has ended


def test_no_scheduler_starts_while_another_process_runs_it(app, other_process, schedulers):
    other = other_process()
    assert other.said == "held"

    assert background(app, schedulers) is None
    assert alma(app).scheduler is None

    other.stop()  # the process ends (or crashes): its lock goes with it
    scheduler = background(app, schedulers)
    assert scheduler is not None
    assert scheduler.running
    assert alma(app).scheduler is scheduler

    assert other_process().said == "busy"  # and now this process is the one


def test_a_standby_scheduler_takes_over_when_the_active_one_stops(app, schedulers):
    active = SchedulerLock(app)
    assert active.acquire()
    schedulers.append(active)
    said: list[str] = []
    standby = threading.Thread(
        target=run_forever, args=(app,), kwargs={"retry_seconds": 0.05, "say": said.append}
    )
    standby.start()
    try:
        time.sleep(0.3)
        assert alma(app).scheduler is None  # standing by
        # said once, with the reason, however many times it tried meanwhile
        [standing_by] = said
        assert standing_by.startswith("alma scheduler standing by: ")
        if app.config["DATABASE_URL"].startswith("postgresql"):
            assert "another scheduler holds the database's scheduler lock" in standing_by
            assert "PostgreSQL session" in standing_by
        else:
            assert "another process on this machine holds the lock file " in standing_by
        assert standing_by.endswith("it takes over when that one stops")

        active.release()

        assert wait_until(lambda: alma(app).scheduler is not None and alma(app).scheduler.running)
        assert not SchedulerLock(app).acquire()  # the standby holds the lock now
        assert wait_until(lambda: len(said) == 2)
        assert said[1] == "alma scheduler running 8 jobs (Ctrl+C stops it)"
    finally:
        scheduler = alma(app).scheduler
        if scheduler is not None:
            wait_until(lambda: scheduler.running)
            scheduler.shutdown(wait=True)
        standby.join(timeout=TIMEOUT)
    assert not standby.is_alive()
    after = SchedulerLock(app)
    schedulers.append(after)
    # run_forever released the lock on its way out (PostgreSQL ends the session a moment
    # after its connection closes)
    assert wait_until(after.acquire)


def end_the_session_holding_the_lock(app: Flask) -> None:
    """What a failover, a network cut or an administrator does to the lock's connection."""
    with app.app_context(), database.engine.connect() as connection:
        holders = connection.execute(WHO_HOLDS_THE_LOCK, {"key": ADVISORY_LOCK_KEY}).all()
        terminate = text("SELECT pg_terminate_backend(:pid)")
        ended = [connection.scalar(terminate, {"pid": holder.pid}) for holder in holders]
        connection.commit()
    assert ended == [True]


def test_a_scheduler_whose_lock_session_ends_runs_no_job_until_it_holds_it_again(
    app, other_process, schedulers
):
    if not app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("a file lock lasts as long as its process; PostgreSQL's as a session")
    said: list[str] = []
    lock = SchedulerLock(app, report=said.append)
    schedulers.append(lock)
    assert lock.acquire()
    job = Job("test.ok", lambda: record_failure(f"run{len(failures(app))}@example.org"))
    run_job_if_holding(app, job, lock)
    assert failures(app) == ["run0@example.org"]

    end_the_session_holding_the_lock(app)
    other = other_process()  # another scheduler takes the lock at once
    assert other.said == "held"

    run_job_if_holding(app, job, lock)
    run_job_if_holding(app, job, lock)
    assert failures(app) == ["run0@example.org"]  # this one ran nothing
    [lost] = said
    assert lost.startswith(
        "alma scheduler lost its lock (its database session ended) and runs no jobs until it "
        "holds it again: another scheduler holds the database's scheduler lock (PostgreSQL "
        "session "
    )

    other.stop()
    assert wait_until(lock.still_held)  # takes it back once free

    run_job_if_holding(app, job, lock)
    assert failures(app) == ["run0@example.org", "run1@example.org"]
    assert said[1:] == ["alma scheduler holds the lock again: running jobs"]


def test_a_job_starting_as_its_scheduler_stops_does_not_take_the_released_lock_back(
    app, schedulers
):
    lock = SchedulerLock(app)
    schedulers.append(lock)
    assert lock.acquire()
    ran: list[str] = []

    lock.release()  # the scheduler's last step as it stops (run_forever)
    run_job_if_holding(app, Job("test.ok", lambda: ran.append("ran")), lock)  # a late tick

    assert ran == []
    assert not lock.still_held()
    following = SchedulerLock(app)  # the scheduler taking over gets the lock
    schedulers.append(following)
    assert wait_until(following.acquire)


def test_a_scheduler_that_cannot_reach_postgresql_runs_nothing_and_says_why(tmp_path):
    unreachable = f"postgresql+psycopg://alma@127.0.0.1:{free_port()}/alma"
    app = create_app({"DATABASE_URL": unreachable, "SECRET_KEY": "x"}, instance_path=tmp_path)
    said: list[str] = []
    lock = SchedulerLock(app, report=said.append)
    ran: list[str] = []

    assert not lock.acquire()  # no exception: it tries again at the next tick
    run_job_if_holding(app, Job("test.ok", lambda: ran.append("ran")), lock)

    assert ran == []
    assert said == []  # it never held the lock: nothing changed to report
    assert lock.holder() == "the database cannot be reached (OperationalError)"


def test_a_file_lock_stays_held_while_its_process_runs(make_app, schedulers, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'alma.db'}")
    lock = SchedulerLock(app)
    schedulers.append(lock)
    assert lock.acquire()

    assert lock.still_held()
    assert not SchedulerLock(app).still_held()  # a second one, in this process too


# ---- mail without waiting for the next poll ------------------------------------------------


def test_a_committed_mail_wakes_the_delivery_job(make_app, smtp_server, schedulers):
    app = make_app(MAIL_POLL_SECONDS=3600)  # the next regular run is an hour away
    scheduler = background(app, schedulers)
    assert scheduler is not None

    with app.app_context():
        send_mail(
            "ada@example.org",
            "Right away",
            "mail/password_changed",
            user=SimpleNamespace(display_name="Ada"),
        )
        database.session.commit()

    assert wait_until(lambda: smtp_server.messages, timeout=3)  # not an hour
    [message] = smtp_server.messages
    assert message["Subject"] == "Right away"
    assert message["To"] == "ada@example.org"


def test_a_wake_up_while_the_job_runs_runs_it_again_as_soon_as_it_ends(
    make_app, schedulers, caplog
):
    """The outbox job is finishing a run that already looked for mail when a new mail is
    committed: the wake-up is skipped (one run at a time), and must not wait for the poll;
    nor does the operator read a warning about a skip that needs nothing of them."""
    running, release, skipped = threading.Event(), threading.Event(), threading.Event()
    runs: list[int] = []

    def slow() -> None:
        runs.append(len(runs))
        running.set()
        release.wait(TIMEOUT)

    plugin = JobsPlugin(Job("slow.job", slow, "interval", {"hours": 1}))
    app = make_app(extra_plugins={"slow": plugin}, PLUGINS=["slow"])
    scheduler = background(app, schedulers)  # never run: it runs at once
    scheduler.add_listener(lambda event: skipped.set(), EVENT_JOB_MAX_INSTANCES)
    assert running.wait(TIMEOUT)

    wake_job(app, "slow.job")
    assert skipped.wait(TIMEOUT)  # the job is still running
    release.set()

    assert wait_until(lambda: runs == [0, 1])  # not an hour later
    assert "skipped" not in caplog.text


def test_a_rolled_back_mail_wakes_nothing(make_app, smtp_server, schedulers):
    app = make_app(MAIL_POLL_SECONDS=3600)
    scheduler = background(app, schedulers)
    before = scheduler.get_job(DELIVER_JOB_ID).next_run_time

    with app.app_context():
        send_mail(
            "ada@example.org",
            "Never",
            "mail/password_changed",
            user=SimpleNamespace(display_name="Ada"),
        )
        database.session.rollback()

    assert scheduler.get_job(DELIVER_JOB_ID).next_run_time == before
    with app.app_context():
        assert database.session.scalar(select(func.count()).select_from(OutboxMail)) == 0
    assert smtp_server.messages == []


def test_a_mail_queued_by_a_job_is_delivered(make_app, smtp_server, schedulers):
    """A job (a feedback reminder, say) sends mail outside any request."""

    def remind() -> None:
        send_mail(
            "ada@example.org",
            "How was your meeting?",
            "mail/password_changed",
            user=SimpleNamespace(display_name="Ada"),
        )

    plugin = JobsPlugin(Job("reminders.send", remind, "date", {}))  # runs at start
    app = make_app(
        extra_plugins={"reminders": plugin}, PLUGINS=["reminders"], MAIL_POLL_SECONDS=3600
    )
    assert background(app, schedulers) is not None

    assert wait_until(lambda: smtp_server.messages)
    assert [m["Subject"] for m in smtp_server.messages] == ["How was your meeting?"]
