"""A mentor's identity check in real browsers (Chromium), on desktop and phone widths: a new
member registers, offers to mentor and uploads a document; a coordinator verifies them in the
console; a mentee then finds them in the directory. With ``ALMA_SCREENSHOTS=dir`` the pages
are also saved there as PNGs."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from core.services.mail import DELIVER_JOB_ID
from core.testing import body_of, run_job, screenshot

pytestmark = pytest.mark.plugins("mentoring")

NEWCOMER = "Valentina Newcomer-Okafor"


def id_card() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 380), (225, 235, 245)).save(out, "PNG")
    return out.getvalue()


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_new_mentor_is_verified_by_a_coordinator_then_found_by_a_mentee(
    app, open_page, live_server, mail, create_user, smtp_server
):
    coordinator = create_user(display_name="Coco Ordinator", role="coordinator")
    mentee = create_user(display_name="Mia Mentee", wants_to_be_mentored=True)

    # a newcomer registers, confirms, and offers to mentor
    page = open_page()
    page.goto(live_server + "/register")
    page.get_by_label("Your name").fill(NEWCOMER)
    page.get_by_label("E-mail address").fill("valentina@example.org")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    [message] = mail.deliver()
    link = re.search(r"http://alma\.test(\S+)", body_of(message)).group(1)
    page.goto(live_server + link)
    page.get_by_text("your e-mail address is confirmed").wait_for()
    page.get_by_label("I would like to mentor others").check()
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Your data is saved.").wait_for()

    # their Mentoring area asks for a document; they upload one
    page.goto(live_server + "/me")
    page.wait_for_url(re.compile(r".*/members/\d+$"))
    page.goto(page.url + "/mentoring")
    area = page.locator("#mentor-verification")
    expect(area).to_contain_text("Verify your identity to mentor")
    page.get_by_label("Identity document").set_input_files(
        files=[{"name": "id-card.png", "mimeType": "image/png", "buffer": id_card()}]
    )
    page.get_by_role("button", name="Send for verification").click()
    expect(page.get_by_text("a coordinator checks your document")).to_be_visible()
    expect(area).to_contain_text("Your identity is being checked")
    expect(area).to_contain_text("members cannot find you in the directory")
    assert fits_the_width(page)
    screenshot(page, "mentoring-awaiting-verification")

    # meanwhile the mentee does not find them
    finding = open_page(mentee)
    finding.goto(live_server + "/mentoring/mentors")
    expect(finding.get_by_text(NEWCOMER)).to_have_count(0)

    # the coordinator sees the queue's badge, the document inline, and approves
    console = open_page(coordinator)
    console.goto(live_server + "/admin/")
    expect(console.locator('[data-section-count="mentoring_verification.queue"]')).to_have_text("1")
    console.get_by_role("link", name=re.compile("Verification")).click()
    # until "load", the stylesheets or the document's image may still be on their way
    console.wait_for_url(re.compile(r".*/admin/verification$"), wait_until="load")
    check = console.locator(".verification-check", has_text=NEWCOMER)
    document = check.locator("img.verification-document")
    expect(document).to_be_visible()
    assert document.evaluate("image => image.naturalWidth") == 600  # the image itself loaded
    assert fits_the_width(console)
    screenshot(console, "console-verification")
    check.get_by_label("What you checked").fill("ID card matches the name and photo")
    check.get_by_role("button", name="Approve").click()
    expect(console.get_by_text("The mentor is verified")).to_be_visible()
    expect(console.get_by_text("No mentor waits for a check.")).to_be_visible()

    # the newcomer is told by e-mail, and the mentee finds them now
    run_job(app, DELIVER_JOB_ID)
    [approved] = [m for m in smtp_server.messages if m["To"] == "valentina@example.org"][1:]
    assert approved["Subject"] == "You are a verified mentor"
    finding.goto(live_server + "/mentoring/mentors")
    expect(finding.get_by_role("link", name=NEWCOMER)).to_be_visible()
    assert fits_the_width(finding)
    page.reload()
    expect(page.locator("#mentor-verification")).to_have_count(0)
