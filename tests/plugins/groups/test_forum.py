"""Each group's forum: topics and replies by members, in pages; following a topic (its author
does from the start) brings an alert per reply, and an e-mail too for those who choose it;
managers delete posts and topics, and the credit the posts earned is taken back."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.models import Activity
from core.testing import body_of, count_rows, path_of, stored
from plugins.groups.models import ForumPost, ForumTopic, ManagementAct, TopicFollow

pytestmark = pytest.mark.plugins("groups")


def per_page(**sizes: int):
    return pytest.mark.parametrize("app_settings", [{"PLUGIN_SETTINGS": {"groups": sizes}}])


def start(act, user, group_id: int, title: str = "First project?", body: str = "What to build?"):
    return act(user, f"/groups/{group_id}/forum/new", title=title, body=body)


def topic_id_of(app, title: str = "First project?") -> int:
    return stored(app, select(ForumTopic.id).where(ForumTopic.title == title))


def test_a_member_starts_a_topic_and_follows_it(app, act, member, group_id, activities_of):
    page = start(act, member, group_id)

    assert "Your topic is posted. You follow it: replies will alert you." in page.text
    assert "First project?" in page.text and "What to build?" in page.text
    assert "You follow this topic." in page.text
    topic_id = topic_id_of(app)
    assert (
        stored(app, select(TopicFollow.by_email).where(TopicFollow.topic_id == topic_id)) is False
    )
    post_id = stored(app, select(ForumPost.id))
    assert activities_of(member) == [("groups.forum_post", f"groups.forum_post:{post_id}", False)]


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [("", "Body", "This field is required."), ("Title", "   ", "This field is required.")],
)
def test_a_topic_needs_a_title_and_a_message(app, act, member, group_id, title, body, message):
    page = start(act, member, group_id, title, body)

    assert page.status_code == 400
    assert message in page.text
    assert count_rows(app, ForumTopic) == 0


def test_the_forum_lists_topics_most_recently_active_first(
    app, act, client, member, manager, group_id
):
    start(act, member, group_id, "Older topic")
    start(act, member, group_id, "Newer topic")
    older = topic_id_of(app, "Older topic")
    act(manager, f"/groups/{group_id}/forum/{older}/reply", body="Bumping this")
    client.login(member)

    page = client.get(f"/groups/{group_id}/forum").text

    assert page.index("Older topic") < page.index("Newer topic")
    assert "1 reply" in page and "0 replies" in page
    assert "by Mo Member" in page


def test_the_group_page_shows_the_five_most_recently_active_topics(
    app, act, client, member, group_id
):
    for number in range(1, 7):
        start(act, member, group_id, f"Topic {number}")
    act(member, f"/groups/{group_id}/forum/{topic_id_of(app, 'Topic 1')}/reply", body="Still on?")
    client.login(member)

    page = client.get(f"/groups/{group_id}").text

    shown = re.findall(r">(Topic \d)</a>", page)
    assert shown == ["Topic 1", "Topic 6", "Topic 5", "Topic 4", "Topic 3"]
    assert "1 reply" in page and "0 replies" in page


def test_an_empty_forum_invites_members_to_start(client, member, outsider, group_id):
    client.login(member)
    page = client.get(f"/groups/{group_id}/forum").text
    assert "No topics yet." in page
    assert "start the first topic" in page
    client.login(outsider)
    page = client.get(f"/groups/{group_id}/forum").text
    assert "Join the group to post." in page


def test_a_reply_alerts_the_followers_but_not_its_author(
    app, act, client, mail, manager, member, outsider, group_id, alerts_of
):
    start(act, member, group_id)
    topic_id = topic_id_of(app)
    act(outsider, f"/groups/{group_id}/join")

    page = act(manager, f"/groups/{group_id}/forum/{topic_id}/reply", body="Build a budget app!")

    assert "Build a budget app!" in page.text
    post_id = stored(app, select(ForumPost.id).order_by(ForumPost.id.desc()).limit(1))
    assert alerts_of(member)[-1] == (
        "Grace Manager replied to “First project?” in Python learners.",
        f"/groups/{group_id}/forum/{topic_id}#post-{post_id}",
    )
    assert [m for m, _u in alerts_of(manager) if "replied" in m] == []
    assert [m for m, _u in alerts_of(outsider) if "replied" in m] == []
    assert [m for m in mail.deliver() if "reply" in m["Subject"]] == []  # alerts only


def test_a_follower_who_chose_e_mail_gets_each_reply_by_mail(
    app, act, client, mail, manager, member, group_id
):
    start(act, member, group_id)
    topic_id = topic_id_of(app)
    page = act(manager, f"/groups/{group_id}/forum/{topic_id}/follow", by_email="y")
    assert "You follow this topic: replies alert you by e-mail too." in page.text
    assert "You follow this topic, by e-mail too." in page.text
    mail.deliver()

    act(member, f"/groups/{group_id}/forum/{topic_id}/reply", body="Thanks all")

    [received] = mail.deliver()
    assert received["To"] == "grace@example.org"
    assert received["Subject"] == "New reply to “First project?”"
    assert "Mo Member replied to “First project?” in Python learners." in body_of(received)
    link = next(word for word in body_of(received).split() if word.startswith("http"))
    client.login(manager)
    assert "Thanks all" in client.get(path_of(link)).text


def test_a_follower_stops_the_e_mails_and_then_unfollows(
    app, act, mail, manager, member, group_id, alerts_of
):
    start(act, member, group_id)
    topic_id = topic_id_of(app)
    act(manager, f"/groups/{group_id}/forum/{topic_id}/follow", by_email="y")
    act(manager, f"/groups/{group_id}/forum/{topic_id}/follow")  # "Stop the e-mails"
    mail.deliver()

    act(member, f"/groups/{group_id}/forum/{topic_id}/reply", body="One")
    assert mail.deliver() == []
    assert alerts_of(manager)[-1][0].startswith("Mo Member replied")

    page = act(manager, f"/groups/{group_id}/forum/{topic_id}/unfollow")
    assert "You no longer follow this topic." in page.text
    assert "Follow</button>" in page.text
    act(member, f"/groups/{group_id}/forum/{topic_id}/reply", body="Two")
    assert len([m for m, _u in alerts_of(manager) if "replied" in m]) == 1


def test_following_twice_keeps_one_follow(app, act, manager, member, group_id):
    start(act, member, group_id)
    topic_id = topic_id_of(app)

    act(manager, f"/groups/{group_id}/forum/{topic_id}/follow")
    act(manager, f"/groups/{group_id}/forum/{topic_id}/follow", by_email="y")

    assert count_rows(app, TopicFollow, TopicFollow.user_id == manager.id) == 1
    assert stored(app, select(TopicFollow.by_email).where(TopicFollow.user_id == manager.id))


def test_an_empty_reply_is_refused(app, act, member, group_id):
    start(act, member, group_id)

    page = act(member, f"/groups/{group_id}/forum/{topic_id_of(app)}/reply", body="  ")

    assert "This field is required." in page.text
    assert count_rows(app, ForumPost) == 1


def test_a_topic_of_another_group_is_not_found(app, act, client, groups, manager, member, group_id):
    start(act, member, group_id)
    other = groups.create(manager, "Other group")
    client.login(manager)

    assert client.get(f"/groups/{other}/forum/{topic_id_of(app)}").status_code == 404
    response = client.post(f"/groups/{other}/forum/{topic_id_of(app)}/reply", data={"body": "x"})
    assert response.status_code == 404
    assert client.get(f"/groups/{group_id}/forum/999999").status_code == 404


@per_page(posts_per_page=3)
def test_replies_come_in_pages_and_a_reply_lands_on_the_last(
    app, act, client, manager, member, group_id
):
    start(act, member, group_id, body="Post 1")
    topic_id = topic_id_of(app)
    for number in range(2, 7):
        page = act(manager, f"/groups/{group_id}/forum/{topic_id}/reply", body=f"Post {number}")
    assert "Post 6" in page.text and "Post 4" in page.text and "Post 3" not in page.text
    assert "?page=2" in page.request.url
    assert "Your reply is posted." in page.text
    last_id = stored(app, select(ForumPost.id).where(ForumPost.body == "Post 6"))
    assert f'id="post-{last_id}" tabindex="-1"' in page.text

    client.login(member)
    first = client.get(f"/groups/{group_id}/forum/{topic_id}").text
    assert "Post 1" in first and "Post 3" in first and "Post 4" not in first
    assert "Go to the latest posts" in first
    assert "Next" in first
    beyond = client.get(f"/groups/{group_id}/forum/{topic_id}?page=9").text
    assert "No posts on this page." in beyond


@per_page(topics_per_page=2)
def test_topics_come_in_pages(app, act, client, member, group_id):
    for title in ("One", "Two", "Three"):
        start(act, member, group_id, title)
    client.login(member)

    first = client.get(f"/groups/{group_id}/forum").text
    second = client.get(f"/groups/{group_id}/forum?page=2").text

    assert "Three" in first and "Two" in first and "One" not in first
    assert "One" in second and "Three" not in second


# ---- deleting --------------------------------------------------------------------------------


def test_a_manager_deletes_a_post_and_its_credit_is_taken_back(
    app, act, manager, member, group_id, activities_of
):
    start(act, member, group_id)
    topic_id = topic_id_of(app)
    act(member, f"/groups/{group_id}/forum/{topic_id}/reply", body="Buy my pills")
    reply_id = stored(app, select(ForumPost.id).order_by(ForumPost.id.desc()).limit(1))

    page = act(
        manager,
        f"/groups/{group_id}/forum/posts/{reply_id}/delete",
        back=f"/groups/{group_id}/forum/{topic_id}",
    )

    assert "The post is deleted." in page.text
    assert "Buy my pills" not in page.text
    assert "This post was deleted by a manager." in page.text
    assert stored(app, select(ForumPost.body).where(ForumPost.id == reply_id)) == ""
    assert activities_of(member)[-1] == ("groups.forum_post", f"groups.forum_post:{reply_id}", True)
    assert stored(app, select(ManagementAct.action).order_by(ManagementAct.id.desc()).limit(1)) == (
        "deleted_post"
    )
    again = act(manager, f"/groups/{group_id}/forum/posts/{reply_id}/delete")
    assert "This post was deleted already." in again.text


def test_the_delete_buttons_ask_for_confirmation(app, act, client, manager, member, group_id):
    start(act, member, group_id)
    client.login(manager)

    page = client.get(f"/groups/{group_id}/forum/{topic_id_of(app)}").text

    assert 'data-confirm="Delete this post? Its text is erased for good."' in page
    assert 'data-confirm="Delete this topic and all its posts? This cannot be undone."' in page
    client.login(member)
    assert (
        'data-confirm="Delete this post'
        not in client.get(f"/groups/{group_id}/forum/{topic_id_of(app)}").text
    )


def test_a_manager_deletes_a_topic_with_its_posts(
    app, act, manager, member, group_id, activities_of
):
    start(act, member, group_id)
    topic_id = topic_id_of(app)
    act(manager, f"/groups/{group_id}/forum/{topic_id}/reply", body="A reply")

    page = act(manager, f"/groups/{group_id}/forum/{topic_id}/delete")

    assert "The topic is deleted." in page.text
    assert "First project?" not in page.text
    assert count_rows(app, ForumTopic) == 0 and count_rows(app, ForumPost) == 0
    assert count_rows(app, TopicFollow) == 0
    assert (
        count_rows(
            app, Activity, Activity.kind == "groups.forum_post", Activity.undone_at.is_(None)
        )
        == 0
    )


def test_only_managers_delete(app, act, client, manager, member, group_id):
    start(act, member, group_id)
    topic_id = topic_id_of(app)
    post_id = stored(app, select(ForumPost.id))
    client.login(member)

    assert client.post(f"/groups/{group_id}/forum/posts/{post_id}/delete").status_code == 403
    assert client.post(f"/groups/{group_id}/forum/{topic_id}/delete").status_code == 403
    assert stored(app, select(ForumPost.body)) == "What to build?"


def test_a_post_of_another_group_is_not_found(app, act, client, groups, manager, member, group_id):
    start(act, member, group_id)
    post_id = stored(app, select(ForumPost.id))
    other = groups.create(manager, "Other group")
    client.login(manager)

    assert client.post(f"/groups/{other}/forum/posts/{post_id}/delete").status_code == 404
    assert stored(app, select(ForumPost.deleted_at)) is None


def test_the_delete_goes_back_only_to_a_page_of_this_site(
    app, act, client, manager, member, group_id
):
    start(act, member, group_id)
    post_id = stored(app, select(ForumPost.id))
    client.login(manager)

    response = client.post(
        f"/groups/{group_id}/forum/posts/{post_id}/delete", data={"back": "//evil.example/"}
    )

    assert response.headers["Location"] == f"/groups/{group_id}/forum"
