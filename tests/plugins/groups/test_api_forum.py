"""A group's forum through the HTTP API: its topics and a topic's posts a page at a time,
starting a topic, replying, following, and a manager deleting a post or a topic; who may
read and write is who may on the pages (a members-only group's forum is not found by
others), and a deleted or hidden post comes without its text."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from core.db import utcnow
from core.testing import count_rows, stored, token_headers
from plugins.groups.models import ForumPost, ForumTopic, TopicFollow
from plugins.groups.services import invitations

pytestmark = pytest.mark.plugins("groups")

TOPIC = {"title": "First project?", "body": "What should we build?"}


def per_page(**sizes: int):
    return pytest.mark.parametrize("app_settings", [{"PLUGIN_SETTINGS": {"groups": sizes}}])


def problem_type(response) -> str:
    assert response.mimetype == "application/problem+json", response.text
    return response.json["type"].rsplit("/", 1)[1]


def start(client, user, group_id: int, **topic: str) -> dict:
    started = client.post(
        f"/api/v1/groups/{group_id}/topics", json=TOPIC | topic, headers=token_headers(user)
    )
    assert started.status_code == 201, started.text
    return started.json


def test_a_member_starts_a_topic_and_follows_it(app, client, member, group_id, activities_of):
    started = start(client, member, group_id)

    assert started["title"] == "First project?" and started["author_name"] == "Mo Member"
    assert started["following"] is True and started["by_email"] is False
    assert (started["may_reply"], started["may_delete"]) == (True, False)
    [post] = started["posts"]
    assert post["body"] == "What should we build?" and post["author_id"] == member.id
    assert post["url"].endswith(f"/groups/{group_id}/forum/posts/{post['id']}")
    assert started["next_page"] is None
    key = f"groups.forum_post:{post['id']}"
    assert activities_of(member) == [("groups.forum_post", key, False)]


def test_a_reply_is_posted_and_alerts_the_topics_followers(
    app, client, manager, member, group_id, alerts_of
):
    topic_id = start(client, member, group_id)["id"]

    replied = client.post(
        f"/api/v1/groups/{group_id}/topics/{topic_id}/posts",
        json={"body": "Build a budget app!"},
        headers=token_headers(manager),
    )
    assert replied.status_code == 201
    assert replied.json["body"] == "Build a budget app!"
    assert replied.json["author_name"] == "Grace Manager" and replied.json["deleted"] is False
    assert alerts_of(member)[-1] == (
        "Grace Manager replied to “First project?” in Python learners.",
        f"/groups/{group_id}/forum/{topic_id}#post-{replied.json['id']}",
    )
    listed = client.get(f"/api/v1/groups/{group_id}/topics", headers=token_headers(member)).json
    assert [(line["title"], line["replies"]) for line in listed["items"]] == [("First project?", 1)]


@per_page(topics_per_page=2, posts_per_page=2)
def test_topics_and_posts_come_a_page_at_a_time(client, member, group_id):
    older = start(client, member, group_id, title="Older topic")["id"]
    start(client, member, group_id, title="Middle topic")
    start(client, member, group_id, title="Newer topic")
    headers = token_headers(member)
    for body in ("Two", "Three"):
        client.post(
            f"/api/v1/groups/{group_id}/topics/{older}/posts", json={"body": body}, headers=headers
        )

    first = client.get(f"/api/v1/groups/{group_id}/topics", headers=headers).json
    assert [line["title"] for line in first["items"]] == ["Older topic", "Newer topic"]
    assert first["next_page"] == 2
    second = client.get(f"/api/v1/groups/{group_id}/topics?page=2", headers=headers).json
    assert [line["title"] for line in second["items"]] == ["Middle topic"]
    assert second["next_page"] is None

    topic = client.get(f"/api/v1/groups/{group_id}/topics/{older}", headers=headers).json
    assert [post["body"] for post in topic["posts"]] == ["What should we build?", "Two"]
    assert topic["next_page"] == 2
    last = client.get(f"/api/v1/groups/{group_id}/topics/{older}?page=2", headers=headers).json
    assert [post["body"] for post in last["posts"]] == ["Three"] and last["next_page"] is None
    wrong = client.get(f"/api/v1/groups/{group_id}/topics?page=0", headers=headers)
    assert wrong.status_code == 422 and "page" in wrong.json["errors"]["query"]


def test_a_page_number_beyond_any_page_is_refused_not_a_server_error(client, member, group_id):
    topic_id = start(client, member, group_id)["id"]
    headers = token_headers(member, "read")
    huge = "page=10000000000000000000"  # beyond what the database compares
    for path in ("topics", f"topics/{topic_id}"):
        refused = client.get(f"/api/v1/groups/{group_id}/{path}?{huge}", headers=headers)
        assert refused.status_code == 422 and "page" in refused.json["errors"]["query"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"title": "   "}, "Give the topic a title."),
        ({"title": "x" * 151}, "Keep the title under 150 characters."),
        ({"body": "  "}, "Write something first."),
        ({"body": "x" * 10001}, "Keep a post under 10000 characters."),
    ],
)
def test_a_topic_needs_a_title_and_a_post(app, client, member, group_id, content, message):
    refused = client.post(
        f"/api/v1/groups/{group_id}/topics", json=TOPIC | content, headers=token_headers(member)
    )
    assert problem_type(refused) == "invalid-input" and refused.json["detail"] == message
    assert count_rows(app, ForumTopic) == 0


def test_a_reply_needs_some_words_and_not_too_many(app, client, member, group_id):
    topic_id = start(client, member, group_id)["id"]
    url, headers = f"/api/v1/groups/{group_id}/topics/{topic_id}/posts", token_headers(member)

    missing = client.post(url, json={}, headers=headers)
    assert missing.status_code == 422 and "body" in missing.json["errors"]["json"]
    blank = client.post(url, json={"body": " \n "}, headers=headers)
    assert blank.status_code == 422 and blank.json["detail"] == "Write something first."
    long = client.post(url, json={"body": "x" * 10001}, headers=headers)
    assert long.status_code == 422 and "under 10000 characters" in long.json["detail"]
    read_only = client.post(url, json={"body": "Hi"}, headers=token_headers(member, "read"))
    assert problem_type(read_only) == "insufficient-scope"
    assert count_rows(app, ForumPost) == 1


def test_others_read_a_public_groups_forum_but_only_members_write(
    app, client, member, outsider, group_id
):
    topic_id = start(client, member, group_id)["id"]
    headers = token_headers(outsider)
    base = f"/api/v1/groups/{group_id}/topics"

    listed = client.get(base, headers=headers)
    assert listed.status_code == 200 and len(listed.json["items"]) == 1
    read = client.get(f"{base}/{topic_id}", headers=headers).json
    assert read["may_reply"] is False and read["posts"][0]["body"] == "What should we build?"
    reply = client.post(f"{base}/{topic_id}/posts", json={"body": "Me too"}, headers=headers)
    assert problem_type(reply) == "forbidden" and "Only members" in reply.json["detail"]
    new = client.post(base, json=TOPIC, headers=headers)
    assert problem_type(new) == "forbidden"
    follow = client.put(f"{base}/{topic_id}/follow", json={}, headers=headers)
    assert problem_type(follow) == "forbidden"
    assert count_rows(app, ForumPost) == 1 and count_rows(app, TopicFollow) == 1


def test_a_members_only_forum_is_not_found_by_others(client, db, manager, member, outsider, groups):
    group_id = groups.create(manager, "Secret circle", visibility="members")
    groups.add(group_id, member)
    topic_id = start(client, member, group_id)["id"]
    invitations.invite(group_id, manager, outsider.id)  # an invitee sees the invitation only
    db.session.commit()
    headers = token_headers(outsider)
    base = f"/api/v1/groups/{group_id}/topics"

    for response in (
        client.get(base, headers=headers),
        client.get(f"{base}/{topic_id}", headers=headers),
        client.post(base, json=TOPIC, headers=headers),
        client.post(f"{base}/{topic_id}/posts", json={"body": "Hi"}, headers=headers),
        client.put(f"{base}/{topic_id}/follow", json={}, headers=headers),
    ):
        assert problem_type(response) == "not-found"
    assert client.get(base, headers=token_headers(member)).status_code == 200


def test_a_topic_of_another_group_is_not_found(client, manager, member, outsider, group_id, groups):
    topic_id = start(client, member, group_id)["id"]
    other_id = groups.create(outsider, "Rust readers")
    url = f"/api/v1/groups/{other_id}/topics/{topic_id}"
    assert client.get(url, headers=token_headers(outsider)).status_code == 404
    assert client.get(f"{url}/999", headers=token_headers(outsider)).status_code == 404


def test_a_member_follows_by_e_mail_and_unfollows(app, client, mail, manager, member, group_id):
    topic_id = start(client, member, group_id)["id"]
    url, headers = f"/api/v1/groups/{group_id}/topics/{topic_id}/follow", token_headers(manager)

    followed = client.put(url, json={"by_email": True}, headers=headers)
    assert followed.json == {"following": True, "by_email": True}
    twice = client.put(url, json={"by_email": True}, headers=headers)
    assert twice.status_code == 200
    read = client.get(f"/api/v1/groups/{group_id}/topics/{topic_id}", headers=headers).json
    assert (read["following"], read["by_email"]) == (True, True)
    mail.deliver()
    client.post(
        f"/api/v1/groups/{group_id}/topics/{topic_id}/posts",
        json={"body": "Thanks all"},
        headers=token_headers(member),
    )
    [received] = mail.deliver()
    assert received["To"] == "grace@example.org"
    assert received["Subject"] == "New reply to “First project?”"

    unfollowed = client.delete(url, headers=headers)
    assert unfollowed.json == {"following": False, "by_email": False}
    assert client.delete(url, headers=headers).status_code == 200  # not following: no change
    assert count_rows(app, TopicFollow, TopicFollow.user_id == manager.id) == 0


def test_a_manager_deletes_a_post_whose_place_stays_without_text(
    app, client, manager, member, group_id, activities_of
):
    topic_id = start(client, member, group_id)["id"]
    post_id = stored(app, select(ForumPost.id))
    url = f"/api/v1/groups/{group_id}/posts/{post_id}"

    by_author = client.delete(url, headers=token_headers(member))
    assert problem_type(by_author) == "forbidden"
    read_only = client.delete(url, headers=token_headers(manager, "read"))
    assert problem_type(read_only) == "insufficient-scope"
    deleted = client.delete(url, headers=token_headers(manager))
    assert deleted.status_code == 200
    assert (deleted.json["deleted"], deleted.json["body"], deleted.json["author_id"]) == (
        True,
        None,
        None,
    )
    read = client.get(f"/api/v1/groups/{group_id}/topics/{topic_id}", headers=token_headers(member))
    assert read.json["posts"][0]["body"] is None and read.json["posts"][0]["deleted"] is True
    assert "What should we build?" not in read.text
    again = client.delete(url, headers=token_headers(manager))
    assert again.status_code == 422 and "deleted already" in again.json["detail"]
    assert activities_of(member)[-1][2] is True  # the credit it earned is taken back


def test_a_post_the_moderators_hide_comes_without_text_or_author(app, client, db, member, group_id):
    topic_id = start(client, member, group_id)["id"]
    db.session.execute(update(ForumPost).values(hidden_at=utcnow()))
    db.session.commit()

    read = client.get(f"/api/v1/groups/{group_id}/topics/{topic_id}", headers=token_headers(member))
    [post] = read.json["posts"]
    assert (post["hidden"], post["deleted"], post["body"], post["author_name"]) == (
        True,
        False,
        None,
        None,
    )
    assert "What should we build?" not in read.text


def test_a_manager_deletes_a_topic_and_it_takes_no_more_replies(
    app, client, manager, member, group_id
):
    topic_id = start(client, member, group_id)["id"]
    url = f"/api/v1/groups/{group_id}/topics/{topic_id}"

    assert problem_type(client.delete(url, headers=token_headers(member))) == "forbidden"
    read = client.get(url, headers=token_headers(manager)).json
    assert read["may_delete"] is True
    deleted = client.delete(url, headers=token_headers(manager))
    assert deleted.status_code == 204 and deleted.data == b""
    assert count_rows(app, ForumTopic) == 0 and count_rows(app, ForumPost) == 0
    assert client.get(url, headers=token_headers(member)).status_code == 404
    late = client.post(f"{url}/posts", json={"body": "Still there?"}, headers=token_headers(member))
    assert problem_type(late) == "not-found"
    assert client.delete(url, headers=token_headers(manager)).status_code == 404
