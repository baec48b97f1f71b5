"""Reporting in groups: a forum post and a group, reported by who may read them, hidden by a
coordinator (everyone, the author too, then reads "hidden by the moderators") and restored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.models import AuditEntry, Report
from core.testing import count_rows, stored
from plugins.groups.models import MEMBERS_ONLY, ForumPost
from plugins.groups.services import forum

pytestmark = pytest.mark.plugins("groups")

HIDDEN = "This was hidden by the moderators."
THANKS = "The moderators will look at it."


@pytest.fixture
def coordinator(create_user):
    return create_user(display_name="Coco Ordinator", role="coordinator")


@pytest.fixture
def thread(db, groups, manager, member):
    """A public group with a topic: the manager's opening post, the member's reply."""
    group_id = groups.create(manager, name="Python learners", description="We learn Python")
    groups.add(group_id, member)
    topic = forum.start_topic(group_id, manager, "First project?", "What to build?")
    db.session.commit()
    reply = forum.reply(group_id, topic.id, member, "Buy cheap watches at example.com")
    db.session.commit()
    return group_id, topic.id, reply.id


def latest_report(app) -> int:
    return stored(app, select(func.max(Report.id)))


def decide(client, app, coordinator, act: str, reason: str = "spam"):
    client.login(coordinator)
    return client.post(
        f"/admin/reports/{latest_report(app)}/{act}", data={"reason": reason}, follow_redirects=True
    )


def test_a_forum_post_is_reported_hidden_and_restored(
    app, client, thread, manager, member, outsider, coordinator
):
    group_id, topic_id, post_id = thread
    topic_page = f"/groups/{group_id}/forum/{topic_id}"
    client.login(manager)
    page = client.get(topic_page).text
    assert f'href="/report/groups.post/{post_id}"' in page  # on the reply by another
    sent = client.post(
        f"/report/groups.post/{post_id}", data={"reason": "spam"}, follow_redirects=True
    )
    assert THANKS in sent.text
    assert sent.request.path == topic_page  # back to the post, through its own address

    client.login(coordinator)
    queue = client.get("/admin/reports").text
    assert "Post in “First project?”" in queue and "Forum post" in queue
    assert "Buy cheap watches" in queue
    decide(client, app, coordinator, "hide", "advertising")

    for viewer in (manager, member, outsider):  # the author too; and a public group's reader
        client.login(viewer)
        shown = client.get(topic_page).text
        assert HIDDEN in shown and "cheap watches" not in shown
        assert "What to build?" in shown  # the rest of the thread stays
    assert stored(app, select(ForumPost.body).where(ForumPost.id == post_id)).startswith("Buy")
    assert stored(app, select(AuditEntry.act)) == "report.hidden"

    decide(client, app, coordinator, "restore", "a misunderstanding")
    client.login(outsider)
    assert "Buy cheap watches" in client.get(topic_page).text


def test_a_post_of_a_members_only_group_is_reported_by_its_members_alone(
    app, client, db, groups, manager, member, outsider
):
    group_id = groups.create(manager, name="Inner circle", visibility=MEMBERS_ONLY)
    groups.add(group_id, member)
    topic = forum.start_topic(group_id, member, "Secret", "Members only text")
    db.session.commit()
    post_id = stored(app, select(ForumPost.id).where(ForumPost.topic_id == topic.id))

    client.login(outsider)
    assert client.get(f"/report/groups.post/{post_id}").status_code == 404
    assert client.post(f"/report/groups.post/{post_id}", data={"reason": "spam"}).status_code == 404
    assert client.get(f"/groups/{group_id}/forum/posts/{post_id}").status_code == 404
    assert count_rows(app, Report) == 0

    client.login(manager)
    assert (
        THANKS
        in client.post(
            f"/report/groups.post/{post_id}", data={"reason": "other"}, follow_redirects=True
        ).text
    )


def test_a_group_is_reported_and_hidden_everywhere(
    app, client, thread, manager, member, outsider, coordinator
):
    group_id, _topic, _post = thread
    client.login(outsider)
    about = client.get(f"/groups/{group_id}").text
    assert f'href="/report/groups.group/{group_id}"' in about
    client.post(f"/report/groups.group/{group_id}", data={"reason": "inappropriate"})

    client.login(coordinator)
    page = client.get(f"/admin/reports/{latest_report(app)}").text
    assert "Group “Python learners”" in page and "We learn Python" in page
    decide(client, app, coordinator, "hide", "offensive name")

    for viewer in (outsider, manager):
        client.login(viewer)
        shown = client.get(f"/groups/{group_id}").text
        assert HIDDEN in shown
        assert "Python learners" not in shown and "We learn Python" not in shown
        for tab in ("forum", "members"):
            assert "Python learners" not in client.get(f"/groups/{group_id}/{tab}").text
    client.login(outsider)
    assert "Python learners" not in client.get("/groups/").text
    assert "Python learners" not in client.get("/groups/?q=python").text
    client.login(manager)  # a member still finds their group, by its placeholder name
    assert "Hidden group" in client.get("/groups/?mine=1").text


def test_a_hidden_groups_name_goes_out_in_no_alert_nor_mail_subject(
    app, client, db, thread, manager, member, outsider, coordinator, alerts_of
):
    from core.models import OutboxMail
    from plugins.groups.services import announcements, invitations

    group_id, topic_id, _post = thread
    client.login(outsider)
    client.post(f"/report/groups.group/{group_id}", data={"reason": "inappropriate"})
    decide(client, app, coordinator, "hide", "offensive name")
    db.session.commit()  # end the test's read: the report was decided in another session
    sent_before = count_rows(app, OutboxMail)

    announcements.announce(group_id, manager, "Meeting on Friday")
    invitations.invite(group_id, manager, outsider.id)
    forum.reply(group_id, topic_id, member, "Any ideas?")  # the manager follows their topic
    db.session.commit()

    told = [alerts_of(member)[-1][0], alerts_of(outsider)[-1][0], alerts_of(manager)[-1][0]]
    assert told[0] == "Announcement in Hidden group: “Meeting on Friday”"
    assert "invites you to join the group Hidden group" in told[1]
    assert "in Hidden group" in told[2]
    subjects = [
        row[0]
        for row in db.session.execute(select(OutboxMail.subject).order_by(OutboxMail.id)).all()
    ][sent_before:]
    assert "Invitation to join Hidden group" in subjects
    assert not any("Python learners" in text for text in [*told, *subjects])
