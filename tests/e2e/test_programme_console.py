"""Running a programme in a real browser (Chromium), on desktop and phone widths: the
statistics' charts and table under the strict CSP, an admin revoking and reissuing a
certificate, and adjusting a member's credits, which the member then reads."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.services.goals import consent_to_goal, propose_goal

pytestmark = pytest.mark.plugins("mentoring", "credits", "certificates")


def test_a_coordinator_reads_the_statistics(db, open_page, live_server, create_user):
    create_user(wants_to_mentor=True)
    page = open_page(create_user(email="coco@example.org", role="coordinator"))

    page.goto(f"{live_server}/admin/")
    page.get_by_role("link", name="Statistics").click()

    expect(
        page.locator('[data-statistic="mentoring.mentors_available"] [data-value]')
    ).to_have_text("1")
    expect(page.locator('[data-chart="registrations"] svg')).to_be_visible()
    expect(page.locator("figure.statistics-chart")).to_have_count(
        10
    )  # registrations, 8 of mentoring, 1 of certificates
    expect(page.locator('tr[data-row="mentoring.requests"] th')).to_have_text("Requests")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label("Months").select_option("6")
    page.get_by_role("button", name="Show").click()
    expect(page.locator('tr[data-row="registrations"] td')).to_have_count(6)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "alma-statistics.csv"


def test_an_admin_revokes_and_reissues_a_certificate(db, open_page, live_server, create_user):
    mentor = create_user(display_name="Ada Lovelace", wants_to_mentor=True)
    mentee = create_user(display_name="Bob Smit", email="bob@example.org")
    goal = propose_goal("mentoring.finished", "Mentorship of Bob with Ada", [mentor, mentee])
    db.session.commit()
    for party in (mentor, mentee):
        consent_to_goal(goal.id, party)
        db.session.commit()
    page = open_page(create_user(email="root@example.org", role="admin"))

    page.goto(f"{live_server}/admin/certificates/")
    page.get_by_label("Number, holder's name or e-mail").fill("bob@")
    page.get_by_role("button", name="Search").click()
    page.locator(".console-certificate a").click()
    number = page.locator("h1").inner_text()
    page.get_by_text("Revoke…").click()
    page.get_by_label("Reason").fill("The name is misspelt")
    page.get_by_role("button", name=f"Revoke certificate {number}").click()

    expect(page.get_by_text("The certificate is revoked.")).to_be_visible()
    expect(page.locator('[data-certificate-state="revoked"]')).to_contain_text(
        "The name is misspelt"
    )
    page.get_by_label("Reason").fill("Name corrected to Bob Smith")
    page.get_by_role("button", name="Reissue").click()
    expect(page.get_by_text("The certificate is reissued")).to_be_visible()
    reissue = page.locator("[data-reissue]").inner_text()
    assert reissue != number

    page.goto(f"{live_server}/certificates/verify/{number}")
    expect(page.get_by_role("heading", name="This certificate was revoked")).to_be_visible()
    expect(page.get_by_text("was issued in its place")).to_be_visible()
    page.goto(f"{live_server}/certificates/verify/{reissue}")
    expect(page.get_by_role("heading", name="Genuine certificate")).to_be_visible()


def test_an_admin_adjusts_credits_the_member_reads_why(db, open_page, live_server, create_user):
    ada = create_user(email="ada@example.org", display_name="Ada")
    admin = open_page(create_user(email="root@example.org", role="admin"))

    admin.goto(f"{live_server}/admin/")
    admin.locator("main").get_by_role("link", name="Credits").click()
    admin.get_by_label("Member's e-mail").fill("ada@example.org")
    admin.get_by_label("Credits (negative to take)").fill("25")
    admin.get_by_label("Reason").fill("Ran the spring workshop")
    admin.get_by_role("button", name="Adjust").click()
    expect(admin.get_by_text("The credits are adjusted.")).to_be_visible()
    assert admin.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    member = open_page(ada)
    member.goto(f"{live_server}/credits/")
    expect(member.get_by_text("Adjusted by the programme")).to_be_visible()
    expect(member.get_by_text("Ran the spring workshop")).to_be_visible()
    expect(member.get_by_text("25", exact=True).first).to_be_visible()
