"""The HTTP API as a member meets it in a browser, on a desktop and a phone: make a token in
My data, copy it once, call the API with it, revoke it; read the API's document at /api/docs
(Swagger UI from alma's own static folder, under alma's Content Security Policy)."""

from __future__ import annotations

import urllib.error
import urllib.request

from playwright.sync_api import expect

from core.testing import screenshot


def call(live_server: str, token: str) -> int:
    request = urllib.request.Request(
        live_server + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_member_makes_a_token_uses_it_and_revokes_it(open_page, live_server, create_user):
    member = create_user(display_name="Maya Ruiz")
    page = open_page(member)
    page.goto(live_server + "/me/data")
    page.get_by_role("link", name="Manage your tokens").click()
    expect(page.get_by_text("You have no tokens.")).to_be_visible()

    page.get_by_label("Name").fill("My calendar script")
    page.get_by_label("It may").select_option("write")
    page.get_by_role("button", name="Make the token").click()
    token = page.get_by_label("Your new token").input_value()
    assert token.startswith("alma_pat_")
    expect(page.locator(".api-token")).to_contain_text("My calendar script")
    screenshot(page, "api-tokens")
    assert call(live_server, token) == 200

    page.goto(live_server + "/account/tokens")  # shown once: gone on the next visit
    expect(page.get_by_label("Your new token")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())  # "Revoke this token?"
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The token is revoked")).to_be_visible()
    assert call(live_server, token) == 401


def test_the_api_document_reads_in_swagger_ui(open_page, live_server):
    page = open_page()
    page.goto(live_server + "/api/docs")
    expect(page.get_by_text("/api/v1/me", exact=True).first).to_be_visible()
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    screenshot(page, "api-docs")
