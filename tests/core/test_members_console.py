"""The console's Members section (/admin/members): finding members, and suspending,
unsuspending and resending the confirmation mail, each with a reason in the audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from core.models import AuditEntry, User
from core.testing import TEST_PASSWORD, body_of, path_of, stored

REFUSED = "This account cannot log in at the moment."


def listed(page: str) -> list[tuple[str, str]]:
    """(name, state) of each member the list shows, in order."""
    return re.findall(
        r'<a class="fw-semibold text-break" href="/admin/members/\d+">([^<]*)</a>\s*'
        r'<span class="badge[^"]*" data-member-state="(\w+)"',
        page,
    )


def acts_logged(app, member: User) -> list[tuple[str, str]]:
    return [
        tuple(row)
        for row in stored_all(
            app,
            select(AuditEntry.act, AuditEntry.reason)
            .where(AuditEntry.target_id == member.id)
            .order_by(AuditEntry.id),
        )
    ]


def stored_all(app, statement):
    from core.db import db

    with app.app_context():
        try:
            return db.session.execute(statement).all()
        finally:
            db.session.remove()


def log_in(client, email: str):
    return client.post(
        "/login", data={"email": email, "password": TEST_PASSWORD}, follow_redirects=True
    )


@pytest.fixture
def coordinator(create_user):
    return create_user(display_name="Coco Ordinator", email="coco@example.org", role="coordinator")


def suspend(client, member: User, reason: str = "spam in the forum", until: str = ""):
    return client.post(
        f"/admin/members/{member.id}/suspend",
        data={"reason": reason, "until": until},
        follow_redirects=True,
    )


# ---- finding members --------------------------------------------------------------------------


def test_members_are_listed_newest_first_and_found_by_name_or_address(
    client, db, create_user, coordinator
):
    create_user(display_name="Ada Lovelace", email="ada@example.org")
    create_user(display_name="Alan Turing", email="turing@maths.example", confirmed=False)
    grace = create_user(display_name="Grace Hopper", email="grace@navy.example")
    grace.suspended_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()
    client.login(coordinator)

    assert listed(client.get("/admin/members").text) == [
        ("Grace Hopper", "suspended"),
        ("Alan Turing", "unconfirmed"),
        ("Ada Lovelace", "active"),
        ("Coco Ordinator", "active"),
    ]
    assert listed(client.get("/admin/members?q=LOVE").text) == [("Ada Lovelace", "active")]
    assert listed(client.get("/admin/members?q=maths.example").text) == [
        ("Alan Turing", "unconfirmed")
    ]
    assert listed(client.get("/admin/members?state=unconfirmed").text) == [
        ("Alan Turing", "unconfirmed")
    ]
    assert listed(client.get("/admin/members?state=suspended").text) == [
        ("Grace Hopper", "suspended")
    ]
    assert [name for name, _ in listed(client.get("/admin/members?state=active").text)] == [
        "Ada Lovelace",
        "Coco Ordinator",
    ]
    page = client.get("/admin/members?q=nobody").text
    assert "No member matches." in page and 'href="/admin/members">Every member' in page


def test_the_members_list_is_paginated(client, create_user, coordinator, monkeypatch):
    monkeypatch.setattr("core.views.admin.MEMBERS_PAGE_SIZE", 2)
    for name in ("First", "Second", "Third"):
        create_user(display_name=name)
    client.login(coordinator)

    first = client.get("/admin/members?state=active").text
    assert [name for name, _ in listed(first)] == ["Third", "Second"]
    assert 'href="/admin/members?page=2&amp;state=active"' in first
    second = client.get("/admin/members?page=2&state=active").text
    assert [name for name, _ in listed(second)] == ["First", "Coco Ordinator"]


def test_the_console_lists_the_members_section_for_coordinators(client, coordinator):
    client.login(coordinator)
    page = client.get("/admin/").text
    assert 'href="/admin/members"' in page
    assert page.index("Members") < page.index("Audit log")


def test_a_members_page_shows_their_state_and_what_staff_did(client, create_user, coordinator):
    member = create_user(display_name="Ada", confirmed=False)
    client.login(coordinator)

    page = client.get(f"/admin/members/{member.id}").text
    assert "Staff have not acted on this member." in page
    assert 'data-member-state="unconfirmed"' in page

    client.post(f"/admin/members/{member.id}/confirmation", data={"reason": "lost the mail"})
    page = client.get(f"/admin/members/{member.id}").text
    assert "member.confirmation_resent" in page and "Reason: lost the mail" in page
    assert "By coco@example.org" in page
    assert client.get("/admin/members/99999").status_code == 404


# ---- suspending -------------------------------------------------------------------------------


def test_suspending_asks_first_and_refuses_the_login_neutrally(
    app, client, create_user, coordinator
):
    member = create_user(display_name="Sam", email="sam@example.org")
    other_device = app.test_client()
    other_device.login(member)
    assert other_device.get("/alerts/").status_code == 200
    client.login(coordinator)

    confirmation = client.get(f"/admin/members/{member.id}/suspend").text
    assert "Suspend Sam?" in confirmation and "logged out everywhere" in confirmation

    page = suspend(client, member, until="").text

    assert "The member is suspended" in page and 'data-member-state="suspended"' in page
    assert "until lifted" in page
    assert acts_logged(app, member) == [("member.suspended", "spam in the forum")]
    # the session they had open is over
    assert other_device.get("/alerts/").location.startswith("/login")
    # and the login says nothing of why, even with the right password
    visitor = app.test_client()
    refused = log_in(visitor, "sam@example.org").text
    assert REFUSED in refused
    assert "suspend" not in refused.lower()
    assert visitor.get("/alerts/").location.startswith("/login")


@pytest.mark.parametrize("reason", ["", "   "])
def test_every_act_needs_a_reason(app, client, create_user, coordinator, mail, reason):
    member = create_user(confirmed=False)
    client.login(coordinator)

    page = suspend(client, member, reason=reason).text
    client.post(f"/admin/members/{member.id}/confirmation", data={"reason": reason})

    assert "Give a reason: it is kept in the audit log." in page
    assert stored(app, select(User.suspended_at).where(User.id == member.id)) is None
    assert acts_logged(app, member) == []
    assert mail.deliver() == []


def test_a_coordinator_cannot_suspend_an_admin_nor_themselves(
    app, client, create_user, coordinator
):
    admin = create_user(role="admin")
    client.login(coordinator)

    for target in (admin, coordinator):
        assert client.get(f"/admin/members/{target.id}/suspend").status_code == 403
        assert suspend(client, target).status_code == 403
        assert "Suspend…" not in client.get(f"/admin/members/{target.id}").text
        assert acts_logged(app, target) == []

    # an admin may suspend a coordinator
    client.login(admin)
    suspend(client, coordinator)
    assert acts_logged(app, coordinator) == [("member.suspended", "spam in the forum")]


def test_a_suspension_is_not_suspended_again(app, client, create_user, coordinator):
    member = create_user(display_name="Sam")
    client.login(coordinator)
    suspend(client, member)

    page = suspend(client, member, reason="again").text

    assert "Sam is suspended already." in page
    assert [act for act, _ in acts_logged(app, member)] == ["member.suspended"]


def test_a_suspension_ends_at_the_start_of_its_last_day_where_the_coordinator_lives(
    app, client, create_user
):
    coordinator = create_user(email="coco@example.org", role="coordinator", timezone="Asia/Tokyo")
    member = create_user(display_name="Sam", email="sam@example.org")
    # Tokyo is UTC+9: 10 March starts there at 15:00 UTC on 9 March
    with time_machine.travel(datetime(2027, 3, 1, 9, tzinfo=UTC), tick=False) as clock:
        client.login(coordinator)
        assert "The end of a suspension is a day after today." in (
            suspend(client, member, until="2027-03-01").text
        )
        page = suspend(client, member, until="2027-03-10").text
        assert "The member is suspended" in page
        assert "until Mar 10, 2027, 12:00" in page  # midnight in Tokyo

        visitor = app.test_client()
        clock.move_to(datetime(2027, 3, 9, 14, 59, tzinfo=UTC))
        assert REFUSED in log_in(visitor, "sam@example.org").text
        assert 'data-member-state="suspended"' in client.get(f"/admin/members/{member.id}").text

        clock.move_to(datetime(2027, 3, 9, 15, 0, 1, tzinfo=UTC))
        assert REFUSED not in log_in(visitor, "sam@example.org").text
        assert visitor.get("/alerts/").status_code == 200
        assert 'data-member-state="active"' in client.get(f"/admin/members/{member.id}").text


def test_unsuspending_lets_the_member_log_in_again(app, client, create_user, coordinator):
    member = create_user(display_name="Sam", email="sam@example.org")
    client.login(coordinator)
    suspend(client, member)

    page = client.post(
        f"/admin/members/{member.id}/unsuspend",
        data={"reason": "cleared up with them"},
        follow_redirects=True,
    ).text

    assert "The suspension is lifted" in page and 'data-member-state="active"' in page
    assert acts_logged(app, member) == [
        ("member.suspended", "spam in the forum"),
        ("member.unsuspended", "cleared up with them"),
    ]
    visitor = app.test_client()
    log_in(visitor, "sam@example.org")
    assert visitor.get("/alerts/").status_code == 200
    # lifting twice is refused, and logs nothing
    again = client.post(
        f"/admin/members/{member.id}/unsuspend", data={"reason": "again"}, follow_redirects=True
    ).text
    assert "Sam is not suspended." in again
    assert len(acts_logged(app, member)) == 2


# ---- the confirmation mail --------------------------------------------------------------------


def test_the_confirmation_mail_is_sent_again_and_works(app, client, create_user, coordinator, mail):
    member = create_user(display_name="Ada", email="ada@example.org", confirmed=False)
    client.login(coordinator)

    page = client.post(
        f"/admin/members/{member.id}/confirmation",
        data={"reason": "asked on the phone"},
        follow_redirects=True,
    ).text

    assert "The confirmation mail is sent again." in page
    [message] = mail.deliver()
    assert message["To"] == "ada@example.org"
    link = re.search(r"http://\S+", body_of(message)).group(0)
    app.test_client().get(path_of(link))
    assert stored(app, select(User.email_confirmed_at).where(User.id == member.id)) is not None
    assert acts_logged(app, member) == [("member.confirmation_resent", "asked on the phone")]

    # a confirmed member gets none
    again = client.post(
        f"/admin/members/{member.id}/confirmation", data={"reason": "again"}, follow_redirects=True
    ).text
    assert "Ada confirmed their e-mail address already." in again
    assert mail.deliver() == []
