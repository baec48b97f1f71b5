"""A member chooses their e-mails on My data → Notifications, and stops a kind from a mail's
link, logged out, in a real browser (Chromium) at desktop and phone widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core import hookimpl
from core.contributions import MailKind
from core.models import MailPreference, User
from core.services.notifications import notify
from core.testing import in_unit_of_work, path_of, stored


class NewsProbe:
    @hookimpl
    def register_mail_kinds(self):
        return [
            MailKind("probe.news", "News from the probe"),
            MailKind("probe.tips", "Tips from the probe"),
        ]


@pytest.fixture
def app(make_app):
    return make_app(extra_plugins={"probe": NewsProbe()}, PLUGINS=["probe"])


def test_a_member_chooses_a_digest_then_stops_a_kind_from_its_mail(
    app, db, open_page, live_server, create_user, mail
):
    member = create_user(display_name="Ada")
    page = open_page(member)

    page.goto(f"{live_server}/me/data")
    page.get_by_role("link", name="Choose your e-mails").click()
    expect(page.get_by_role("heading", name="Notifications by e-mail")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(page.get_by_text("Always sent at once").first).to_be_visible()
    page.locator("label[for='probe.tips-digest']").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your choices are saved.")).to_be_visible()
    expect(page.locator("#probe\\.tips-digest")).to_be_checked()
    assert stored(app, select(MailPreference.choice)) == "digest"

    member_id = member.id
    in_unit_of_work(
        app,
        lambda: notify(
            db.session.get_one(User, member_id),
            "Big news",
            email_subject="Big news",
            mail_kind="probe.news",
        ),
    )
    [message] = mail.deliver()
    link = message["List-Unsubscribe"].strip("<>")

    stranger = open_page()  # the link works in a browser where nobody is logged in
    stranger.goto(f"{live_server}{path_of(link)}")
    expect(stranger.get_by_text("News from the probe")).to_be_visible()
    assert (
        stored(app, select(MailPreference.choice).where(MailPreference.kind == "probe.news"))
        is None
    )
    stranger.get_by_role("button", name="Stop these e-mails").click()
    expect(stranger.get_by_text("Done: you no longer get these e-mails.")).to_be_visible()
    assert (
        stored(app, select(MailPreference.choice).where(MailPreference.kind == "probe.news"))
        == "off"
    )

    page.reload()
    expect(page.locator("#probe\\.news-off")).to_be_checked()
