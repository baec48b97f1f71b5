"""The console's System section in a real browser (Chromium), on desktop and phone widths: it
fits the screen, raises no console errors (the strict CSP included), and an admin runs a job
with a reason. With ``ALMA_SCREENSHOTS=dir`` the page is also saved there as a PNG."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from core.db import utcnow
from core.services.mail import DELIVER_JOB_ID, send_mail
from core.testing import screenshot


@pytest.mark.plugins("kudos")  # a plugin, with its version and its schema part
def test_an_admin_runs_a_job_from_the_system_section(db, open_page, live_server, create_user, mail):
    for subject in ("Welcome", "Your request"):
        send_mail(
            "ada@example.org",
            subject,
            "mail/notification",
            user=SimpleNamespace(display_name="Ada"),
            message="Hi",
            link="http://alma.test/",
        )
    db.session.commit()
    mail.deliver()
    failed = send_mail(
        "rui@example.org",
        "Reminder",
        "mail/notification",
        user=SimpleNamespace(display_name="Rui"),
        message="Hi",
        link="http://alma.test/",
    )
    failed.attempts, failed.last_error = 3, "ConnectionRefusedError: [Errno 111] refused"
    failed.next_attempt_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    page = open_page(create_user(email="root@example.org", role="admin"))

    page.goto(f"{live_server}/admin/system")
    expect(page.locator('[data-outbox="failed"]')).to_have_text("1")
    expect(page.locator('[data-outbox="sent"]')).to_have_text("2")
    expect(page.locator('[data-plugin="kudos"]')).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "console-system")

    job = page.locator(f'[data-job="{DELIVER_JOB_ID}"]')
    job.get_by_text("Run now", exact=True).click()
    job.get_by_label("Reason").fill("checking the outbox after the relay change")
    job.get_by_role("button", name=f"Run {DELIVER_JOB_ID} now").click()

    expect(page.get_by_text(f"{DELIVER_JOB_ID} ran.")).to_be_visible()
    expect(job.locator("[data-last-run]")).not_to_have_text("never")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
