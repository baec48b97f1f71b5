"""A member's account to its end, in a browser on a desktop and a phone: deactivate, log in
and reactivate; download a copy of their data; delete the account (erased at the job's next
run: the grace period is 0 here); register again with the same address.

With ``ALMA_SCREENSHOTS=dir``, My data's account card and the pages met after logging in are
also saved there as PNGs."""

from __future__ import annotations

import re
import zipfile

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.models import User
from core.testing import TEST_PASSWORD, body_of, run_job, screenshot, stored


@pytest.fixture
def app(make_app):
    return make_app(ACCOUNT_DELETION_GRACE_DAYS=0)


def log_in(page, live_server: str, email: str) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_deactivate_come_back_export_delete_and_register_again(
    open_page, live_server, app, mail, create_user
):
    member = create_user(email="maya@example.org", display_name="Maya Ruiz", bio="Gardener.")
    page = open_page(member)

    # deactivate, confirmed with the password
    page.goto(live_server + "/me/data")
    screenshot(page, "my-data-account", "#account")
    page.locator("#deactivate-password").fill("not my password")
    page.get_by_role("button", name="Deactivate my account").click()
    expect(page.get_by_text("Your password is not correct.")).to_be_visible()
    page.locator("#deactivate-password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Deactivate my account").click()
    expect(page.get_by_text("Your account is deactivated.")).to_be_visible()

    # logging in again offers to come back; nothing else opens first
    log_in(page, live_server, "maya@example.org")
    page.wait_for_url(re.compile(r".*/me/welcome-back$"))
    expect(page.get_by_role("heading", name="Welcome back, Maya Ruiz")).to_be_visible()
    screenshot(page, "welcome-back")
    page.goto(live_server + "/me/data")
    page.wait_for_url(re.compile(r".*/me/welcome-back$"))
    page.get_by_role("button", name="Reactivate my account").click()
    expect(page.get_by_text("Your account is active again")).to_be_visible()

    # a copy of the data first
    page.goto(live_server + "/me/data")
    page.get_by_role("button", name="Download my data").click()
    expect(page.get_by_text("We are gathering your data.")).to_be_visible()
    run_job(app, "core.build_data_exports")
    page.reload()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your copy").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        assert b"Gardener." in archive.read("core.json")

    # delete: the password and the word
    page.locator("#delete-password").fill(TEST_PASSWORD)
    page.locator("#delete-word").fill("please")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Type DELETE to confirm.")).to_be_visible()
    page.locator("#delete-password").fill(TEST_PASSWORD)
    page.locator("#delete-word").fill("DELETE")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account will be deleted on")).to_be_visible()
    confirmed = [m for m in mail.deliver() if m["Subject"] == "Your account will be deleted"]
    assert [m["To"] for m in confirmed] == ["maya@example.org"]

    # until the job runs, logging in offers to cancel; this member keeps the deletion
    log_in(page, live_server, "maya@example.org")
    expect(page.get_by_text("Your account will be deleted on")).to_be_visible()
    screenshot(page, "cancel-deletion")
    page.get_by_role("button", name="Log out, keep the deletion").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()

    run_job(app, "core.erase_accounts")
    assert stored(app, select(User.display_name).where(User.id == member.id)) == "former member"
    log_in(page, live_server, "maya@example.org")
    expect(page.get_by_text("Wrong e-mail address or password.")).to_be_visible()
    # the refused login answers 401, which Chromium notes in the console: expected here
    page.problems[:] = [p for p in page.problems if "status of 401" not in p]

    # the address registers again, as a new account
    page.goto(live_server + "/register")
    page.get_by_label("Your name").fill("Maya Again")
    page.get_by_label("E-mail address").fill("maya@example.org")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    [message] = [m for m in mail.deliver() if m["Subject"] == "Confirm your e-mail address"]
    link = re.search(r"http://alma\.test(\S+)", body_of(message)).group(1)
    page.goto(live_server + link)
    expect(page.get_by_text("your e-mail address is confirmed")).to_be_visible()
    new_id = stored(app, select(User.id).where(User.email == "maya@example.org"))
    assert new_id != member.id
