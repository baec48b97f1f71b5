"""The console's Mentorships section in a real browser (Chromium), on desktop and phone widths:
a coordinator finds a stuck pair, nudges it with a note (the mentor gets the mail), and extends
an active pair's agreement, which the mentee then reads in the agreement's history. The pages
fit the screen and raise no console errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from core.db import utcnow
from core.testing import body_of
from plugins.mentoring.models import Mentorship
from plugins.mentoring.services import agreements, lifecycle

pytestmark = pytest.mark.plugins("mentoring")


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_coordinator_nudges_a_stuck_pair_and_extends_an_agreement(
    db, open_page, live_server, create_user, mail
):
    mia = create_user(display_name="Mia Mentee", email="mia@example.org")
    max_ = create_user(display_name="Max Mentor", email="max@example.org", wants_to_mentor=True)
    ann = create_user(display_name="Ann Active", email="ann@example.org")
    bo = create_user(display_name="Bo Busy", email="bo@example.org", wants_to_mentor=True)
    waiting = lifecycle.send_request(mia, max_, "Would you mentor me?")
    active = lifecycle.send_request(ann, bo, "Hello!")
    lifecycle.accept_request(active.id, bo)
    today = utcnow().date()
    terms = agreements.Terms(today, today + timedelta(days=60), 4, "Video calls", 14)
    agreements.approve(agreements.propose_agreement(active.id, ann, terms).id, bo)
    db.session.execute(
        update(Mentorship)
        .where(Mentorship.id == waiting.id)
        .values(created_at=utcnow() - timedelta(days=10))
    )
    db.session.commit()
    mail.deliver()
    page = open_page(create_user(display_name="Cora", email="cora@example.org", role="coordinator"))

    page.goto(f"{live_server}/admin/")
    page.locator('a[href="/admin/mentorships"]').click()
    page.get_by_role("link", name="Stuck").click()
    pair = page.locator(f'[data-mentorship="{waiting.id}"]')
    expect(pair.get_by_text("Request unanswered")).to_be_visible()
    expect(page.locator(f'[data-mentorship="{active.id}"]')).to_have_count(0)
    assert fits(page)

    pair.get_by_text("Add a note (optional)").click()
    pair.get_by_label("Note (optional)").fill("A short answer is enough.")
    pair.get_by_role("button", name="Send a nudge").click()
    expect(page.get_by_text("The nudge is sent to Max Mentor.")).to_be_visible()
    expect(page.locator(f'[data-mentorship="{waiting.id}"] [data-nudged]')).to_be_visible()
    (nudge,) = mail.deliver()
    assert nudge["To"] == "max@example.org"
    assert "A short answer is enough." in body_of(nudge)

    page.goto(f"{live_server}/admin/mentorships/{active.id}")
    new_end = today + timedelta(days=90)
    page.get_by_label("New end date").fill(new_end.isoformat())
    page.get_by_label("Reason").fill("They asked for a month more")
    page.get_by_role("button", name="Extend the agreement").click()
    expect(page.get_by_text("The agreement is extended; both were told.")).to_be_visible()
    expect(page.locator(f'[data-agreed-end="{new_end.isoformat()}"]')).to_be_visible()
    assert fits(page)

    mentee_page = open_page(ann)
    mentee_page.goto(f"{live_server}/mentoring/{active.id}/agreement")
    expect(mentee_page.locator("[data-staff-change]")).to_be_visible()
    expect(mentee_page.get_by_text("They asked for a month more")).to_be_visible()
    assert fits(mentee_page)
