"""The public home page: what alma is, the live counters plugins contribute, and the
navigation links plugins add."""

from __future__ import annotations

import re

from flask import Blueprint
from sqlalchemy import func, select

from core import hookimpl
from core.contributions import HomeCounter, NavItem
from core.db import db
from core.models import User


def counters_on(page: str) -> list[tuple[str, str]]:
    """The (value, label) pairs of the counters, in page order."""
    return re.findall(
        r'<div class="counter">([^<]*)</div>\s*<div class="text-muted">([^<]*)</div>', page
    )


def nav_links(page: str) -> list[tuple[str, str]]:
    """The (href, label) pairs of the plugin links in the navigation bar, in order."""
    start = page.index('<ul class="navbar-nav me-auto">')
    menu = page[start : page.index("</ul>", start)]
    return re.findall(r'href="([^"]*)">([^<]*)</a>', menu)


def count_admins() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin"))


class CommunityPlugin:
    """A throwaway plugin with two home counters, a page and two navigation links."""

    @hookimpl
    def register_home_counters(self):
        return [
            HomeCounter("members", lambda: db.session.scalar(select(func.count(User.id))), 20),
            HomeCounter("admins on duty", count_admins, order=10),
        ]

    @hookimpl
    def register_blueprints(self):
        bp = Blueprint("library", __name__, url_prefix="/library")
        bp.add_url_rule("/", "index", lambda: "the library")
        bp.add_url_rule("/lounge", "lounge", lambda: "the lounge")
        return [bp]

    @hookimpl
    def register_nav_items(self):
        return [
            NavItem("Lounge for members", "library.lounge", members_only=True, order=5),
            NavItem("Library", "library.index", order=50),
        ]


def community_app(make_app):
    return make_app(extra_plugins={"community": CommunityPlugin()}, PLUGINS=["community"])


def test_the_home_page_is_public_and_says_what_alma_is(client):
    response = client.get("/")

    assert response.status_code == 200
    page = response.text
    assert "Find a mentor. Become one." in page
    assert "alma brings mentees and mentors together" in page
    assert 'href="/register"' in page and "Join for free" in page
    assert 'href="/login"' in page
    assert "Go to my profile" not in page


def test_a_member_is_offered_their_profile(client, create_user):
    client.login(create_user(display_name="Ada"))

    page = client.get("/").text

    assert "Go to my profile" in page
    assert 'href="/me"' in page
    assert "Join for free" not in page


def test_the_site_name_is_configurable(make_app):
    page = make_app(SITE_NAME="Mentors of Lyon").test_client().get("/").text

    assert "Mentors of Lyon brings mentees and mentors together" in page
    assert "<title>Mentoring that works · Mentors of Lyon</title>" in page


def test_without_plugins_there_are_no_counters_and_no_plugin_links(client):
    page = client.get("/").text

    assert counters_on(page) == []
    assert "Our community right now" not in page
    assert nav_links(page) == []


def test_an_installed_but_disabled_plugin_contributes_nothing(make_app):
    app = make_app(extra_plugins={"community": CommunityPlugin()})

    page = app.test_client().get("/").text

    assert "Our community right now" not in page
    assert nav_links(page) == []
    assert app.test_client().get("/library/").status_code == 404


def test_plugin_counters_show_live_figures_in_order(make_app, create_user):
    app = community_app(make_app)
    client = app.test_client()
    create_user(role="admin")
    create_user()

    page = client.get("/").text

    assert "Our community right now" in page
    assert counters_on(page) == [("1", "admins on duty"), ("2", "members")]

    create_user(role="admin")
    assert counters_on(client.get("/").text) == [("2", "admins on duty"), ("3", "members")]


def test_plugin_links_show_in_the_navigation_bar(make_app, create_user):
    app = community_app(make_app)
    visitor = app.test_client()
    member = app.test_client()
    member.login(create_user())

    assert nav_links(visitor.get("/").text) == [("/library/", "Library")]
    assert nav_links(member.get("/").text) == [
        ("/library/lounge", "Lounge for members"),
        ("/library/", "Library"),
    ]
    # on every page, and they lead to the plugin's pages
    assert ("/library/", "Library") in nav_links(member.get("/alerts/").text)
    assert member.get("/library/lounge").text == "the lounge"
