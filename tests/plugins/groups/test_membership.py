"""Joining and leaving groups, and managing them: the three join policies, requests with their
message, invitations, removal and bans, managers (never fewer than one), announcements, the
history of management, and the activities each management act records. Mails are those the
real SMTP server received."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from core.db import db as database
from core.db import utcnow
from core.models import Activity
from core.testing import body_of, count_rows, path_of, stored
from plugins.groups.models import (
    Group,
    Invitation,
    JoinRequest,
    ManagementAct,
    Membership,
)

pytestmark = pytest.mark.plugins("groups")


def state_of(app, group_id: int, user) -> tuple[str, str] | None:
    row = stored(
        app,
        select(Membership.state + ":" + Membership.role).where(
            Membership.group_id == group_id, Membership.user_id == user.id
        ),
    )
    return tuple(row.split(":")) if row else None


def managed_kinds(activities) -> int:
    return sum(1 for kind, _key, _undone in activities if kind == "groups.managed")


# ---- open groups ---------------------------------------------------------------------------


def test_a_member_joins_an_open_group(app, act, manager, member, groups):
    group_id = groups.create(manager)

    page = act(member, f"/groups/{group_id}/join")

    assert "Welcome to the group!" in page.text
    assert "Leave the group" in page.text
    assert state_of(app, group_id, member) == ("active", "member")


def test_joining_twice_says_so_and_keeps_one_membership(app, act, manager, member, groups):
    group_id = groups.create(manager)
    act(member, f"/groups/{group_id}/join")

    page = act(member, f"/groups/{group_id}/join")

    assert "You are a member of this group already." in page.text
    assert count_rows(app, Membership, Membership.user_id == member.id) == 1


@pytest.mark.parametrize("policy", ["request", "invitation"])
def test_only_open_groups_can_be_joined_directly(app, act, manager, member, groups, policy):
    group_id = groups.create(manager, join_policy=policy)

    page = act(member, f"/groups/{group_id}/join")

    assert "This group is not open" in page.text
    assert state_of(app, group_id, member) is None


def test_an_invitation_only_group_tells_visitors_how_to_get_in(client, manager, member, groups):
    group_id = groups.create(manager, join_policy="invitation")
    client.login(member)

    page = client.get(f"/groups/{group_id}").text

    assert "This group is by invitation only" in page
    assert "Join the group" not in page


# ---- requests ------------------------------------------------------------------------------


@pytest.fixture
def request_group(groups, manager) -> int:
    return groups.create(manager, "Career changers", join_policy="request")


def ask(act, member, group_id: int, message: str = "I am changing careers, may I join?"):
    return act(member, f"/groups/{group_id}/request", message=message)


def test_a_request_keeps_its_message_and_reaches_the_managers(
    app, act, client, mail, manager, member, request_group, alerts_of
):
    page = ask(act, member, request_group, "  I teach maths and learn Python.  ")

    assert "Your request is on its way to the managers." in page.text
    assert "I teach maths and learn Python." in page.text
    assert "Withdraw my request" in page.text
    assert (
        stored(app, select(JoinRequest.message).where(JoinRequest.user_id == member.id))
        == "I teach maths and learn Python."
    )
    assert alerts_of(manager) == [
        ("Mo Member asks to join Career changers.", f"/groups/{request_group}/manage")
    ]
    [received] = mail.deliver()
    assert received["To"] == "grace@example.org"
    assert received["Subject"] == "Request to join Career changers"
    client.login(manager)
    link = re.search(r"http://alma\.test/groups/\S+", body_of(received)).group(0)
    manage = client.get(path_of(link)).text
    assert "I teach maths and learn Python." in manage


def test_a_request_needs_a_message(app, act, member, request_group):
    page = ask(act, member, request_group, "   ")

    assert "Tell the managers in a few words why you would like to join." in page.text
    assert count_rows(app, JoinRequest) == 0


def test_a_second_request_while_one_waits_is_refused(app, act, member, request_group):
    ask(act, member, request_group)

    page = ask(act, member, request_group, "Please?")

    assert "You asked to join already" in page.text
    assert count_rows(app, JoinRequest) == 1


def test_approving_a_request_makes_a_member_and_tells_them(
    app, act, mail, manager, member, request_group, alerts_of, activities_of
):
    ask(act, member, request_group)
    request_id = stored(app, select(JoinRequest.id))
    mail.deliver()

    page = act(manager, f"/groups/{request_group}/requests/{request_id}/approve")

    assert "The request is approved" in page.text
    assert "No request waits for an answer." in page.text
    assert state_of(app, request_group, member) == ("active", "member")
    assert stored(app, select(JoinRequest.state)) == "approved"
    assert stored(app, select(JoinRequest.message)) == "I am changing careers, may I join?"
    assert alerts_of(member)[-1] == (
        "Welcome! Your request to join Career changers was approved.",
        f"/groups/{request_group}",
    )
    [received] = mail.deliver()
    assert received["To"] == "mo@example.org"
    assert received["Subject"] == "You joined Career changers"
    assert managed_kinds(activities_of(manager)) == 1


def test_declining_a_request_tells_the_member_and_lets_them_ask_again(
    app, act, manager, member, request_group, alerts_of
):
    ask(act, member, request_group)
    request_id = stored(app, select(JoinRequest.id))

    act(manager, f"/groups/{request_group}/requests/{request_id}/decline")

    assert state_of(app, request_group, member) is None
    assert stored(app, select(JoinRequest.state)) == "declined"
    assert alerts_of(member)[-1][0] == "Your request to join Career changers was declined."
    # not straight away: every request alerts and mails the managers
    page = ask(act, member, request_group, "Please?")
    assert (
        "Your last request to join this group was answered or withdrawn less than a day ago"
        in page.text
    )
    assert count_rows(app, JoinRequest) == 1

    a_day_passes(app, JoinRequest)
    page = ask(act, member, request_group, "I finished the course now.")
    assert "Your request is on its way" in page.text
    assert count_rows(app, JoinRequest) == 2


def test_asking_and_withdrawing_in_a_loop_alerts_the_managers_once_a_day(
    app, act, manager, member, request_group, alerts_of
):
    ask(act, member, request_group)
    act(member, f"/groups/{request_group}/request/withdraw")
    page = ask(act, member, request_group)

    assert (
        "Your last request to join this group was answered or withdrawn less than a day ago"
        in page.text
    )
    assert [alert for alert, _url in alerts_of(manager) if "asks to join" in alert] == [
        "Mo Member asks to join Career changers."
    ]


def test_a_declined_invitation_is_not_sent_again_the_same_day(
    app, act, manager, member, groups, alerts_of
):
    group_id = groups.create(manager, join_policy="invitation")
    act(manager, f"/groups/{group_id}/invitations", member_id=member.id)
    act(member, f"/groups/{group_id}/invitation/decline")

    page = act(manager, f"/groups/{group_id}/invitations", member_id=member.id)

    assert "was answered or revoked less than a day ago" in page.text
    assert count_rows(app, Invitation) == 1
    a_day_passes(app, Invitation)
    act(manager, f"/groups/{group_id}/invitations", member_id=member.id)
    assert count_rows(app, Invitation, Invitation.state == "pending") == 1


def test_an_invitation_declined_late_is_not_sent_again_until_a_day_after(
    app, act, manager, member, groups
):
    group_id = groups.create(manager, join_policy="invitation")
    invite = f"/groups/{group_id}/invitations"
    with time_machine.travel(datetime(2027, 5, 3, 9, tzinfo=UTC), tick=False) as clock:
        act(manager, invite, member_id=member.id)
        clock.shift(timedelta(hours=23))
        act(member, f"/groups/{group_id}/invitation/decline")
        clock.shift(timedelta(hours=1))

        page = act(manager, invite, member_id=member.id)

        assert "The last invitation to Mo Member was answered or revoked less than" in page.text
        assert count_rows(app, Invitation) == 1
        clock.shift(timedelta(hours=23, minutes=1))
        act(manager, invite, member_id=member.id)
    assert count_rows(app, Invitation, Invitation.state == "pending") == 1


def test_a_group_sends_a_limited_number_of_invitations_a_day(
    app, act, create_user, manager, groups, alerts_of, monkeypatch
):
    monkeypatch.setitem(app.config["PLUGIN_SETTINGS"]["groups"], "invitations_per_day", 2)
    group_id = groups.create(manager, join_policy="invitation")
    first, second, third = (create_user() for _ in range(3))
    for member in (first, second):
        act(manager, f"/groups/{group_id}/invitations", member_id=member.id)

    page = act(manager, f"/groups/{group_id}/invitations", member_id=third.id)

    assert "This group sent all the invitations it may send today" in page.text
    assert count_rows(app, Invitation) == 2
    assert alerts_of(third) == []
    a_day_passes(app, Invitation)
    act(manager, f"/groups/{group_id}/invitations", member_id=third.id)
    assert count_rows(app, Invitation) == 3


def a_day_passes(app, kind) -> None:
    """A day passes since the rows of ``kind`` were made and answered."""
    with app.app_context():
        for row in database.session.scalars(select(kind)):
            row.created_at -= timedelta(days=1)
            ended = "decided_at" if kind is JoinRequest else "answered_at"
            if getattr(row, ended) is not None:
                setattr(row, ended, getattr(row, ended) - timedelta(days=1))
        database.session.commit()


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("approve", "approve", "This request was answered already (approved)."),
        ("approve", "decline", "This request was answered already (approved)."),
        ("decline", "approve", "This request was answered already (declined)."),
    ],
)
def test_a_request_answered_already_cannot_be_answered_again(
    app, act, manager, member, request_group, activities_of, first, second, message
):
    ask(act, member, request_group)
    request_id = stored(app, select(JoinRequest.id))
    act(manager, f"/groups/{request_group}/requests/{request_id}/{first}")

    page = act(manager, f"/groups/{request_group}/requests/{request_id}/{second}")

    assert message in page.text
    assert managed_kinds(activities_of(manager)) == 1


def test_a_withdrawn_request_cannot_be_approved(app, act, manager, member, request_group):
    ask(act, member, request_group)
    request_id = stored(app, select(JoinRequest.id))
    page = act(member, f"/groups/{request_group}/request/withdraw")
    assert "You withdrew your request." in page.text

    page = act(manager, f"/groups/{request_group}/requests/{request_id}/approve")

    assert "This request was answered already (withdrawn)." in page.text
    assert state_of(app, request_group, member) is None


def test_a_request_of_another_group_is_not_found(
    app, act, client, manager, member, request_group, groups
):
    ask(act, member, request_group)
    request_id = stored(app, select(JoinRequest.id))
    other = groups.create(manager, "Other", join_policy="request")

    client.login(manager)
    response = client.post(f"/groups/{other}/requests/{request_id}/approve")

    assert response.status_code == 404
    assert stored(app, select(JoinRequest.state)) == "pending"


def test_only_managers_answer_requests(app, act, client, manager, member, outsider, groups):
    group_id = groups.create(manager, join_policy="request")
    groups.add(group_id, member)
    ask(act, outsider, group_id)
    request_id = stored(app, select(JoinRequest.id))

    client.login(member)
    assert client.get(f"/groups/{group_id}/manage").status_code == 403
    for decision in ("approve", "decline"):
        response = client.post(f"/groups/{group_id}/requests/{request_id}/{decision}")
        assert response.status_code == 403
    assert stored(app, select(JoinRequest.state)) == "pending"


# ---- invitations ---------------------------------------------------------------------------


def test_a_manager_finds_a_member_and_invites_them(
    app, act, client, mail, manager, member, outsider, groups, alerts_of, activities_of
):
    group_id = groups.create(manager, join_policy="invitation")
    groups.add(group_id, outsider)
    mail.deliver()
    client.login(manager)

    found = client.get(f"/groups/{group_id}/manage", query_string={"q": "mem"}).text
    assert "Mo Member" in found
    none = client.get(f"/groups/{group_id}/manage", query_string={"q": "olga"}).text
    assert "No member to invite matches “olga”" in none  # a member already

    page = act(manager, f"/groups/{group_id}/invitations", member_id=str(member.id))

    assert "The invitation is sent." in page.text
    assert "Waiting for an answer" in page.text
    assert alerts_of(member) == [
        ("Grace Manager invites you to join the group Python learners.", f"/groups/{group_id}")
    ]
    [received] = mail.deliver()
    assert (received["To"], received["Subject"]) == (
        "mo@example.org",
        "Invitation to join Python learners",
    )
    assert managed_kinds(activities_of(manager)) == 2  # adding olga invited her too


def test_the_invitee_accepts_and_joins(app, act, client, manager, member, groups, alerts_of):
    group_id = groups.create(manager, join_policy="invitation")
    act(manager, f"/groups/{group_id}/invitations", member_id=str(member.id))

    client.login(member)
    directory = client.get("/groups/").text
    assert "Your invitations" in directory
    page = act(member, f"/groups/{group_id}/invitation/accept")

    assert "Welcome to the group!" in page.text
    assert state_of(app, group_id, member) == ("active", "member")
    assert stored(app, select(Invitation.state)) == "accepted"
    assert alerts_of(manager)[-1][0] == "Mo Member accepted your invitation to Python learners."


def test_the_invitee_declines(app, act, manager, member, groups, alerts_of):
    group_id = groups.create(manager, join_policy="invitation")
    act(manager, f"/groups/{group_id}/invitations", member_id=str(member.id))

    page = act(member, f"/groups/{group_id}/invitation/decline")

    assert "You declined the invitation." in page.text
    assert state_of(app, group_id, member) is None
    assert stored(app, select(Invitation.state)) == "declined"
    again = act(member, f"/groups/{group_id}/invitation/accept")
    assert "You have no pending invitation to this group." in again.text


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("member", "Mo Member is a member of this group already."),
        ("invited", "Mo Member is invited already."),
        ("banned", "Mo Member is banned from this group: lift the ban before inviting them."),
    ],
)
def test_some_members_cannot_be_invited(app, act, db, manager, member, groups, setup, message):
    from plugins.groups.services import invitations, moderation

    group_id = groups.create(manager)
    if setup in ("member", "banned"):
        groups.add(group_id, member)
    if setup == "invited":
        invitations.invite(group_id, manager, member.id)
    if setup == "banned":
        moderation.ban_member(group_id, manager, member.id)
    db.session.commit()

    page = act(manager, f"/groups/{group_id}/invitations", member_id=str(member.id))

    assert message in page.text
    assert count_rows(app, Invitation, Invitation.state == "pending") == (setup == "invited")


def test_inviting_nobody_in_particular_is_refused(app, act, manager, groups):
    group_id = groups.create(manager)

    # "²" is a digit to Python but no number; the last is more than any id column holds
    for member_id in ("", "abc", "99999", "²", "-1", "9" * 25):
        page = act(manager, f"/groups/{group_id}/invitations", member_id=member_id)
        assert "Choose a member to invite from the list." in page.text
    assert count_rows(app, Invitation) == 0


def test_a_revoked_invitation_cannot_be_accepted(app, act, manager, member, groups):
    group_id = groups.create(manager, join_policy="invitation")
    act(manager, f"/groups/{group_id}/invitations", member_id=str(member.id))
    invitation_id = stored(app, select(Invitation.id))

    page = act(manager, f"/groups/{group_id}/invitations/{invitation_id}/revoke")
    assert "The invitation is revoked." in page.text

    page = act(member, f"/groups/{group_id}/invitation/accept")
    assert "You have no pending invitation to this group." in page.text
    assert state_of(app, group_id, member) is None


def test_joining_settles_a_pending_invitation(app, act, manager, member, groups):
    group_id = groups.create(manager)
    act(manager, f"/groups/{group_id}/invitations", member_id=str(member.id))

    act(member, f"/groups/{group_id}/join")

    assert stored(app, select(Invitation.state)) == "accepted"


# ---- removing and banning --------------------------------------------------------------------


def test_a_removed_member_may_join_an_open_group_again(
    app, act, manager, member, groups, alerts_of, activities_of
):
    group_id = groups.create(manager)
    groups.add(group_id, member)

    page = act(manager, f"/groups/{group_id}/members/{member.id}/remove")
    assert "Mo Member was removed." in page.text
    assert state_of(app, group_id, member) == ("removed", "member")
    assert alerts_of(member)[-1][0] == "You were removed from the group Python learners."

    page = act(member, f"/groups/{group_id}/join")
    assert "Welcome to the group!" in page.text
    assert state_of(app, group_id, member) == ("active", "member")
    assert count_rows(app, Membership, Membership.user_id == member.id) == 1


def test_a_removed_member_asks_again_in_a_group_on_request(app, act, manager, member, groups):
    group_id = groups.create(manager, join_policy="request")
    groups.add(group_id, member)
    act(manager, f"/groups/{group_id}/members/{member.id}/remove")

    page = ask(act, member, group_id)

    assert "Your request is on its way" in page.text


def test_a_banned_member_cannot_rejoin_ask_or_be_invited(app, act, db, manager, member, groups):

    group_id = groups.create(manager)
    groups.add(group_id, member)
    page = act(manager, f"/groups/{group_id}/members/{member.id}/ban")
    assert "Mo Member is banned." in page.text

    page = act(member, f"/groups/{group_id}/join")
    assert "You are banned from this group" in page.text
    act(
        manager,
        f"/groups/{group_id}/edit",
        name="Python learners",
        join_policy="request",
        visibility="public",
        description="",
        topic="",
    )
    page = ask(act, member, group_id)
    assert "You are banned from this group." in page.text
    page = act(manager, f"/groups/{group_id}/invitations", member_id=str(member.id))
    assert "is banned from this group" in page.text
    assert state_of(app, group_id, member) == ("banned", "member")
    assert count_rows(app, JoinRequest) == 0
    assert (
        count_rows(app, Invitation, Invitation.user_id == member.id, Invitation.state == "pending")
        == 0
    )


def test_a_lifted_ban_lets_the_member_join_again(app, act, manager, member, groups):
    group_id = groups.create(manager)
    groups.add(group_id, member)
    act(manager, f"/groups/{group_id}/members/{member.id}/ban")
    manage = act(
        manager,
        f"/groups/{group_id}/members/{member.id}/lift-ban",
        back=f"/groups/{group_id}/manage",
    )
    assert "The ban of Mo Member is lifted." in manage.text
    assert "Nobody is banned." in manage.text

    page = act(member, f"/groups/{group_id}/join")

    assert "Welcome to the group!" in page.text


def test_a_member_who_left_can_still_be_banned(app, act, manager, member, groups):
    group_id = groups.create(manager)
    groups.add(group_id, member)
    act(member, f"/groups/{group_id}/leave")

    act(manager, f"/groups/{group_id}/members/{member.id}/ban")

    assert "You are banned" in act(member, f"/groups/{group_id}/join").text


def test_managers_cannot_be_removed_or_banned(app, act, manager, member, groups):
    group_id = groups.create(manager)
    groups.add(group_id, member)
    act(manager, f"/groups/{group_id}/members/{member.id}/appoint")

    for action in ("remove", "ban"):
        page = act(manager, f"/groups/{group_id}/members/{member.id}/{action}")
        assert "Mo Member is a manager: managers cannot be removed or banned" in page.text
    assert state_of(app, group_id, member) == ("active", "manager")


def test_a_manager_cannot_remove_themself(app, act, manager, groups):
    group_id = groups.create(manager)

    page = act(manager, f"/groups/{group_id}/members/{manager.id}/remove")

    assert "You cannot do this to yourself." in page.text


@pytest.mark.parametrize("action", ["remove", "ban", "appoint", "lift-ban"])
def test_only_managers_manage_members(app, client, manager, member, outsider, groups, action):
    group_id = groups.create(manager)
    groups.add(group_id, member, outsider)

    client.login(member)
    response = client.post(f"/groups/{group_id}/members/{outsider.id}/{action}")

    assert response.status_code == 403
    assert state_of(app, group_id, outsider) == ("active", "member")
    assert count_rows(app, ManagementAct, ManagementAct.manager_id == member.id) == 0


def test_a_member_not_in_the_group_is_not_found(client, manager, outsider, groups):
    group_id = groups.create(manager)
    client.login(manager)

    assert client.post(f"/groups/{group_id}/members/{outsider.id}/remove").status_code == 404


# ---- managers ------------------------------------------------------------------------------


def test_a_manager_appoints_another_who_is_told(
    app, act, client, manager, member, groups, alerts_of
):
    group_id = groups.create(manager)
    groups.add(group_id, member)

    page = act(manager, f"/groups/{group_id}/members/{member.id}/appoint")

    assert "Mo Member is a manager now." in page.text
    assert state_of(app, group_id, member) == ("active", "manager")
    assert stored(app, select(Group.manager_count)) == 2
    assert alerts_of(member)[-1][0] == "You are now a manager of Python learners."
    client.login(member)
    assert client.get(f"/groups/{group_id}/manage").status_code == 200


def test_the_last_manager_cannot_leave_or_step_down(app, act, manager, member, groups):
    group_id = groups.create(manager)
    groups.add(group_id, member)

    for path in ("leave", "step-down"):
        page = act(manager, f"/groups/{group_id}/{path}")
        assert (
            "A group needs a manager: appoint another manager before you step down or leave."
            in page.text
        )
    assert state_of(app, group_id, manager) == ("active", "manager")
    assert stored(app, select(Group.manager_count)) == 1


def test_a_manager_steps_down_once_another_manages(app, act, client, manager, member, groups):
    group_id = groups.create(manager)
    groups.add(group_id, member)
    act(manager, f"/groups/{group_id}/members/{member.id}/appoint")

    page = act(manager, f"/groups/{group_id}/step-down")

    assert "You are a member now, no longer a manager." in page.text
    assert state_of(app, group_id, manager) == ("active", "member")
    assert stored(app, select(Group.manager_count)) == 1
    assert client.get(f"/groups/{group_id}/manage").status_code == 403
    page = act(member, f"/groups/{group_id}/step-down")
    assert "A group needs a manager" in page.text


def test_a_manager_leaves_once_another_manages(app, act, manager, member, groups):
    group_id = groups.create(manager)
    groups.add(group_id, member)
    act(manager, f"/groups/{group_id}/members/{member.id}/appoint")

    page = act(manager, f"/groups/{group_id}/leave")

    assert "You left the group." in page.text
    assert state_of(app, group_id, manager) == ("left", "member")
    assert stored(app, select(Group.manager_count)) == 1


def test_the_database_refuses_a_group_without_a_manager(app, db, manager, groups):
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    group_id = groups.create(manager)

    with pytest.raises(IntegrityError):
        db.session.execute(update(Group).where(Group.id == group_id).values(manager_count=0))
    db.session.rollback()


def test_a_member_leaves_and_may_join_again(app, act, manager, member, groups):
    group_id = groups.create(manager)
    groups.add(group_id, member)

    page = act(member, f"/groups/{group_id}/leave")
    assert "You left the group." in page.text
    assert state_of(app, group_id, member) == ("left", "member")

    assert "Welcome to the group!" in act(member, f"/groups/{group_id}/join").text


# ---- announcements and the history ---------------------------------------------------------


def test_an_announcement_shows_on_the_group_page_and_alerts_the_members(
    app, act, manager, member, outsider, groups, alerts_of, activities_of
):
    group_id = groups.create(manager)
    groups.add(group_id, member)

    page = act(manager, f"/groups/{group_id}/announcements", body="Meetup on Thursday!")

    assert "The announcement is posted; the members are alerted." in page.text
    assert "Meetup on Thursday!" in page.text
    assert alerts_of(member)[-1] == (
        "Announcement in Python learners: “Meetup on Thursday!”",
        f"/groups/{group_id}#announcements",
    )
    assert alerts_of(outsider) == []
    assert not [message for message, _url in alerts_of(manager) if "Announcement" in message]
    assert managed_kinds(activities_of(manager)) == 2  # the invitation, the announcement


def test_only_managers_post_announcements(app, client, manager, member, groups):
    from plugins.groups.models import Announcement

    group_id = groups.create(manager)
    groups.add(group_id, member)
    client.login(member)

    response = client.post(f"/groups/{group_id}/announcements", data={"body": "I rule now"})

    assert response.status_code == 403
    assert count_rows(app, Announcement) == 0


def test_an_empty_announcement_is_refused(app, act, manager, groups):
    from plugins.groups.models import Announcement

    group_id = groups.create(manager)

    page = act(manager, f"/groups/{group_id}/announcements", body="  ")

    assert "Write the announcement first." in page.text
    assert count_rows(app, Announcement) == 0


def test_a_management_act_counts_once_a_day_per_member_and_all_stay_in_the_history(
    app, act, manager, member, groups, activities_of
):
    group_id = groups.create(manager)
    groups.add(group_id, member)  # invited: one act
    act(manager, f"/groups/{group_id}/members/{member.id}/remove")
    act(member, f"/groups/{group_id}/join")
    # the same act on the same member the same day: in the history, but no second activity,
    # or a loop of acts would be a way to mint credits
    act(manager, f"/groups/{group_id}/members/{member.id}/remove")

    managed = [key for kind, key, _undone in activities_of(manager) if kind == "groups.managed"]
    today = utcnow().strftime("%Y-%m-%d")

    assert count_rows(app, ManagementAct) == 3
    assert managed == [
        f"groups.managed:{group_id}:{manager.id}:invited:{member.id}:{today}",
        f"groups.managed:{group_id}:{manager.id}:removed:{member.id}:{today}",
    ]
    assert (
        stored(app, select(Activity.subject).where(Activity.kind == "groups.managed").limit(1))
        == f"groups.group:{group_id}"
    )


def test_managers_see_what_the_managers_did(client, manager, member, groups):
    group_id = groups.create(manager)
    groups.add(group_id, member)
    client.login(manager)
    client.post(f"/groups/{group_id}/members/{member.id}/ban")

    page = client.get(f"/groups/{group_id}/manage").text

    assert "Grace Manager</span>\n          banned Mo Member" in page
    assert "invited Mo Member" in page
