"""Two ``alma scheduler`` processes against a real PostgreSQL: the database session holding
the scheduler's advisory lock is ended under them (a failover, a cut connection, an
administrator's ``pg_terminate_backend``). Afterwards exactly one of them runs jobs, and each
says what it does."""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import select, text

from core.db import db
from core.models import JobRun
from core.scheduler import ADVISORY_LOCK_KEY, WHO_HOLDS_THE_LOCK

from .conftest import MAIL_POLL_SECONDS, Deployment, Process, scheduler_lock_holder, wait_until

LOST = "alma scheduler lost its lock (its database session ended) and "
TOOK_IT_AGAIN = LOST + "took it again: running jobs"
STANDING_BY = LOST + "runs no jobs until it holds it again: another scheduler holds the "


def end_the_lock_session(app: Flask) -> None:
    with app.app_context():
        try:
            holders = db.session.execute(WHO_HOLDS_THE_LOCK, {"key": ADVISORY_LOCK_KEY}).all()
            terminate = text("SELECT pg_terminate_backend(:pid)")
            ended = [db.session.scalar(terminate, {"pid": holder.pid}) for holder in holders]
        finally:
            db.session.remove()
    assert ended == [True]


def processes_running_jobs(app: Flask, since: float, seconds: float) -> set[str]:
    """Which processes (``host:pid``) ran jobs that started after ``since`` (a Unix time),
    watched for ``seconds``: each job's last run, read every tenth of a second."""
    seen: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with app.app_context():
            try:
                runs = db.session.execute(select(JobRun.last_run_at, JobRun.run_by)).all()
            finally:
                db.session.remove()
        seen |= {run_by for last_run_at, run_by in runs if last_run_at.timestamp() > since}
        time.sleep(0.1)
    return seen


def pid_of(process: Process) -> str:
    return f":{process.popen.pid}"


def test_after_the_lock_session_is_killed_exactly_one_scheduler_runs_jobs(
    deployment: Deployment, data: Flask, schedulers
):
    started = {process.name: process for process in schedulers("sched-a", "sched-b")}
    first = started[wait_until(lambda: scheduler_lock_holder(data), what="a scheduler")]
    (second,) = (process for name, process in started.items() if process is not first)
    wait_until(lambda: "standing by" in second.output(), what="the other one to stand by")
    before = time.time()
    assert {run_by[run_by.rindex(":") :] for run_by in processes_running_jobs(data, before, 2)} == {
        pid_of(first)
    }

    end_the_lock_session(data)

    # the first notices at its next job (each second), the second at its next look (each 5 s);
    # whichever takes the lock first runs the jobs, the other stands by
    wait_until(lambda: LOST in first.output(), what="the first to notice it lost its lock")
    holder = started[wait_until(lambda: scheduler_lock_holder(data), what="a new holder")]
    other = second if holder is first else first
    settled = time.time() + 1  # a job that began before the first noticed may still end
    time.sleep(1)
    running = processes_running_jobs(data, settled, 6 * MAIL_POLL_SECONDS + 5)
    assert {run_by[run_by.rindex(":") :] for run_by in running} == {pid_of(holder)}
    assert scheduler_lock_holder(data) == holder.name
    if holder is first:  # it took its lock back before the standby looked
        assert TOOK_IT_AGAIN in first.output()
        assert "alma scheduler running" not in second.output()
    else:
        assert f"{STANDING_BY}database's scheduler lock (PostgreSQL session " in first.output()
        assert f"application '{second.name}')" in first.output()
        assert second.output().count("alma scheduler running 9 jobs (Ctrl+C stops it)") == 1
    assert other.running and holder.running
