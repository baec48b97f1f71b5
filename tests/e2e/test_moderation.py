"""Moderation in a real browser (Chromium), on desktop and phone widths: a member reports a
forum post, a coordinator hides it from the console's Reports queue, and the member reads
"hidden by the moderators" in its place. No page overflows the screen or raises a console
error (the strict CSP included). With ``ALMA_SCREENSHOTS=dir`` the report form, the
queue and the hidden post are saved there as PNGs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.models import User
from core.testing import in_unit_of_work, screenshot
from plugins.groups.services import directory, forum, membership

HIDDEN = "This was hidden by the moderators."


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.plugins("groups")
def test_a_member_reports_a_forum_post_and_a_coordinator_hides_it(
    db, open_page, live_server, create_user
):
    manager = create_user(display_name="Grace Manager")
    spammer = create_user(display_name="Sam Spammer")
    reader = create_user(display_name="Mo Member")
    coordinator = create_user(display_name="Coco Ordinator", role="coordinator")
    group = directory.create_group(manager, name="Python learners", description="We learn")
    db.session.commit()
    topic = forum.start_topic(group.id, manager, "First project?", "What should we build?")
    db.session.commit()
    group_id, topic_id = group.id, topic.id
    membership.join_group(group_id, spammer)
    db.session.commit()
    forum.reply(group_id, topic_id, spammer, "Cheap watches at example.com!")
    db.session.commit()
    topic_url = f"{live_server}/groups/{group_id}/forum/{topic_id}"

    member = open_page(reader)
    member.goto(topic_url)
    post = member.locator(".forum-post", has_text="Cheap watches")
    post.get_by_role("link", name="Report").click()
    expect(member.get_by_role("heading", name="Report to the moderators")).to_be_visible()
    member.get_by_label("Why are you reporting it?").select_option("spam")
    member.get_by_label("Anything the moderators should know").fill("An advert, not a reply")
    assert fits(member)
    screenshot(member, "report-form")
    member.get_by_role("button", name="Send the report").click()
    expect(member.get_by_text("The moderators will look at it.")).to_be_visible()

    staff = open_page(coordinator)
    staff.goto(f"{live_server}/admin/")
    expect(staff.locator('[data-section-count="admin.reports"]')).to_have_text("1")
    staff.get_by_role("link", name="Reports").click()
    report = staff.locator(".console-report", has_text="First project?")
    expect(report).to_contain_text("Cheap watches at example.com!")
    assert fits(staff)
    screenshot(staff, "console-reports")
    report.get_by_role("link", name="Post in “First project?”").click()
    expect(staff.locator(".snapshot-text")).to_have_text("Cheap watches at example.com!")
    staff.locator("#hide-reason").fill("advertising in the forum")
    staff.get_by_role("button", name="Hide it from everyone").click()
    expect(staff.get_by_text("The item is hidden")).to_be_visible()
    expect(staff.locator("[data-report-state]")).to_have_text("Hidden")
    assert fits(staff)
    screenshot(staff, "console-report-hidden")

    member.goto(topic_url)
    hidden = member.locator(".forum-post-hidden")
    expect(hidden).to_have_text(HIDDEN)
    expect(member.get_by_text("Cheap watches")).to_have_count(0)
    expect(member.get_by_text("What should we build?")).to_be_visible()
    assert fits(member)
    screenshot(member, "hidden-forum-post")
    assert member.problems == []


@pytest.mark.plugins("mentoring")
@pytest.mark.parametrize("viewport", ["phone"])
def test_a_reported_chat_message_turns_hidden_live_on_the_open_page(
    app, db, open_page, live_server, create_user
):
    from plugins.mentoring.services import chat, lifecycle

    mentee = create_user(display_name="Sam Lee", wants_to_be_mentored=True)
    mentor = create_user(display_name="Rui Mentor", wants_to_mentor=True)
    coordinator = create_user(display_name="Coco Ordinator", role="coordinator")
    mentorship = lifecycle.send_request(mentee, mentor, "Would you mentor me in Python?")
    db.session.flush()
    lifecycle.accept_request(mentorship.id, mentor)
    db.session.commit()
    mentorship_id = mentorship.id
    chat.post_message(mentorship_id, mentor, "You will never learn, give up")
    db.session.commit()

    page = open_page(mentee)
    page.goto(f"{live_server}/mentoring/{mentorship_id}")
    page.locator('#chat[data-live="true"]').wait_for(state="attached")
    message = page.locator(".chat-theirs", has_text="You will never learn")
    message.get_by_role("link", name="Report").click()
    page.get_by_label("Why are you reporting it?").select_option("harassment")
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_text("The moderators will look at it.")).to_be_visible()
    page.locator('#chat[data-live="true"]').wait_for(state="attached")

    # a message arriving live carries its own Report link, drawn by the page's script
    mentor_id = mentor.id
    in_unit_of_work(
        app,
        lambda: chat.post_message(
            mentorship_id, db.session.get_one(User, mentor_id), "Sorry, that was rude"
        ),
    )
    arrived = page.locator(".chat-theirs", has_text="Sorry, that was rude")
    expect(arrived.get_by_role("link", name="Report")).to_be_visible()

    staff = open_page(coordinator)
    staff.goto(f"{live_server}/admin/reports")
    staff.locator(".console-report a").first.click()
    staff.locator("#hide-reason").fill("insults")
    staff.get_by_role("button", name="Hide it from everyone").click()
    expect(staff.get_by_text("The item is hidden")).to_be_visible()

    # the mentee's open page changes without a reload
    expect(page.locator(".chat-theirs .hidden-by-moderators")).to_have_text(HIDDEN)
    expect(page.get_by_text("You will never learn")).to_have_count(0)
    expect(page.get_by_text("Sorry, that was rude")).to_be_visible()
    assert fits(page)
    screenshot(page, "hidden-chat-message")
    assert page.problems == []
