"""Groups in the HTTP API: the directory a member may see, a group as its page shows it, and
joining an open group, refused as the page refuses it."""

from __future__ import annotations

from sqlalchemy import update

from core.db import utcnow
from core.testing import assert_api_routes_refuse_visitors, count_rows, token_headers
from plugins.groups.models import Group, Membership


def test_the_directory_lists_what_the_member_may_see(client, db, manager, member, groups):
    python = groups.create(manager, "Python learners", topic="Python")
    groups.create(manager, "Secret circle", visibility="members")
    rust = groups.create(manager, "Rust readers", description="Ownership and borrowing")
    headers = token_headers(member, "read")

    listed = client.get("/api/v1/groups?limit=1", headers=headers)
    assert [item["name"] for item in listed.json["items"]] == ["Rust readers"]
    assert listed.json["items"][0]["member_count"] == 1 and listed.json["items"][0]["role"] is None
    after = client.get(f"/api/v1/groups?after={listed.json['next']}", headers=headers).json
    assert [item["id"] for item in after["items"]] == [python]
    found = client.get("/api/v1/groups?q=borrow", headers=headers).json["items"]
    assert [item["id"] for item in found] == [rust]
    assert client.get("/api/v1/groups?mine=true", headers=headers).json["items"] == []


def test_a_member_joins_an_open_group_once(app, client, db, manager, member, groups):
    group_id = groups.create(manager)
    headers = token_headers(member)

    before = client.get(f"/api/v1/groups/{group_id}", headers=headers).json
    assert before["is_member"] is False and before["member_count"] == 1
    assert before["managers"] == [{"id": manager.id, "display_name": "Grace Manager"}]
    assert "grace@example.org" not in str(before)
    joined = client.post(f"/api/v1/groups/{group_id}/join", headers=headers)
    assert joined.status_code == 200
    assert joined.json["is_member"] is True and joined.json["member_count"] == 2
    again = client.post(f"/api/v1/groups/{group_id}/join", headers=headers)
    assert again.status_code == 422 and "member of this group already" in again.json["detail"]
    assert count_rows(app, Membership, Membership.user_id == member.id) == 1
    mine = client.get("/api/v1/groups?mine=true", headers=headers).json["items"]
    assert [(item["id"], item["role"]) for item in mine] == [(group_id, "member")]


def test_only_open_groups_are_joined_directly(client, db, manager, member, groups):
    group_id = groups.create(manager, join_policy="request")
    refused = client.post(f"/api/v1/groups/{group_id}/join", headers=token_headers(member))
    assert refused.status_code == 422 and "not open" in refused.json["detail"]


def test_a_members_only_group_is_not_found_by_others(client, db, manager, member, groups):
    group_id = groups.create(manager, "Secret circle", visibility="members")
    headers = token_headers(member)
    assert client.get(f"/api/v1/groups/{group_id}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/groups/{group_id}/join", headers=headers).status_code == 404
    assert client.get("/api/v1/groups/999", headers=headers).status_code == 404


def test_a_hidden_group_shows_no_name_and_is_listed_to_its_members_alone(
    client, db, manager, member, outsider, groups
):
    group_id = groups.create(manager, "Loud group", description="Shouting", topic="Noise")
    groups.add(group_id, member)
    db.session.execute(update(Group).values(hidden_at=utcnow()))
    db.session.commit()
    assert client.get("/api/v1/groups", headers=token_headers(outsider)).json["items"] == []
    listed = client.get("/api/v1/groups", headers=token_headers(member)).json["items"]
    assert [(item["name"], item["topic"]) for item in listed] == [("Hidden group", None)]
    read = client.get(f"/api/v1/groups/{group_id}", headers=token_headers(member)).json
    assert read["hidden"] is True and read["description"] is None and "Loud" not in str(read)


def test_every_groups_route_refuses_visitors_and_read_only_writes(app, client, db, member):
    assert_api_routes_refuse_visitors(app, client, token_headers(member, "read"))
