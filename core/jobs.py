"""Waking a scheduled job, so work a request or another job just committed is done now
rather than at the job's next run."""

from __future__ import annotations

from flask import Flask, current_app

from core.db import after_commit, utcnow


def wake_job(app: Flask, job_id: str) -> None:
    """Run a job now if this process runs the scheduler; otherwise its next poll sends it."""
    scheduler = app.extensions["alma"].scheduler
    if scheduler is not None and scheduler.running:
        scheduler.modify_job(job_id, next_run_time=utcnow())


def wake_job_after_commit(job_id: str) -> None:
    """Wake a job once the current transaction commits, so it finds the work this
    transaction leaves it (a queued mail, a certificate to render); never if it rolls
    back."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy of Flask
    after_commit(lambda: wake_job(app, job_id))
