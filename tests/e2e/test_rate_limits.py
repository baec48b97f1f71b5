"""Rate limits in a real browser (Chromium), at a desktop's and a phone's width: the chat
says how long to wait under the box and keeps what was typed; a wiki edit over the limit
comes back as the editor with the text in it."""

import re

import pytest
from playwright.sync_api import expect

from plugins.mentoring.services import lifecycle

pytestmark = pytest.mark.plugins("mentoring", "wiki")


@pytest.fixture
def app(make_app):
    return make_app(RATE_LIMITS={"mentoring-chat": "2/minute", "wiki-edit": "1/hour"})


@pytest.fixture
def chat(db, create_user):
    mentee = create_user(display_name="Sam Lee", wants_to_be_mentored=True)
    mentor = create_user(display_name="Rui Mentor", wants_to_mentor=True)
    mentorship = lifecycle.send_request(mentee, mentor, "Would you mentor me in Python?")
    db.session.flush()
    lifecycle.accept_request(mentorship.id, mentor)
    db.session.commit()
    return mentorship.id, mentee


def expected_429(page) -> None:
    """The browser logs a 429 answer to a page as a console error: that one is expected."""
    page.problems[:] = [p for p in page.problems if "status of 429" not in p]


def test_the_chat_shows_the_wait_and_keeps_the_text(open_page, live_server, chat):
    mentorship_id, mentee = chat
    page = open_page(mentee)
    page.goto(f"{live_server}/mentoring/{mentorship_id}")
    page.locator('#chat[data-live="true"]').wait_for(state="attached")
    box = page.locator("#body")
    for text in ("Hello Rui!", "Tuesday works?"):
        box.fill(text)
        box.press("Enter")
        expect(page.locator("#chat-log .chat-mine", has_text=text)).to_be_visible()
        expect(box).to_have_value("")

    box.fill("One message too many")
    box.press("Enter")

    expect(page.locator("#chat-error")).to_have_text(
        re.compile(r"You did this too often for now\. Try again in \d+ seconds\.")
    )
    expect(box).to_have_value("One message too many")
    expect(page.locator("#chat-log .chat-mine")).to_have_count(2)


def test_a_limited_wiki_edit_comes_back_filled(open_page, live_server, create_user):
    writer = create_user(display_name="Ada Writer")
    page = open_page(writer)
    page.goto(f"{live_server}/wiki/new")
    page.locator("#title").fill("Meeting notes")
    page.locator("#body").fill("Meet **weekly**.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Your article is published.")).to_be_visible()

    page.goto(f"{live_server}/wiki/new")
    page.locator("#title").fill("A second article")
    page.locator("#body").fill("Written with care, not lost.")
    with page.expect_response(lambda r: r.url.endswith("/wiki/new")) as answer:
        page.get_by_role("button", name="Publish").click()

    assert answer.value.status == 429
    expect(page.get_by_text(re.compile(r"Try again in 60 minutes\."))).to_be_visible()
    expect(page.locator("#title")).to_have_value("A second article")
    expect(page.locator("#body")).to_have_value("Written with care, not lost.")
    expected_429(page)
