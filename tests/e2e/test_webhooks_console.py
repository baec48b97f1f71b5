"""The console's Webhooks in a real browser (Chromium), on desktop and phone widths: an admin
adds an endpoint, reads its secret and its delivery log, rotates the secret, disables and
enables it; the pages fit the screen and raise no console errors (the strict CSP included).
With ``ALMA_SCREENSHOTS=dir`` the pages are also saved there as PNGs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.services.webhooks import emit_webhook
from core.testing import in_unit_of_work, run_job, screenshot, verified


@pytest.fixture
def app(make_app):
    return make_app(WEBHOOK_ALLOW_LOCAL_HTTP=True)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_admin_manages_an_endpoint_in_the_console(
    app, open_page, live_server, create_user, webhook_receiver
):
    page = open_page(create_user(email="root@example.org", role="admin"))
    page.goto(f"{live_server}/admin/")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_text("No endpoint yet.")).to_be_visible()
    assert fits(page)

    page.get_by_role("link", name="Add an endpoint").click()
    page.get_by_label("Address").fill(webhook_receiver.url)
    page.get_by_label("Description").fill("The programme's CRM")
    page.get_by_label("member.registered", exact=False).check()
    page.get_by_label("report.filed", exact=False).check()
    page.get_by_label("Reason").fill("The CRM wants new members")
    assert fits(page)
    screenshot(page, "console-webhook-form")
    page.get_by_role("button", name="Add the endpoint").click()

    expect(page.get_by_text("The endpoint is added.")).to_be_visible()
    page.get_by_text("Show the secret").click()
    secret = page.locator("[data-secret]").inner_text().strip()
    assert secret.startswith("whsec_")

    in_unit_of_work(app, lambda: emit_webhook("member.registered", {"member_id": 1}))
    run_job(app, "core.deliver_webhooks")
    [delivery] = webhook_receiver.received
    assert verified(delivery, secret)
    page.reload()
    log = page.locator("[data-delivery]")
    expect(log).to_have_count(1)
    expect(log).to_contain_text("member.registered")
    expect(log).to_contain_text(delivery.webhook_id)
    expect(log).to_contain_text("last answer 200")
    assert fits(page)
    screenshot(page, "console-webhook")

    page.get_by_text("Rotate the secret").click()
    page.locator("#rotate-reason").fill("A laptop was lost")
    page.get_by_role("button", name="Make a new secret").click()
    expect(page.get_by_text("The secret is new")).to_be_visible()
    page.get_by_text("Show the secret").click()
    assert page.locator("[data-secret]").inner_text().strip() not in (secret, "")

    page.get_by_text("Disable", exact=True).click()
    page.locator("#disable-reason").fill("The CRM is moving")
    page.get_by_role("button", name="Disable the endpoint").click()
    expect(page.locator('[data-state="disabled"]')).to_be_visible()
    page.locator("#enable-reason").fill("The CRM moved")
    page.get_by_role("button", name="Enable the endpoint").click()
    expect(page.locator('[data-state="enabled"]')).to_be_visible()

    page.get_by_role("link", name="Webhooks").first.click()
    expect(page.locator("[data-endpoint]")).to_contain_text(webhook_receiver.url)
    assert fits(page)
    screenshot(page, "console-webhooks")
