"""The groups pages in a real browser (Chromium), at desktop and phone widths: they render
without console errors (the strict CSP included), fit the width, and ask before destructive
actions. With ``ALMA_SCREENSHOTS=<folder>`` each page is saved as
``<folder>/groups/<page>-<width>.png`` for people to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.testing import session_cookie, stored

pytestmark = pytest.mark.plugins("groups")

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LONG_NAME = "Adaeze Okonkwo-Villanueva de la Fuente Castellanos"


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


@pytest.fixture
def scene(db, groups, create_user, manager, member, outsider):
    """A lively public group seen by its manager, and what waits for them and for others."""
    from plugins.groups.services import announcements, forum, invitations, membership

    long_named = create_user(display_name=LONG_NAME)
    group_id = groups.create(
        manager,
        "Python learners and career changers of the world",
        topic="Python",
        join_policy="request",
        description="Mentors and mentees practising Python together.\n\nWeekly exercises, "
        "code reviews and a friendly forum.",
    )
    groups.add(group_id, member, long_named)
    announcements.announce(group_id, manager, "Code review evening every Thursday at 18:00 UTC.")
    topic = forum.start_topic(
        group_id, member, "Which project should I build first?", "I finished the basics."
    )
    for number in range(3):
        forum.reply(group_id, topic.id, long_named, f"Reply number {number}: " + "ok " * 30)
    membership.request_to_join(group_id, outsider, "I teach maths and would love to learn Python.")
    hidden = groups.create(outsider, "Quiet corner", visibility="members")
    invitations.invite(hidden, outsider, manager.id)
    groups.create(member, "Data science reading club", topic="Data science")
    db.session.commit()
    return {"group": group_id, "topic": topic.id, "hidden": hidden}


def screenshot(page, name: str, viewport: str) -> None:
    folder = os.environ.get("ALMA_SCREENSHOTS")
    if folder:
        target = Path(folder) / "groups"
        target.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=target / f"{name}-{viewport}.png", full_page=True)


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def open_as(app, browser, live_server, viewport):
    """``open_as(user)``: a page logged in as ``user``; console errors fail the test."""
    contexts, errors = [], []

    def open_(user):
        context = browser.new_context(viewport=VIEWPORTS[viewport])
        context.add_cookies(
            [{"name": "session", "value": session_cookie(app, user), "url": live_server}]
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"errors in the browser console: {errors}"


def test_the_groups_pages_render_and_fit(
    app, live_server, open_as, scene, manager, outsider, viewport
):
    page = open_as(manager)
    pages = {
        "directory": "/groups/",
        "group": f"/groups/{scene['group']}",
        "members": f"/groups/{scene['group']}/members",
        "manage": f"/groups/{scene['group']}/manage?q=o",
        "forum": f"/groups/{scene['group']}/forum",
        "topic": f"/groups/{scene['group']}/forum/{scene['topic']}",
        "new-topic": f"/groups/{scene['group']}/forum/new",
        "create": "/groups/new",
        "edit": f"/groups/{scene['group']}/edit",
        "invitation": f"/groups/{scene['hidden']}",
        "profile": f"/members/{manager.id}/groups",
    }
    for name, path in pages.items():
        response = page.goto(live_server + path)
        assert response.status == 200, path
        assert fits_the_width(page), f"{path} is wider than the {viewport} screen"
        screenshot(page, name, viewport)

    visitor = open_as(outsider)
    visitor.goto(f"{live_server}/groups/{scene['group']}")
    assert visitor.get_by_text("You asked to join on").is_visible()
    screenshot(visitor, "group-request-pending", viewport)
    visitor.goto(f"{live_server}/groups/?q=nothing-like-this")
    assert visitor.get_by_text("No group matches this search.").is_visible()
    screenshot(visitor, "directory-empty", viewport)


def test_leaving_asks_first_and_cancelling_keeps_the_membership(
    app, live_server, open_as, scene, member
):
    from plugins.groups.models import Membership

    page = open_as(member)
    page.goto(f"{live_server}/groups/{scene['group']}")
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.get_by_role("button", name="Leave the group").click()

    assert dialogs == ["Leave this group?"]
    state = stored(
        app,
        Membership.__table__.select()
        .with_only_columns(Membership.state)
        .where(Membership.group_id == scene["group"], Membership.user_id == member.id),
    )
    assert state == "active"


def test_a_manager_approves_a_request_and_deletes_a_post_in_the_browser(
    app, live_server, open_as, scene, manager
):
    page = open_as(manager)
    page.goto(f"{live_server}/groups/{scene['group']}/manage")
    assert page.get_by_text("I teach maths and would love to learn Python.").is_visible()
    page.get_by_role("button", name="Approve").click()
    assert page.get_by_text("The request is approved").is_visible()

    page.goto(f"{live_server}/groups/{scene['group']}/forum/{scene['topic']}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete", exact=True).first.click()
    assert page.get_by_text("This post was deleted by a manager.").is_visible()


def test_a_form_is_posted_once_however_often_its_button_is_pressed(
    open_as, live_server, scene, member
):
    from playwright.sync_api import expect

    page = open_as(member)
    page.goto(f"{live_server}/groups/{scene['group']}/forum/{scene['topic']}")
    page.get_by_label("Your reply").fill("Only once, please.")
    posted = []

    def slow_network(route):  # the answer never comes: the page stays, as on a slow phone
        posted.append(route.request.post_data)
        route.fulfill(status=204)

    page.route("**/reply", slow_network)
    button = page.get_by_role("button", name="Post the reply")

    button.click()
    expect(button).to_be_disabled()
    button.dispatch_event("click")  # a second tap
    page.wait_for_timeout(300)

    assert len(posted) == 1
    assert "Only+once%2C+please." in posted[0]


def test_a_posted_reply_is_confirmed_shown_and_focused(
    app, open_as, live_server, scene, member, viewport
):
    from plugins.groups.models import ForumPost

    page = open_as(member)
    page.goto(f"{live_server}/groups/{scene['group']}/forum/{scene['topic']}")
    page.get_by_label("Your reply").fill("Build a small web app first.")

    page.get_by_role("button", name="Post the reply").click()

    page.wait_for_url("**#post-*")
    post_id = stored(app, select(func.max(ForumPost.id)))
    assert page.get_by_text("Your reply is posted.").is_visible()
    focused = page.evaluate("document.activeElement.id")
    assert focused == f"post-{post_id}"
    assert "Build a small web app first." in page.locator(f"#post-{post_id}").inner_text()
    screenshot(page, "reply-posted", viewport)
