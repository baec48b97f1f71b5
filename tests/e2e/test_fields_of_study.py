"""Fields of study in a real browser (Chromium), on desktop and phone widths: a mentee picks
the field they want a mentor in under My data, then filters the directory by its broad field
and finds a mentor of one of its narrow fields. With ``ALMA_SCREENSHOTS=dir`` the pages are
also saved there as PNGs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.db import db
from core.testing import screenshot
from plugins.mentoring.models import MemberField

pytestmark = pytest.mark.plugins("mentoring")


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def fields_of(app, user) -> set[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(MemberField.role, MemberField.code).where(MemberField.user_id == user.id)
        ).all()
        db.session.remove()
    return {tuple(row) for row in rows}


def test_a_mentee_filters_the_directory_by_a_broad_field_and_finds_a_mentor(
    app, open_page, live_server, create_user
):
    create_user(
        display_name="Ines Informatik",
        wants_to_mentor=True,
        mentoring_fields_as_mentor=["061", "054"],
    )
    create_user(
        display_name="Lars Linguist", wants_to_mentor=True, mentoring_fields_as_mentor=["023"]
    )
    mentee = create_user(display_name="Mia Mentee", wants_to_be_mentored=True)
    page = open_page(mentee)

    # under My data, she picks the field she wants a mentor in, typing part of its name
    page.goto(live_server + "/me/data")
    wanted = page.get_by_role("combobox", name="Fields I would like a mentor in")
    wanted.focus()
    expect(page.locator(".ts-dropdown .optgroup-header").first).to_be_visible()  # grouped
    screenshot(page, "fields-picker")
    page.keyboard.type("(ICTs), in general")
    # Enter takes the highlighted option: wait until the typing has filtered the list to it
    expect(page.locator(".ts-dropdown .option.active")).to_contain_text("(ICTs), in general")
    page.keyboard.press("Enter")
    expect(page.locator(".ts-control .item")).to_contain_text(["(ICTs), in general"])
    page.keyboard.press("Escape")
    screenshot(page, "fields-my-data")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Your data is saved.").wait_for()
    assert fields_of(app, mentee) == {("mentee", "06")}  # the broad field, in general
    assert fits_the_width(page)

    # in the directory she filters by the broad field, and finds the mentor of its narrow one
    page.goto(live_server + "/mentoring/mentors")
    page.get_by_role("combobox", name="Field of study").focus()
    page.keyboard.type("All of Information and Communication")
    expect(page.locator(".ts-dropdown .option.active")).to_contain_text("All of Information")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # the open list covers the button on a phone
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r".*field=06.*"))

    cards = page.locator(".card .stretched-link")
    expect(cards).to_have_text(["Ines Informatik"])
    card = page.locator(".card", has_text="Ines Informatik")
    expect(card).to_contain_text("Information and Communication Technologies (ICTs)")
    expect(card).to_contain_text("Mathematics and statistics")
    narrow = page.get_by_role("navigation", name=re.compile("Fields within Information"))
    expect(narrow).to_contain_text("Inter-disciplinary programmes")
    assert fits_the_width(page)
    screenshot(page, "fields-directory")

    # one narrow field of the broad one: the same mentor; the shared link keeps the filter
    narrow.get_by_role(
        "link", name="Information and Communication Technologies (ICTs)", exact=True
    ).click()
    page.wait_for_url(re.compile(r".*field=061.*"))
    expect(cards).to_have_text(["Ines Informatik"])
    card.get_by_role("link", name="Ines Informatik").click()
    expect(page.get_by_text("Fields of study")).to_be_visible()
    screenshot(page, "fields-profile")


@pytest.mark.parametrize("viewport", ["phone"])
def test_a_picker_keeps_its_height_when_a_tap_elsewhere_takes_the_focus(
    open_page, live_server, create_user
):
    # A long field's name fills the phone's line, so the text box goes on a line of its own.
    # The picker dropped that line when the focus left it, between the press and the release
    # of a tap on Save below it: the page moved, and the tap saved nothing.
    page = open_page(create_user(display_name="Mia Mentee", wants_to_be_mentored=True))
    page.goto(live_server + "/me/data")
    page.get_by_role("combobox", name="Fields I would like a mentor in").focus()
    page.keyboard.type("(ICTs), in general")
    expect(page.locator(".ts-dropdown .option.active")).to_contain_text("(ICTs), in general")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    control = page.locator("#mentoring_fields_as_mentee + .ts-wrapper .ts-control")
    focused = control.bounding_box()["height"]

    page.mouse.move(2, 2)
    page.mouse.down()  # a press outside: the picker loses the focus
    assert control.bounding_box()["height"] == focused
    page.mouse.up()
