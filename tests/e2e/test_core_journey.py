"""A newcomer's first steps in a real browser (Chromium), on desktop and phone widths.

With ``ALMA_SCREENSHOTS=dir`` every page visited is also saved there as a PNG, for people to
look at.
"""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from core.testing import body_of, in_unit_of_work, open_menu_on_phone, screenshot

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS))
def page(request, browser, live_server):
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    page = context.new_page()
    page.viewport_name = request.param
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    errors = [error for error in errors if not CUT_SOCKET.search(error)]
    assert not errors, f"errors in the browser console: {errors}"


# Chromium's note of a websocket the development server cut as the page left or the server
# closed it (a new password): socket.io connects again, which the tests check; not an error
# a member sees.
CUT_SOCKET = re.compile(r"^WebSocket connection to '.*' failed: Invalid frame header$")


def png_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (31, 78, 95)).save(buffer, "PNG")
    return buffer.getvalue()


def test_register_confirm_fill_my_data_and_see_alerts_live(page, live_server, mail, app, db):
    from sqlalchemy import select

    from core.models import User
    from core.services.notifications import notify

    page.goto(live_server + "/")
    screenshot(page, "home")
    page.get_by_role("link", name="Join for free").click()
    page.get_by_label("Your name").fill("Maya Ruiz")
    page.get_by_label("E-mail address").fill("maya@example.org")
    page.get_by_label("Password").fill("a long enough password")
    screenshot(page, "register")
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()

    [message] = mail.deliver()
    link = re.search(r"http://alma\.test(\S+)", body_of(message)).group(1)
    page.goto(live_server + link)
    page.get_by_text("your e-mail address is confirmed").wait_for()

    page.get_by_label("Short bio").fill("Nurse becoming a UX researcher.")
    page.get_by_label("Topics of interest").fill("UX research, career change")
    page.get_by_label("Photo").set_input_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": png_photo()}]
    )
    page.get_by_role("combobox", name="Time zone").fill("Madrid")  # a searchable picker
    expect(page.get_by_role("option", name="Europe/Madrid")).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # the list closes; on a phone it covers the Save button
    screenshot(page, "my-data")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Your data is saved.").wait_for()
    expect(page.locator("select#timezone")).to_have_value("Europe/Madrid")

    open_menu_on_phone(page)
    page.goto(live_server + "/me")
    page.get_by_text("UX research", exact=True).wait_for()
    expect(page.locator("header img.avatar")).to_be_visible()
    expect(page.locator("#alert-count")).to_be_hidden()
    screenshot(page, "overview")
    page.locator("body[data-live]").wait_for(state="attached")  # it follows the counts now

    maya = select(User).filter_by(email="maya@example.org")
    in_unit_of_work(
        app,
        lambda: notify(
            db.session.scalars(maya).one(), "Anna accepted your mentorship request.", url="/me"
        ),
    )

    # The count appears without reloading the page, pushed over Socket.IO.
    open_menu_on_phone(page)
    badge = page.locator("#alert-count")
    badge.wait_for(state="visible", timeout=10_000)
    expect(badge).to_have_text("1", use_inner_text=True)

    badge.click()
    page.get_by_text("Anna accepted your mentorship request.").wait_for()
    screenshot(page, "alerts")
    page.get_by_role("button", name="Open").click()
    page.wait_for_url(re.compile(r".*/members/\d+$"))
    expect(page.locator("#alert-count")).to_be_hidden()


def test_after_a_new_password_the_members_other_tab_stays_live(
    page, live_server, create_user, app, db
):
    from core.models import User
    from core.services.notifications import notify
    from core.testing import TEST_PASSWORD

    member = create_user(email="maya@example.org", display_name="Maya Ruiz")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill("maya@example.org")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/members/\d+$"))
    other_tab = page.context.new_page()  # the same browser: the same session
    other_tab.goto(live_server + "/me")
    other_tab.locator("body[data-live]").wait_for(state="attached")
    first_connection = other_tab.locator("body").get_attribute("data-live")

    # A new password ends every other session: the server closes this member's connections,
    # and a tab of the browser that set it, still logged in, connects again.
    page.goto(live_server + "/account")
    page.locator("#pw-current_password").fill(TEST_PASSWORD)
    page.locator("#pw-password").fill("a brand new password")
    page.locator("#pw-confirm").fill("a brand new password")
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Your password was changed.").wait_for()
    other_tab.wait_for_function(
        "first => document.body.dataset.live && document.body.dataset.live !== first",
        arg=first_connection,
    )
    member_id = member.id
    in_unit_of_work(app, lambda: notify(db.session.get_one(User, member_id), "Still here?"))

    other_tab.locator('#alert-count[data-count="1"]').wait_for(state="attached")


FIREFOX_ON_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"


def test_the_member_sees_where_they_are_logged_in_and_logs_a_device_out(
    page, browser, live_server, create_user
):
    from core.testing import TEST_PASSWORD

    def log_in(tab):
        tab.goto(live_server + "/login")
        tab.get_by_label("E-mail address").fill("maya@example.org")
        tab.get_by_label("Password").fill(TEST_PASSWORD)
        tab.get_by_role("button", name="Log in").click()
        tab.wait_for_url(re.compile(r".*/members/\d+$"))

    create_user(email="maya@example.org", display_name="Maya Ruiz")
    other_device = browser.new_context(user_agent=FIREFOX_ON_ANDROID).new_page()
    log_in(other_device)
    log_in(page)  # Chromium on Linux

    page.goto(live_server + "/account")
    sessions = page.locator("li.session")
    expect(sessions).to_have_count(2)
    expect(sessions.nth(0)).to_contain_text("This device")
    expect(sessions.nth(1)).to_contain_text("Firefox on Android")
    sessions.nth(1).scroll_into_view_if_needed()
    screenshot(page, "account-sessions")

    page.once("dialog", lambda dialog: dialog.accept())  # "Log out on this device?"
    sessions.nth(1).get_by_role("button", name="Log out").click()
    page.get_by_text("That device is logged out.").wait_for()
    expect(sessions).to_have_count(1)

    other_device.goto(live_server + "/account")
    other_device.wait_for_url(re.compile(r".*/login\?next=.*"))
    other_device.context.close()
