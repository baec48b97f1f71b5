"""The credits pages in a real browser (Chromium), on desktop and phone widths: they fit the
screen and raise no console errors (the strict CSP included). With ``ALMA_SCREENSHOTS=dir``
each page is also saved there as a PNG, for people to look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.testing import TEST_PASSWORD, screenshot

LONG_NAME = "Adaeze Okonkwo-Villanueva de la Fuente Castellanos"


@pytest.fixture
def page(open_page):
    return open_page(locale="en-US")


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("credits_config", [{"daily_cap": 60, "cap_exempt": ["probe.finished"]}])
def test_the_credits_pages_fit_desktop_and_phone(page, live_server, credits, create_user):
    ada = create_user(email="ada@example.org", display_name=LONG_NAME)
    partner = create_user(display_name="Sam Lee")
    others = [create_user(display_name=f"Member {n}") for n in range(5)]
    for kind in ["probe.wrote", "probe.rated"] * 14:
        credits.do(ada, kind)
    credits.goal([ada, partner], "probe.finished", title="Six months of Python and careers")
    credits.undo(credits.do(ada, "probe.wrote"))
    for number, member in enumerate(others):
        for _ in range(number + 1):
            credits.do(member, "probe.wrote")

    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill("ada@example.org")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/members/\d+$"))

    visits = [
        ("overview-own", f"/members/{ada.id}"),
        ("ledger", "/credits/"),
        ("ledger-page-2", "/credits/?page=2"),
        ("top-all", "/credits/top"),
        ("top-30d", "/credits/top?period=30d"),
        ("overview-other", f"/members/{others[-1].id}"),
    ]
    for name, path in visits:
        page.goto(live_server + path)
        screenshot(page, f"credits-{name}")
        assert fits_the_width(page), name
    page.goto(live_server + "/credits/")
    total = page.locator("[data-credit-total]").first
    expect(total).to_have_text("110", use_inner_text=True)  # the day's cap, and the exempt goal
    page.get_by_role("link", name="Older").click()
    page.wait_for_url(re.compile(r".*page=2$"))
    page.get_by_role("link", name="Top contributors").first.click()
    expect(page.locator(".credits-top li")).to_have_count(7)
