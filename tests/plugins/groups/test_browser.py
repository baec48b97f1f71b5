"""The groups pages in a real browser (Chromium), at desktop and phone widths: they render
without console errors (the strict CSP included), fit the width, and ask before destructive
actions. With ``ALMA_SCREENSHOTS=<folder>`` each page is saved as
``<folder>/groups-<page>-<width>.png`` for people to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from core.testing import screenshot, stored

pytestmark = pytest.mark.plugins("groups")

LONG_NAME = "Adaeze Okonkwo-Villanueva de la Fuente Castellanos"


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


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_groups_pages_render_and_fit(
    app, live_server, open_page, scene, manager, outsider, viewport
):
    page = open_page(manager)
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
        screenshot(page, f"groups-{name}")

    visitor = open_page(outsider)
    visitor.goto(f"{live_server}/groups/{scene['group']}")
    expect(visitor.get_by_text("You asked to join on")).to_be_visible()
    screenshot(visitor, "groups-group-request-pending")
    visitor.goto(f"{live_server}/groups/?q=nothing-like-this")
    expect(visitor.get_by_text("No group matches this search.")).to_be_visible()
    screenshot(visitor, "groups-directory-empty")


def test_leaving_asks_first_and_cancelling_keeps_the_membership(
    app, live_server, open_page, scene, member
):
    from plugins.groups.models import Membership

    page = open_page(member)
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
    app, live_server, open_page, scene, manager
):
    page = open_page(manager)
    page.goto(f"{live_server}/groups/{scene['group']}/manage")
    expect(page.get_by_text("I teach maths and would love to learn Python.")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("The request is approved")).to_be_visible()

    page.goto(f"{live_server}/groups/{scene['group']}/forum/{scene['topic']}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete", exact=True).first.click()
    expect(page.get_by_text("This post was deleted by a manager.")).to_be_visible()


def test_a_form_is_posted_once_however_often_its_button_is_pressed(
    open_page, live_server, scene, member
):
    page = open_page(member)
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


def test_a_posted_reply_is_confirmed_shown_and_focused(app, open_page, live_server, scene, member):
    from plugins.groups.models import ForumPost

    page = open_page(member)
    page.goto(f"{live_server}/groups/{scene['group']}/forum/{scene['topic']}")
    page.get_by_label("Your reply").fill("Build a small web app first.")

    page.get_by_role("button", name="Post the reply").click()

    page.wait_for_url("**#post-*")
    post_id = stored(app, select(func.max(ForumPost.id)))
    expect(page.get_by_text("Your reply is posted.")).to_be_visible()
    reply = page.locator(f"#post-{post_id}")
    expect(reply).to_be_focused()
    expect(reply).to_contain_text("Build a small web app first.", use_inner_text=True)
    screenshot(page, "groups-reply-posted")
