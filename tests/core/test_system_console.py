"""The console's System section (/admin/system, admins only): the plugins and their versions,
the schema's revision per part, the jobs with "run now", and the mail outbox with "retry
failed"; each act with a reason in the audit log."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from importlib import metadata
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from core import hookimpl
from core.contributions import Job
from core.models import AuditEntry, JobRun, OutboxMail
from core.services.mail import DELIVER_JOB_ID, send_mail
from core.testing import stored

REASON_REQUIRED = "Give a reason: it is kept in the audit log."


class JobsForTests:
    """A plugin contributing two jobs: one that fails, one that runs until released."""

    def __init__(self) -> None:
        self.slow_started, self.release_slow = threading.Event(), threading.Event()
        self.slow_runs = 0

    def broken(self) -> None:
        raise RuntimeError("the archive is full")

    def slow(self) -> None:
        self.slow_runs += 1
        self.slow_started.set()
        self.release_slow.wait(10)

    @hookimpl
    def register_jobs(self):
        return [
            Job("testjobs.broken", self.broken, "interval", {"hours": 1}),
            Job("testjobs.slow", self.slow, "cron", {"hour": 3}),
        ]


@pytest.fixture
def test_jobs():
    return JobsForTests()


@pytest.fixture
def app(make_app, test_jobs):
    """With a plugin installed from its distribution (kudos) and one without (testjobs)."""
    return make_app(extra_plugins={"testjobs": test_jobs}, PLUGINS=["kudos", "testjobs"])


@pytest.fixture
def admin(create_user):
    return create_user(email="root@example.org", role="admin")


def logged(db) -> list[tuple[str, str, str]]:
    """(act, target, reason) of every row of the audit log, oldest first."""
    db.session.commit()
    rows = db.session.execute(
        select(AuditEntry.act, AuditEntry.target_label, AuditEntry.reason).order_by(AuditEntry.id)
    )
    return [tuple(row) for row in rows]


def job_block(page: str, job_id: str) -> str:
    """The part of the page about one job."""
    match = re.search(
        rf'<li class="list-group-item" data-job="{re.escape(job_id)}">(.*?)</li>', page, re.S
    )
    assert match, job_id
    return match.group(1)


def queue_mail(to: str = "ada@example.org", subject: str = "Hello") -> OutboxMail:
    return send_mail(
        to,
        subject,
        "mail/notification",
        user=SimpleNamespace(display_name="Ada"),
        message="Hi",
        link="http://alma.test/",
    )


# ---- who may open it ---------------------------------------------------------------------------


def test_only_admins_open_the_system_section(client, create_user, admin):
    assert client.get("/admin/system").location.startswith("/login")

    for role in (None, "coordinator"):
        client.login(create_user(role=role))
        assert client.get("/admin/system").status_code == 403
        assert 'href="/admin/system"' not in client.get("/admin/").text

    client.login(admin)
    assert 'href="/admin/system"' in client.get("/admin/").text
    assert client.get("/admin/system").status_code == 200


def test_a_coordinator_can_neither_run_a_job_nor_retry_mails(db, client, create_user):
    client.login(create_user(role="coordinator"))
    run = client.post(f"/admin/system/jobs/{DELIVER_JOB_ID}/run", data={"reason": "curious"})
    retry = client.post("/admin/system/mail/retry", data={"reason": "curious"})

    assert (run.status_code, retry.status_code) == (403, 403)
    assert logged(db) == []


# ---- what it shows -----------------------------------------------------------------------------


def test_it_shows_the_plugins_with_their_versions_and_the_schema_up_to_date(client, admin):
    client.login(admin)
    page = client.get("/admin/system").text

    plugins = re.findall(r'data-plugin="(\w+)">\s*<span[^>]*>\w+</span><span[^>]*>([^<]*)<', page)
    # kudos's version from its distribution's metadata; testjobs has none
    assert plugins == [("kudos", metadata.version("alma-kudos")), ("testjobs", "local")]
    parts = re.findall(r'data-schema-part="([\w-]+)">.*?data-to-apply="(\d+)"', page, re.S)
    assert parts == [("core", "0"), ("kudos", "0")]
    assert re.search(r"At (core_\d{4}); head \1\b", page)


def test_a_part_behind_its_head_says_how_many_migrations_it_lacks(app):
    """(Read from the database, not the page: the page's navigation needs kudos's tables.)"""
    from alembic import command

    from core.schema import alembic_config, part_revisions, schema_parts

    with app.app_context():
        kudos = next(part for part in schema_parts(app) if part.name == "kudos")
        command.downgrade(alembic_config(app, kudos), "kudos_0001")
    try:
        revisions = {part.name: part for part in part_revisions(app)}
    finally:
        with app.app_context():
            command.upgrade(alembic_config(app, kudos), "heads")

    assert (revisions["kudos"].current, revisions["kudos"].heads) == (
        ("kudos_0001",),
        ("kudos_0003",),
    )
    assert revisions["kudos"].to_apply == 2
    assert revisions["kudos"].pending_heads == {"kudos_0003"}
    assert (revisions["core"].to_apply, revisions["core"].pending_heads) == (0, frozenset())


def test_a_job_never_run_says_so_and_has_no_error(client, admin):
    client.login(admin)
    block = job_block(client.get("/admin/system").text, DELIVER_JOB_ID)

    assert "interval seconds=" in block
    assert re.search(r"data-last-run>never<", block)
    assert re.search(r"data-last-error>none<", block)


def test_the_outbox_counts_queued_failed_and_recently_sent_mails(db, client, admin):
    from core.db import utcnow

    _queued, failed, sent, long_sent = (queue_mail() for _ in range(4))
    failed.attempts, failed.last_error = 2, "ConnectionRefusedError: refused"
    sent.sent_at = utcnow() - timedelta(days=6)
    long_sent.sent_at = utcnow() - timedelta(days=8)
    db.session.commit()
    client.login(admin)

    page = client.get("/admin/system").text

    counts = dict(re.findall(r'data-outbox="(\w+)">(\d+)<', page))
    assert counts == {"queued": "1", "failed": "1", "sent": "1"}
    assert "Retry failed mails" in page


def test_an_empty_outbox_has_nothing_to_retry(client, admin):
    client.login(admin)
    page = client.get("/admin/system").text

    assert dict(re.findall(r'data-outbox="(\w+)">(\d+)<', page)) == {
        "queued": "0",
        "failed": "0",
        "sent": "0",
    }
    assert "No mail failed: nothing to retry." in page
    assert "Retry failed mails" not in page


# ---- run now -----------------------------------------------------------------------------------


def test_run_now_runs_the_job_once_and_logs_it(app, db, client, admin, mail):
    queue_mail(subject="Waiting for the poll")
    db.session.commit()
    client.login(admin)

    page = client.post(
        f"/admin/system/jobs/{DELIVER_JOB_ID}/run",
        data={"reason": "mail seems stuck"},
        follow_redirects=True,
    ).text

    assert f"{DELIVER_JOB_ID} ran." in page
    [message] = mail.messages
    assert message["Subject"] == "Waiting for the poll"
    assert stored(app, select(JobRun.job_id)) == DELIVER_JOB_ID
    assert not re.search(r"data-last-run>never<", job_block(page, DELIVER_JOB_ID))
    assert logged(db) == [("job.run", DELIVER_JOB_ID, "mail seems stuck")]


def test_run_now_asks_for_a_reason_and_runs_nothing_without_one(app, db, client, admin, mail):
    queue_mail()
    db.session.commit()
    client.login(admin)

    page = client.post(
        f"/admin/system/jobs/{DELIVER_JOB_ID}/run", data={"reason": "  "}, follow_redirects=True
    ).text

    assert REASON_REQUIRED in page
    assert mail.messages == []
    assert stored(app, select(JobRun.job_id)) is None
    assert logged(db) == []


def test_run_now_of_an_unknown_job_is_not_found(client, admin):
    client.login(admin)
    assert client.post("/admin/system/jobs/no.such/run", data={"reason": "x"}).status_code == 404


def test_a_failing_job_shows_its_last_error(client, admin):
    client.login(admin)

    page = client.post(
        "/admin/system/jobs/testjobs.broken/run", data={"reason": "try it"}, follow_redirects=True
    ).text

    assert "testjobs.broken failed: its error is below." in page
    block = job_block(page, "testjobs.broken")
    assert "RuntimeError: the archive is full" in block
    assert re.search(r"data-last-run>never<", block)


def test_a_job_already_running_here_is_not_started_twice(
    app, client, admin, create_user, test_jobs
):
    client.login(admin)
    other = app.test_client()
    other.login(create_user(email="other@example.org", role="admin"))
    running = threading.Thread(
        target=lambda: client.post("/admin/system/jobs/testjobs.slow/run", data={"reason": "go"})
    )
    running.start()
    try:
        assert test_jobs.slow_started.wait(10)
        page = other.post(
            "/admin/system/jobs/testjobs.slow/run", data={"reason": "again"}, follow_redirects=True
        ).text
    finally:
        test_jobs.release_slow.set()
        running.join(10)

    assert "testjobs.slow is running already: it was not started again." in page
    assert test_jobs.slow_runs == 1


def test_run_now_wakes_the_job_in_this_processs_scheduler_instead(app, client, admin, test_jobs):
    from core.db import utcnow
    from core.scheduler import SchedulerLock, build_scheduler
    from core.state import alma

    scheduler = build_scheduler(app, SchedulerLock(app))
    scheduler.start(paused=True)  # nothing runs, but it plans
    alma(app).scheduler = scheduler
    try:
        assert scheduler.get_job("testjobs.slow").next_run_time > utcnow() + timedelta(minutes=1)
        client.login(admin)

        page = client.post(
            "/admin/system/jobs/testjobs.slow/run", data={"reason": "now"}, follow_redirects=True
        ).text

        assert "The scheduler runs testjobs.slow now." in page
        assert scheduler.get_job("testjobs.slow").next_run_time <= utcnow()
        assert test_jobs.slow_runs == 0  # not in the request: the scheduler runs it
    finally:
        alma(app).scheduler = None
        scheduler.shutdown(wait=False)


# ---- retry failed mails ------------------------------------------------------------------------


def test_retry_failed_sends_the_failed_mails_now_and_logs_it(app, db, client, admin, mail):
    from core.db import utcnow

    failed = queue_mail(subject="Sorry for the delay")
    db.session.commit()
    db.session.execute(
        update(OutboxMail).values(
            attempts=6,
            last_error="ConnectionRefusedError: refused",
            next_attempt_at=utcnow() + timedelta(hours=1),
        )
    )
    db.session.commit()
    assert mail.deliver() == []  # backing off: not due for an hour
    client.login(admin)

    page = client.post(
        "/admin/system/mail/retry", data={"reason": "SMTP relay fixed"}, follow_redirects=True
    ).text

    assert "1 failed mails are due again." in page
    [message] = mail.deliver()
    assert message["Subject"] == "Sorry for the delay"
    assert stored(app, select(OutboxMail.sent_at).where(OutboxMail.id == failed.id)) is not None
    assert logged(db) == [("mail.retried", "failed mails", "SMTP relay fixed")]


def test_retry_failed_asks_for_a_reason(db, client, admin, mail):
    from core.db import utcnow

    failed = queue_mail()
    failed.attempts, failed.next_attempt_at = 3, utcnow() + timedelta(hours=1)
    db.session.commit()
    client.login(admin)

    page = client.post("/admin/system/mail/retry", data={}, follow_redirects=True).text

    assert REASON_REQUIRED in page
    assert mail.deliver() == []
    assert logged(db) == []
