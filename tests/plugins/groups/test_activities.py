"""What groups tells the rest of alma: the activity kinds it declares, the activities it
records in core's table, with or without a credits plugin, its settings, and its demo data."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.config import ConfigError
from core.models import Activity
from core.state import alma
from core.testing import count_rows, stored
from plugins.groups.models import ForumTopic, Group, Invitation, JoinRequest, Membership

pytestmark = pytest.mark.plugins("groups")


def test_groups_declares_its_activity_kinds(app):
    kinds = alma(app).activity_kinds

    assert {name: str(kind.label) for name, kind in kinds.items()} == {
        "groups.group_created": "Created a group",
        "groups.managed": "Managed a group",
        "groups.forum_post": "Posted in a group forum",
    }


def test_creating_managing_and_posting_record_activities_without_a_credits_plugin(
    app, act, manager, member, groups
):
    assert "credits" not in alma(app).enabled
    group_id = groups.create(manager)
    groups.add(group_id, member)
    page = act(manager, f"/groups/{group_id}/announcements", body="Hello all")
    assert page.status_code == 200
    act(member, f"/groups/{group_id}/forum/new", title="Hi", body="First")

    rows = {
        (kind, user_id, subject, url)
        for kind, user_id, subject, url in [
            tuple(row)
            for row in stored_rows(
                app, select(Activity.kind, Activity.user_id, Activity.subject, Activity.url)
            )
        ]
    }
    topic_id = stored(app, select(ForumTopic.id))
    post_subject = stored(app, select(Activity.subject).where(Activity.kind == "groups.forum_post"))
    assert rows == {
        ("groups.group_created", manager.id, f"groups.group:{group_id}", f"/groups/{group_id}"),
        ("groups.managed", manager.id, f"groups.group:{group_id}", f"/groups/{group_id}"),
        ("groups.forum_post", member.id, post_subject, f"/groups/{group_id}/forum/{topic_id}"),
    }
    assert count_rows(app, Activity, Activity.kind == "groups.managed") == 2  # invite, announce


def stored_rows(app, statement) -> list:
    from core.db import db

    with app.app_context():
        try:
            return list(db.session.execute(statement).all())
        finally:
            db.session.remove()


@pytest.mark.plugins("groups", "credits")
def test_with_the_credits_plugin_managing_a_group_earns_credits(app, client, manager, groups):
    group_id = groups.create(manager)  # 5
    client.login(manager)
    client.post(f"/groups/{group_id}/announcements", data={"body": "Welcome!"})  # 2

    page = client.get(f"/members/{manager.id}").text

    assert "7 credits" in page


@pytest.mark.parametrize(
    ("key", "value"),
    [("groups_per_page", 0), ("posts_per_page", -1), ("topics_per_page", "ten"), ("colour", 1)],
)
def test_bad_settings_stop_alma_with_a_message_naming_them(make_app, key, value):
    with pytest.raises(ConfigError, match=f"plugins.groups.{key}"):
        make_app(PLUGIN_SETTINGS={"groups": {key: value}})


def test_demo_members_get_groups_a_forum_topic_and_pending_answers(app, db):
    from core.demo import create_demo_members

    members = create_demo_members()
    db.session.commit()

    assert stored(app, select(Group.name).order_by(Group.name).limit(1)) == "Career changers"
    assert count_rows(app, Group) == 3
    assert count_rows(app, Membership, Membership.state == "active") == len(members) + 2
    assert count_rows(app, ForumTopic) == 1
    assert count_rows(app, JoinRequest, JoinRequest.state == "pending") == 1
    assert count_rows(app, Invitation, Invitation.state == "pending") == 1
