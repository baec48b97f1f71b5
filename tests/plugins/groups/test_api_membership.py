"""Joining and leaving through the HTTP API: the caller's standing in a group, asking to join
a group "on request" and withdrawing, leaving, and the managers' answer to requests, each
refused as its page refuses it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select, update

from core.db import utcnow
from core.models import User
from core.testing import count_rows, stored, token_headers
from plugins.groups.models import JoinRequest, Membership
from plugins.groups.services import invitations, moderation

WHY = {"message": "I am learning Python and would like to practise with others."}


def problem_type(response) -> str:
    assert response.mimetype == "application/problem+json", response.text
    return response.json["type"].rsplit("/", 1)[1]


def standing(group: dict) -> dict:
    keys = ("is_member", "is_manager", "banned", "invited", "request_pending")
    return {key: group[key] for key in (*keys, "may_join", "may_ask", "may_leave")}


def test_the_group_says_the_callers_standing(client, db, manager, member, outsider, groups):
    open_id = groups.create(manager, "Python learners")
    asking_id = groups.create(manager, "Rust readers", join_policy="request")
    groups.add(open_id, member)
    mine, theirs = token_headers(member, "read"), token_headers(outsider, "read")

    as_member = client.get(f"/api/v1/groups/{open_id}", headers=mine).json
    assert standing(as_member) == {
        "is_member": True,
        "is_manager": False,
        "banned": False,
        "invited": False,
        "request_pending": False,
        "may_join": False,
        "may_ask": False,
        "may_leave": True,
    }
    as_manager = client.get(f"/api/v1/groups/{open_id}", headers=token_headers(manager)).json
    assert as_manager["is_manager"] is True and as_manager["may_leave"] is True
    as_outsider = client.get(f"/api/v1/groups/{open_id}", headers=theirs).json
    assert (as_outsider["may_join"], as_outsider["may_ask"], as_outsider["may_leave"]) == (
        True,
        False,
        False,
    )
    on_request = client.get(f"/api/v1/groups/{asking_id}", headers=theirs).json
    assert (on_request["may_join"], on_request["may_ask"]) == (False, True)


def test_a_banned_member_may_neither_join_nor_ask(client, db, manager, member, groups):
    group_id = groups.create(manager)
    groups.add(group_id, member)
    moderation.ban_member(group_id, manager, member.id)
    db.session.commit()
    headers = token_headers(member)

    read = client.get(f"/api/v1/groups/{group_id}", headers=headers).json
    assert read["banned"] is True and read["is_member"] is False
    assert (read["may_join"], read["may_ask"], read["may_leave"]) == (False, False, False)
    refused = client.post(f"/api/v1/groups/{group_id}/join", headers=headers)
    assert refused.status_code == 422 and "banned from this group" in refused.json["detail"]


def test_an_invitee_sees_a_members_only_group_but_no_way_in_but_the_invitation(
    client, db, manager, member, groups
):
    group_id = groups.create(manager, "Secret circle", visibility="members")
    invitations.invite(group_id, manager, member.id)
    db.session.commit()

    read = client.get(f"/api/v1/groups/{group_id}", headers=token_headers(member)).json
    assert read["invited"] is True and read["managers"] == [] and read["description"] is None
    assert (read["may_join"], read["may_ask"]) == (False, False)


def test_a_group_nobody_runs_takes_nobody_in(client, db, manager, outsider, groups):
    group_id = groups.create(manager)
    db.session.execute(update(User).where(User.id == manager.id).values(deactivated_at=utcnow()))
    db.session.commit()
    headers = token_headers(outsider)

    read = client.get(f"/api/v1/groups/{group_id}", headers=headers).json
    assert read["may_join"] is False and read["managers"] == []
    refused = client.post(f"/api/v1/groups/{group_id}/join", headers=headers)
    assert refused.status_code == 422 and "closed" in refused.json["detail"]


def test_a_member_asks_to_join_once_and_the_managers_are_alerted(
    app, client, db, mail, manager, member, groups, alerts_of
):
    group_id = groups.create(manager, join_policy="request")
    headers = token_headers(member)
    url = f"/api/v1/groups/{group_id}/request"

    asked = client.post(url, json=WHY, headers=headers)
    assert asked.status_code == 201
    assert asked.json["request_pending"] is True and asked.json["may_ask"] is False
    assert asked.json["is_member"] is False
    assert alerts_of(manager)[-1] == (
        "Mo Member asks to join Python learners.",
        f"/groups/{group_id}/manage",
    )
    assert [m["Subject"] for m in mail.deliver()] == ["Request to join Python learners"]
    again = client.post(url, json=WHY, headers=headers)
    assert again.status_code == 422 and "asked to join already" in again.json["detail"]
    assert count_rows(app, JoinRequest) == 1
    assert stored(app, select(JoinRequest.message)) == WHY["message"]


def test_asking_needs_a_message_of_some_words(app, client, db, manager, member, groups):
    group_id = groups.create(manager, join_policy="request")
    headers = token_headers(member)
    url = f"/api/v1/groups/{group_id}/request"

    missing = client.post(url, json={}, headers=headers)
    assert missing.status_code == 422 and "message" in missing.json["errors"]["json"]
    blank = client.post(url, json={"message": "   "}, headers=headers)
    assert problem_type(blank) == "invalid-input" and "why you would like" in blank.json["detail"]
    long = client.post(url, json={"message": "x" * 1001}, headers=headers)
    assert long.status_code == 422 and "under 1000 characters" in long.json["detail"]
    as_text = client.post(url, data="hello", headers=headers | {"Content-Type": "text/plain"})
    assert problem_type(as_text) == "unsupported-media-type"
    read_only = client.post(url, json=WHY, headers=token_headers(member, "read"))
    assert problem_type(read_only) == "insufficient-scope"
    assert count_rows(app, JoinRequest) == 0


def test_only_groups_on_request_take_requests(client, db, manager, member, groups):
    open_id = groups.create(manager, "Python learners")
    secret_id = groups.create(manager, "Secret circle", visibility="members", join_policy="request")
    groups.add(open_id, member)
    headers = token_headers(member)

    already = client.post(f"/api/v1/groups/{open_id}/request", json=WHY, headers=headers)
    assert already.status_code == 422 and "member of this group already" in already.json["detail"]
    hidden = client.post(f"/api/v1/groups/{secret_id}/request", json=WHY, headers=headers)
    assert hidden.status_code == 404


def test_a_member_withdraws_a_request_and_asks_again_only_after_a_day(
    app, client, db, manager, member, groups
):
    group_id = groups.create(manager, join_policy="request")
    headers = token_headers(member)
    url = f"/api/v1/groups/{group_id}/request"
    nothing = client.delete(url, headers=headers)
    assert nothing.status_code == 422 and "no pending request" in nothing.json["detail"]
    client.post(url, json=WHY, headers=headers)

    withdrawn = client.delete(url, headers=headers)
    assert withdrawn.status_code == 200
    assert withdrawn.json["request_pending"] is False and withdrawn.json["may_ask"] is True
    assert stored(app, select(JoinRequest.state)) == "withdrawn"
    twice = client.delete(url, headers=headers)
    assert twice.status_code == 422 and "no pending request" in twice.json["detail"]
    soon = client.post(url, json=WHY, headers=headers)
    assert soon.status_code == 422 and "less than a day ago" in soon.json["detail"]


def test_asking_again_waits_a_day_from_the_answer_or_the_withdrawal_not_the_ask(
    client, db, manager, member, groups
):
    group_id = groups.create(manager, join_policy="request")
    url = f"/api/v1/groups/{group_id}/request"
    with time_machine.travel(datetime(2027, 5, 3, 9, tzinfo=UTC), tick=False) as clock:
        mine, theirs = token_headers(member), token_headers(manager)
        assert client.post(url, json=WHY, headers=mine).status_code == 201
        clock.shift(timedelta(hours=23))
        request_id = stored(client.application, select(JoinRequest.id))
        decline = f"/api/v1/groups/{group_id}/requests/{request_id}/decline"
        assert client.post(decline, headers=theirs).status_code == 200

        clock.shift(timedelta(hours=1))
        soon = client.post(url, json=WHY, headers=mine)
        assert soon.status_code == 422 and "less than a day ago" in soon.json["detail"]
        clock.shift(timedelta(hours=23, minutes=1))
        assert client.post(url, json=WHY, headers=mine).status_code == 201

        clock.shift(timedelta(hours=23))
        assert client.delete(url, headers=mine).status_code == 200
        clock.shift(timedelta(hours=1))
        assert client.post(url, json=WHY, headers=mine).status_code == 422
    assert count_rows(client.application, JoinRequest) == 2


def test_a_manager_lists_and_approves_a_request_once(
    app, client, db, manager, member, outsider, groups, alerts_of
):
    group_id = groups.create(manager, join_policy="request")
    for asker in (member, outsider):
        client.post(f"/api/v1/groups/{group_id}/request", json=WHY, headers=token_headers(asker))
    headers = token_headers(manager)

    pending = client.get(f"/api/v1/groups/{group_id}/requests?limit=1", headers=headers)
    assert [(item["member_name"], item["state"]) for item in pending.json["items"]] == [
        ("Mo Member", "pending")
    ]
    assert pending.json["items"][0]["message"] == WHY["message"]
    rest = client.get(
        f"/api/v1/groups/{group_id}/requests?after={pending.json['next']}", headers=headers
    ).json
    assert [item["member_id"] for item in rest["items"]] == [outsider.id] and rest["next"] is None

    request_id = pending.json["items"][0]["id"]
    approved = client.post(
        f"/api/v1/groups/{group_id}/requests/{request_id}/approve", headers=headers
    )
    assert approved.status_code == 200 and approved.json["state"] == "approved"
    assert approved.json["decided_at"] is not None
    assert alerts_of(member)[-1][0] == "Welcome! Your request to join Python learners was approved."
    joined = client.get(f"/api/v1/groups/{group_id}", headers=token_headers(member)).json
    assert joined["is_member"] is True and joined["request_pending"] is False
    again = client.post(f"/api/v1/groups/{group_id}/requests/{request_id}/decline", headers=headers)
    assert again.status_code == 422 and "answered already (approved)" in again.json["detail"]
    assert count_rows(app, Membership, Membership.user_id == member.id) == 1


def test_a_manager_declines_a_request(app, client, db, manager, member, groups, alerts_of):
    group_id = groups.create(manager, join_policy="request")
    client.post(f"/api/v1/groups/{group_id}/request", json=WHY, headers=token_headers(member))
    request_id = stored(app, select(JoinRequest.id))

    declined = client.post(
        f"/api/v1/groups/{group_id}/requests/{request_id}/decline", headers=token_headers(manager)
    )
    assert declined.status_code == 200 and declined.json["state"] == "declined"
    assert alerts_of(member)[-1][0] == "Your request to join Python learners was declined."
    read = client.get(f"/api/v1/groups/{group_id}", headers=token_headers(member)).json
    assert read["is_member"] is False and read["request_pending"] is False


def test_only_the_groups_managers_answer_requests(
    app, client, db, manager, member, outsider, groups
):
    group_id = groups.create(manager, join_policy="request")
    other_id = groups.create(outsider, "Rust readers")
    client.post(f"/api/v1/groups/{group_id}/request", json=WHY, headers=token_headers(member))
    request_id = stored(app, select(JoinRequest.id))
    approve = f"/api/v1/groups/{group_id}/requests/{request_id}/approve"

    asker = client.post(approve, headers=token_headers(member))
    assert problem_type(asker) == "forbidden"
    stranger = client.get(f"/api/v1/groups/{group_id}/requests", headers=token_headers(outsider))
    assert problem_type(stranger) == "forbidden"
    elsewhere = client.post(
        f"/api/v1/groups/{other_id}/requests/{request_id}/approve",
        headers=token_headers(outsider),
    )
    assert elsewhere.status_code == 404
    read_only = client.post(approve, headers=token_headers(manager, "read"))
    assert problem_type(read_only) == "insufficient-scope"
    assert stored(app, select(JoinRequest.state)) == "pending"


def test_a_member_leaves_and_may_join_again(app, client, db, manager, member, groups):
    group_id = groups.create(manager)
    groups.add(group_id, member)
    headers = token_headers(member)

    left = client.post(f"/api/v1/groups/{group_id}/leave", headers=headers)
    assert left.status_code == 204 and left.data == b""
    read = client.get(f"/api/v1/groups/{group_id}", headers=headers).json
    assert read["is_member"] is False and read["may_join"] is True and read["member_count"] == 1
    twice = client.post(f"/api/v1/groups/{group_id}/leave", headers=headers)
    assert problem_type(twice) == "forbidden" and "Only members" in twice.json["detail"]
    assert stored(app, select(Membership.state).where(Membership.user_id == member.id)) == "left"


def test_the_last_manager_may_not_leave(app, client, db, manager, groups):
    group_id = groups.create(manager)
    refused = client.post(f"/api/v1/groups/{group_id}/leave", headers=token_headers(manager))
    assert refused.status_code == 422 and "A group needs a manager" in refused.json["detail"]
    assert stored(app, select(Membership.state)) == "active"


def test_leaving_a_members_only_group_hides_it(client, db, manager, member, outsider, groups):
    group_id = groups.create(manager, "Secret circle", visibility="members")
    groups.add(group_id, member)
    headers = token_headers(member)

    stranger = client.post(f"/api/v1/groups/{group_id}/leave", headers=token_headers(outsider))
    assert stranger.status_code == 404
    assert client.post(f"/api/v1/groups/{group_id}/leave", headers=headers).status_code == 204
    assert client.get(f"/api/v1/groups/{group_id}", headers=headers).status_code == 404
