"""Groups' rate limits, per member: new topics and replies share one count, creating groups
another; over a limit the form (or the topic page with its reply form) comes back filled as
a 429, nothing is posted, and other members post on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from core.testing import count_rows, stored, token_headers
from plugins.groups.models import ForumPost, ForumTopic, Group

pytestmark = pytest.mark.plugins("groups")


@pytest.fixture
def still_clock():
    """The clock stands still: the wait a refusal announces is the whole hour, however long
    the test takes to reach it."""
    with time_machine.travel(datetime(2027, 5, 3, 9, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def app(make_app, rate_limit_storage):
    return make_app(
        RATE_LIMIT_STORAGE_URL=rate_limit_storage,
        RATE_LIMITS={"groups-post": "3/hour", "groups-create": "1/day"},
    )


def new_topic(client, group_id: int, title: str, body: str = "What do you think?"):
    return client.post(f"/groups/{group_id}/forum/new", data={"title": title, "body": body})


@pytest.fixture
def topic_id(app, client, group_id, member) -> int:
    """The group's first topic, which the member, logged in, starts (a post within the
    limit)."""
    client.login(member)
    assert new_topic(client, group_id, "First").status_code == 302
    return stored(app, select(ForumTopic.id))


def test_topics_and_replies_share_a_limit_and_the_reply_is_kept(
    app, client, group_id, member, manager, still_clock, topic_id
):
    reply = f"/groups/{group_id}/forum/{topic_id}/reply"
    for n in range(2):
        assert client.post(reply, data={"body": f"Reply {n}"}).status_code == 302

    refused = client.post(reply, data={"body": "A long reply I wrote with care"})

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3600"
    page = refused.get_data(as_text=True)
    assert "Try again in 60 minutes." in page
    assert "A long reply I wrote with care</textarea>" in page
    assert "Reply 1" in page  # the topic's posts are on the page around the form
    topic_refused = new_topic(client, group_id, "Second", "Kept body")
    assert topic_refused.status_code == 429
    assert 'value="Second"' in topic_refused.get_data(as_text=True)
    assert "Kept body</textarea>" in topic_refused.get_data(as_text=True)
    assert count_rows(app, ForumPost) == 3

    other = app.test_client()
    other.login(manager)
    assert other.post(reply, data={"body": "The manager answers"}).status_code == 302


def test_the_api_counts_topics_and_replies_against_the_same_limit(
    app, client, group_id, member, still_clock, topic_id
):
    headers = token_headers(member)
    replies = f"/api/v1/groups/{group_id}/topics/{topic_id}/posts"
    assert client.post(replies, json={"body": "By my app"}, headers=headers).status_code == 201
    topic = {"title": "From my app", "body": "Hello"}
    assert (
        client.post(f"/api/v1/groups/{group_id}/topics", json=topic, headers=headers).status_code
        == 201
    )

    refused = client.post(replies, json={"body": "One too many"}, headers=headers)

    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    assert refused.json["type"] == "/api/problems/rate-limited"
    assert count_rows(app, ForumPost) == 3


def test_creating_groups_is_limited_per_day(app, client, member):
    start = datetime(2027, 5, 3, 9, tzinfo=UTC)
    form = {"name": "Rustaceans", "description": "", "join_policy": "open", "visibility": "public"}
    with time_machine.travel(start, tick=False) as clock:
        client.login(member)
        assert client.post("/groups/new", data=form | {"name": "Pythonistas"}).status_code == 302

        refused = client.post("/groups/new", data=form)

        assert refused.status_code == 429
        assert 'value="Rustaceans"' in refused.get_data(as_text=True)
        assert count_rows(app, Group) == 1
        clock.shift(timedelta(days=1, minutes=1))
        assert client.post("/groups/new", data=form).status_code == 302
    assert count_rows(app, Group) == 2


def test_refused_posts_count_nothing_against_the_limit(
    app, client, groups, group_id, member, outsider, topic_id
):
    topics = f"/api/v1/groups/{group_id}/topics"
    replies = f"{topics}/{topic_id}/posts"
    page_reply = f"/groups/{group_id}/forum/{topic_id}/reply"
    blank_topic, blank_reply = {"title": "  ", "body": "Hello"}, {"body": "  "}
    for _ in range(3):
        assert (
            client.post(topics, json=blank_topic, headers=token_headers(member)).status_code == 422
        )
        assert (
            client.post(replies, json=blank_reply, headers=token_headers(member)).status_code == 422
        )
    outsiders = app.test_client()
    outsiders.login(outsider)
    for _ in range(3):
        topic = {"title": "Let me in", "body": "Hello"}
        assert (
            outsiders.post(topics, json=topic, headers=token_headers(outsider)).status_code == 403
        )
        reply = {"body": "Me too"}
        assert (
            outsiders.post(replies, json=reply, headers=token_headers(outsider)).status_code == 403
        )
        assert outsiders.post(page_reply, data=reply).status_code == 403

    for n in range(2):
        reply = {"body": f"Reply {n}"}
        assert client.post(replies, json=reply, headers=token_headers(member)).status_code == 201
    groups.add(group_id, outsider)
    for n in range(3):
        topic = {"title": f"Now a member {n}", "body": "Hello"}
        assert (
            outsiders.post(topics, json=topic, headers=token_headers(outsider)).status_code == 201
        )
    assert count_rows(app, ForumPost) == 6
