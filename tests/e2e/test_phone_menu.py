"""On a phone the navigation collapses behind the menu button: the counts it hides (alerts,
and plugins' badges such as "My mentorships") show on the button as their sum, follow the
live pushes, and are read out with the button's name."""

from __future__ import annotations

import pytest
from flask import Blueprint
from playwright.sync_api import expect
from sqlalchemy import literal

from core import hookimpl
from core.contributions import NavItem
from core.testing import in_unit_of_work, screenshot

pytestmark = pytest.mark.parametrize("viewport", ["phone"])


class InboxPlugin:
    """A plugin with a badge in the navigation, as mentoring's "My mentorships"."""

    def __init__(self, count: int) -> None:
        self.count = count

    @hookimpl
    def register_blueprints(self) -> list[Blueprint]:
        bp = Blueprint("probe", __name__, url_prefix="/probe")
        bp.add_url_rule("/", "index", lambda: "inbox")
        return [bp]

    @hookimpl
    def register_nav_items(self) -> list[NavItem]:
        return [NavItem("Inbox", "probe.index", badge=lambda member_id: literal(self.count))]


@pytest.fixture
def inbox_count() -> int:
    return 2


@pytest.fixture
def app(make_app, inbox_count):
    return make_app(PLUGINS=["probe"], extra_plugins={"probe": InboxPlugin(inbox_count)})


@pytest.fixture
def phone(open_page, create_user):
    member = create_user(display_name="Maya Ruiz")
    page = open_page(member)
    page.member = member
    return page


def test_the_menu_button_shows_the_hidden_counts_and_follows_them_live(phone, live_server, app, db):
    from core.models import User
    from core.realtime import push_badge
    from core.services.notifications import notify

    notify(phone.member, "Anna accepted your mentorship request.")
    db.session.commit()
    phone.goto(live_server + "/")
    phone.locator("body[data-live]").wait_for(state="attached")

    menu = phone.locator(".navbar-toggler")
    expect(phone.locator("#alert-count")).to_be_hidden()  # inside the collapsed menu
    expect(phone.locator("#menu-count")).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(phone.get_by_role("button", name="Menu, 3 new")).to_be_visible()  # 1 alert + 2 inbox
    screenshot(phone, "menu-count")

    member_id = phone.member.id
    in_unit_of_work(
        app, lambda: notify(db.session.get_one(User, member_id), "Your agreement was approved.")
    )
    phone.get_by_role("button", name="Menu, 4 new").wait_for()

    push_badge(phone.member.id, "probe.index", 0)
    phone.get_by_role("button", name="Menu, 2 new").wait_for()

    phone.goto(live_server + "/")  # a new page counts the same
    phone.get_by_role("button", name="Menu, 4 new").wait_for()


@pytest.mark.parametrize("inbox_count", [0])
def test_the_menu_button_shows_no_count_when_nothing_waits(phone, live_server):
    phone.goto(live_server + "/")

    expect(phone.get_by_role("button", name="Menu", exact=True)).to_be_visible()
    expect(phone.locator("#menu-count")).to_be_hidden()
