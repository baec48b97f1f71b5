""" "Suggested for you" in real browsers (Chromium), on desktop and phone widths: a mentee
sees a suggested mentor with its reasons, says "Not for me", and asks another. With
``ALMA_SCREENSHOTS=dir`` the pages are also saved there as PNGs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.models import UserLanguage, UserTopic
from core.services.profiles import topic_named
from core.testing import screenshot

pytestmark = pytest.mark.plugins("mentoring")


def with_profile(db, user, kind: str, topics: tuple[str, ...], languages: tuple[str, ...]):
    user.topics = [
        UserTopic(topic=topic_named(topic), kind=kind, position=position)
        for position, topic in enumerate(topics)
    ]
    user.languages = [UserLanguage(code=code) for code in languages]
    db.session.commit()
    return user


def test_a_mentee_dismisses_a_suggestion_and_asks_another(db, open_page, live_server, create_user):
    mentee = create_user(
        display_name="Mia Mentee", wants_to_be_mentored=True, timezone="Europe/Vienna"
    )
    with_profile(db, mentee, "interest", ("Python", "careers", "data"), ("de", "en"))
    ada = create_user(display_name="Ada Lovelace", wants_to_mentor=True, timezone="Europe/London")
    with_profile(db, ada, "expertise", ("Python", "careers", "data"), ("de",))
    bob = create_user(display_name="Bob Builder", wants_to_mentor=True, timezone="Europe/Vienna")
    with_profile(db, bob, "expertise", ("Python",), ("en",))
    for number in range(3):  # more mentors, none in common with Mia
        mentor = create_user(display_name=f"Other Mentor {number}", wants_to_mentor=True)
        with_profile(db, mentor, "expertise", ("Rust",), ("en",))

    page = open_page(mentee)
    page.goto(live_server + "/mentoring/mentors")
    suggested = page.locator(".suggestion")
    expect(suggested).to_have_count(2)
    expect(suggested.first).to_contain_text("Ada Lovelace")
    expect(suggested.first).to_contain_text("3 topics in common: Python, careers, data")
    expect(suggested.first).to_contain_text("both speak German")
    expect(suggested.first).to_contain_text("1 hour apart")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "directory-suggestions")

    page.goto(live_server + "/mentoring/")
    expect(suggested).to_have_count(2)
    screenshot(page, "mentoring-suggestions")

    suggested.first.get_by_role("button", name="Not for me").click()
    expect(page.get_by_text("Ada Lovelace will not be suggested to you again")).to_be_visible()
    expect(suggested).to_have_count(1)
    expect(suggested.first).to_contain_text("Bob Builder")
    expect(suggested.first).to_contain_text("both speak English")

    page.get_by_role("link", name="Dismissed suggestions").click()
    expect(page.get_by_role("main")).to_contain_text("Ada Lovelace")
    screenshot(page, "dismissed-suggestions")
    page.goto(live_server + "/mentoring/")

    suggested.first.get_by_role("link", name="Ask for mentoring").click()
    page.get_by_label("Your message").fill("I would love help with Python.")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Your request is on its way to Bob Builder.")).to_be_visible()

    # asked: Bob is suggested no more, and Mia is told how to find others
    page.goto(live_server + "/mentoring/")
    expect(suggested).to_have_count(0)
    expect(page.get_by_text("No available mentor shares your interests right now")).to_be_visible()
    screenshot(page, "mentoring-no-suggestions")
