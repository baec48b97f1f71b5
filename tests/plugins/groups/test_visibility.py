"""Who sees what. A members-only group does not exist for anyone outside it: every page and
every action answers 404 and never says its name, the directory and search leave it out; an
invited member sees the invitation and nothing else. A public group is seen by every member,
but only its members post and only its managers manage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.models import Activity, Notification
from core.testing import count_rows, stored
from plugins.groups.models import (
    ForumPost,
    Invitation,
    JoinRequest,
    ManagementAct,
    Membership,
)

pytestmark = pytest.mark.plugins("groups")

SECRET = "Secret circle"


@pytest.fixture
def hidden(db, groups, manager, member):
    """A members-only group with a member, a topic and a reply, a pending request, and a
    banned member: ids of everything its routes take."""
    from plugins.groups.services import forum

    group_id = groups.create(
        manager, SECRET, description="Our hidden plans", visibility="members", join_policy="open"
    )
    groups.add(group_id, member)
    topic = forum.start_topic(group_id, member, "Hidden topic", "Hidden words")
    post = forum.reply(group_id, topic.id, manager, "Hidden reply")
    db.session.commit()
    return {"group": group_id, "topic": topic.id, "post": post.id, "member": member.id}


GETS = [
    "/groups/{group}",
    "/groups/{group}/members",
    "/groups/{group}/manage",
    "/groups/{group}/manage?q=Mo",
    "/groups/{group}/edit",
    "/groups/{group}/forum",
    "/groups/{group}/forum?page=2",
    "/groups/{group}/forum/new",
    "/groups/{group}/forum/{topic}",
    "/groups/{group}/forum/{topic}?page=2",
]
POSTS = [
    "/groups/{group}/join",
    "/groups/{group}/request",
    "/groups/{group}/request/withdraw",
    "/groups/{group}/leave",
    "/groups/{group}/step-down",
    "/groups/{group}/edit",
    "/groups/{group}/invitation/accept",
    "/groups/{group}/invitation/decline",
    "/groups/{group}/invitations",
    "/groups/{group}/invitations/1/revoke",
    "/groups/{group}/requests/1/approve",
    "/groups/{group}/requests/1/decline",
    "/groups/{group}/members/{member}/remove",
    "/groups/{group}/members/{member}/ban",
    "/groups/{group}/members/{member}/lift-ban",
    "/groups/{group}/members/{member}/appoint",
    "/groups/{group}/announcements",
    "/groups/{group}/forum/new",
    "/groups/{group}/forum/{topic}/reply",
    "/groups/{group}/forum/{topic}/follow",
    "/groups/{group}/forum/{topic}/unfollow",
    "/groups/{group}/forum/{topic}/delete",
    "/groups/{group}/forum/posts/{post}/delete",
]
FORM = {
    "message": "Let me in",
    "body": "Hello",
    "title": "Hi",
    "name": "Taken over",
    "join_policy": "open",
    "visibility": "public",
    "member_id": "1",
}


def nothing_changed(app, hidden, outsider) -> bool:
    return (
        count_rows(app, Membership, Membership.user_id == outsider.id) == 0
        and count_rows(app, JoinRequest) == 0
        and count_rows(app, Invitation, Invitation.state == "pending") == 0
        and count_rows(app, ForumPost) == 2
        and count_rows(app, ManagementAct) == 1  # the member's invitation
        and count_rows(app, Activity, Activity.user_id == outsider.id) == 0
    )


@pytest.mark.parametrize("path", GETS)
def test_a_non_member_sees_nothing_of_a_members_only_group(app, client, hidden, outsider, path):
    client.login(outsider)

    response = client.get(path.format(**hidden))

    assert response.status_code == 404
    assert SECRET not in response.text and "Hidden" not in response.text


@pytest.mark.parametrize("path", POSTS)
def test_a_non_member_can_do_nothing_to_a_members_only_group(app, client, hidden, outsider, path):
    client.login(outsider)

    response = client.post(path.format(**hidden), data=FORM)

    assert response.status_code == 404
    assert SECRET not in response.text
    assert nothing_changed(app, hidden, outsider)


@pytest.mark.parametrize("path", GETS[:3] + GETS[5:])
def test_a_banned_member_sees_nothing_of_a_members_only_group(
    app, db, client, hidden, manager, member, path
):
    from plugins.groups.services import moderation

    moderation.ban_member(hidden["group"], manager, member.id)
    db.session.commit()
    client.login(member)

    assert client.get(path.format(**hidden)).status_code == 404


def test_banning_a_former_member_ends_the_invitation_that_showed_them_the_group(
    app, db, client, hidden, manager, member
):
    from plugins.groups.services import invitations, moderation

    moderation.remove_member(hidden["group"], manager, member.id)
    for earlier in db.session.scalars(select(Invitation)):  # the one they joined by, long ago
        earlier.created_at -= timedelta(days=2)
        earlier.answered_at -= timedelta(days=2)
    db.session.commit()
    invitations.invite(hidden["group"], manager, member.id)
    db.session.commit()
    client.login(member)
    assert client.get(f"/groups/{hidden['group']}").status_code == 200  # to answer it

    moderation.ban_member(hidden["group"], manager, member.id)
    db.session.commit()

    assert client.get(f"/groups/{hidden['group']}").status_code == 404
    accepted = client.post(f"/groups/{hidden['group']}/invitation/accept")
    assert accepted.status_code == 404


def test_an_unknown_group_is_the_same_404(client, outsider):
    client.login(outsider)

    assert client.get("/groups/999999").status_code == 404
    assert client.post("/groups/999999/join").status_code == 404


def test_members_only_groups_are_left_out_of_the_directory_and_search(
    client, hidden, groups, manager, outsider, member
):
    groups.create(manager, "Open circle", description="hidden plans too")

    client.login(outsider)
    for query in ("", "secret", "hidden"):
        page = client.get("/groups/", query_string={"q": query}).text
        assert SECRET not in page
    assert "Open circle" in client.get("/groups/?q=hidden").text

    client.login(member)
    assert SECRET in client.get("/groups/?q=secret").text


def test_an_invitee_sees_the_invitation_and_nothing_else(
    app, db, client, hidden, manager, outsider
):
    from plugins.groups.services import invitations

    invitations.invite(hidden["group"], manager, outsider.id)
    db.session.commit()
    client.login(outsider)

    page = client.get(f"/groups/{hidden['group']}").text

    assert SECRET in page
    assert "You are invited" in page
    assert "Grace Manager invites you to join this group." in page
    assert "Hidden topic" not in page
    assert "Announcements" not in page
    assert f'href="/groups/{hidden["group"]}/forum"' not in page
    for path in GETS[1:]:
        assert client.get(path.format(**hidden)).status_code == 404, path
    assert SECRET in client.get("/groups/").text  # among the invitations


def test_an_invitee_who_accepts_sees_everything(app, db, client, hidden, manager, outsider):
    from plugins.groups.services import invitations

    invitations.invite(hidden["group"], manager, outsider.id)
    db.session.commit()
    client.login(outsider)

    client.post(f"/groups/{hidden['group']}/invitation/accept")

    assert "Hidden topic" in client.get(f"/groups/{hidden['group']}").text
    assert "Hidden reply" in client.get(f"/groups/{hidden['group']}/forum/{hidden['topic']}").text


def test_an_invitee_who_declines_sees_nothing_any_more(app, db, client, hidden, manager, outsider):
    from plugins.groups.services import invitations

    invitations.invite(hidden["group"], manager, outsider.id)
    db.session.commit()
    client.login(outsider)

    page = client.post(f"/groups/{hidden['group']}/invitation/decline", follow_redirects=True)

    assert "You declined the invitation." in page.text
    assert client.get(f"/groups/{hidden['group']}").status_code == 404


def test_a_removed_member_no_longer_hears_of_a_members_only_group(
    app, db, client, hidden, manager, member
):
    from plugins.groups.services import announcements, forum, moderation

    moderation.remove_member(hidden["group"], manager, member.id)
    db.session.commit()
    before = count_rows(app, Notification, Notification.user_id == member.id)

    forum.reply(hidden["group"], hidden["topic"], manager, "After you left")
    announcements.announce(hidden["group"], manager, "Secret news")
    db.session.commit()

    assert count_rows(app, Notification, Notification.user_id == member.id) == before
    client.login(member)
    assert client.get(f"/groups/{hidden['group']}/forum/{hidden['topic']}").status_code == 404
    removed = stored(
        app,
        select(Notification.url)
        .where(Notification.user_id == member.id)
        .order_by(Notification.id.desc())
        .limit(1),
    )
    assert removed is None  # the removal alert links nowhere: the group is hidden from them


# ---- public groups ---------------------------------------------------------------------------


@pytest.fixture
def public(db, groups, manager, member):
    from plugins.groups.services import forum

    group_id = groups.create(manager, "Open circle", join_policy="request")
    groups.add(group_id, member)
    topic = forum.start_topic(group_id, member, "Public topic", "Public words")
    db.session.commit()
    return {"group": group_id, "topic": topic.id}


@pytest.mark.parametrize(
    "path",
    [
        "/groups/{group}",
        "/groups/{group}/members",
        "/groups/{group}/forum",
        "/groups/{group}/forum/{topic}",
    ],
)
def test_any_member_reads_a_public_group(client, public, outsider, path):
    client.login(outsider)

    page = client.get(path.format(**public))

    assert page.status_code == 200
    assert "Open circle" in page.text


def test_a_non_member_of_a_public_group_cannot_post_or_manage(app, client, public, outsider):
    client.login(outsider)
    forum = client.get(f"/groups/{public['group']}/forum/{public['topic']}").text
    assert "Only members of the group can reply." in forum
    assert "Post the reply" not in forum

    for path, status in [
        (f"/groups/{public['group']}/forum/new", 403),
        (f"/groups/{public['group']}/forum/{public['topic']}/reply", 403),
        (f"/groups/{public['group']}/forum/{public['topic']}/follow", 403),
        (f"/groups/{public['group']}/announcements", 403),
        (f"/groups/{public['group']}/edit", 403),
    ]:
        assert client.post(path, data=FORM).status_code == status, path
    assert client.get(f"/groups/{public['group']}/manage").status_code == 403
    assert count_rows(app, ForumPost) == 1


def test_visitors_who_are_not_logged_in_are_sent_to_log_in(client, public):
    for path in ("/groups/", f"/groups/{public['group']}", f"/groups/{public['group']}/forum"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    assert client.post(f"/groups/{public['group']}/join").status_code == 302
