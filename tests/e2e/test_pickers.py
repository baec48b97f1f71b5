"""Long lists (some 180 languages, 600 time zones) are searchable pickers that
work from the keyboard alone; without scripts they are the plain selects."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.db import db
from core.models import User, UserLanguage
from core.testing import screenshot, session_cookie, stored


@pytest.fixture
def page_as_member(open_page, create_user):
    member = create_user(display_name="Maya Ruiz")
    return open_page(member), member


def languages_of(app, member) -> set[str]:
    with app.app_context():
        codes = db.session.scalars(
            select(UserLanguage.code).where(UserLanguage.user_id == member.id)
        ).all()
        db.session.remove()
    return set(codes)


def test_languages_and_time_zone_are_chosen_with_the_keyboard_alone(
    app, live_server, page_as_member
):
    page, member = page_as_member
    page.goto(live_server + "/me/data")
    languages = page.get_by_role("combobox", name="Languages I speak")
    expect(page.locator("#languages-hint")).to_contain_text(
        "Backspace to remove the last one", use_inner_text=True
    )

    languages.focus()
    for typed in ("Germ", "Portug", "Fren"):
        page.keyboard.type(typed)
        page.keyboard.press("Enter")
    page.keyboard.press("Backspace")  # French goes again
    screenshot(page, "data-languages")
    page.keyboard.press("Escape")
    page.get_by_role("combobox", name="Time zone").focus()
    page.keyboard.type("Lisbon")
    page.keyboard.press("Enter")
    screenshot(page, "data-chosen")
    page.get_by_role("button", name="Save", exact=True).press("Enter")

    page.get_by_text("Your data is saved.").wait_for()
    assert languages_of(app, member) == {"de", "pt"}
    assert stored(app, select(User.timezone).where(User.id == member.id)) == "Europe/Lisbon"
    # the saved languages come back as chosen items
    chosen = page.locator("#languages + .ts-wrapper .item")
    first_lines = [re.compile(rf"^{name}(\n|$)") for name in ("German", "Portuguese")]
    expect(chosen).to_have_text(first_lines, use_inner_text=True)
    expect(chosen.locator(".remove").first).to_have_attribute("title", "Remove")


def test_without_scripts_the_plain_selects_work(app, live_server, browser, create_user):
    member = create_user(display_name="Maya Ruiz")
    context = browser.new_context(java_script_enabled=False)
    context.add_cookies(
        [{"name": "session", "value": session_cookie(app, member), "url": live_server}]
    )
    page = context.new_page()
    page.goto(live_server + "/me/data")
    expect(page.locator("#languages-hint")).to_contain_text(
        "hold Ctrl (or ⌘) to choose several", use_inner_text=True
    )

    page.get_by_label("Languages I speak").select_option(["es", "it"])
    page.get_by_role("button", name="Save", exact=True).click()

    page.get_by_text("Your data is saved.").wait_for()
    assert languages_of(app, member) == {"es", "it"}
    context.close()


@pytest.mark.plugins("mentoring")
def test_the_mentor_directory_filters_by_a_language_typed(app, live_server, page_as_member):
    page, _member = page_as_member
    page.goto(live_server + "/mentoring/mentors")

    page.get_by_role("combobox", name="Language", exact=True).fill("Swed")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Search").click()

    page.wait_for_url("**language=sv**")
    screenshot(page, "directory-language")


def test_a_picker_says_nothing_matches_in_the_pages_language(app, live_server, page_as_member):
    page, _member = page_as_member
    page.goto(live_server + "/me/data")

    page.get_by_role("combobox", name="Time zone").focus()
    page.keyboard.type("Atlantis")

    expect(page.locator(".ts-dropdown .no-results")).to_have_text("Nothing matches.")
