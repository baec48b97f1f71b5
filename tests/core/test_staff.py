"""Staff roles, the console's frame at /admin/ and the append-only audit log of staff acts."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import MetaData, exc, text

from core.db import clock_set_to
from core.db import db as database
from core.errors import InvalidInput, NotAllowed
from core.models import AuditEntry, User
from core.schema import alembic_config, pending_heads, schema_parts, upgrade
from core.services.staff import grant_role, has_role, record_staff_act, revoke_role
from core.testing import count_rows

# ---- the migration from is_admin to roles --------------------------------------------------


def core_at(app, revision: str) -> None:
    with app.app_context():
        command.upgrade(alembic_config(app, schema_parts(app)[0]), revision)


def test_the_upgrade_turns_todays_admins_into_admins(app_on_empty_database):
    app = app_on_empty_database()
    core_at(app, "core_0007")
    with app.app_context(), database.engine.begin() as connection:
        users = MetaData()
        users.reflect(connection, only=["users"])
        for email, is_admin in (("boss@example.org", True), ("ann@example.org", False)):
            connection.execute(
                users.tables["users"]
                .insert()
                .values(
                    email=email,
                    password_hash="x",
                    display_name=email,
                    bio="",
                    timezone="UTC",
                    is_admin=is_admin,
                    created_at=datetime(2026, 11, 1, tzinfo=UTC),
                )
            )

    upgrade(app)

    with app.app_context():
        roles = dict(database.session.execute(text("SELECT email, role FROM users")).all())
        assert roles == {"boss@example.org": "admin", "ann@example.org": None}
        with pytest.raises(exc.IntegrityError):  # the database knows the roles
            database.session.execute(text("UPDATE users SET role = 'owner'"))
        database.session.rollback()
    assert pending_heads(app) == set()

    core_at(app, "core_0008")  # and back: admins are administrators again
    with app.app_context():
        command.downgrade(alembic_config(app, schema_parts(app)[0]), "core_0007")
        admins = database.session.execute(text("SELECT email FROM users WHERE is_admin"))
        assert admins.scalars().all() == ["boss@example.org"]
        database.session.remove()


# ---- the audit log is append-only -----------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE core_audit_log SET reason = 'nothing happened'",
        "DELETE FROM core_audit_log",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_audit_entry(db, create_user, statement):
    coordinator, member = create_user(role="coordinator"), create_user()
    record_staff_act(coordinator, "member.suspended", member, "spam")
    db.session.commit()

    with pytest.raises(exc.DatabaseError, match="append-only"):
        db.session.execute(text(statement))
        db.session.commit()
    db.session.rollback()

    assert db.session.scalars(text("SELECT reason FROM core_audit_log")).all() == ["spam"]


def test_a_staff_act_is_recorded_with_who_why_and_from_where(app, create_user):
    coordinator = create_user(email="coco@example.org", role="coordinator")
    member = create_user(email="mo@example.org")
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        record_staff_act(coordinator, "member.suspended", member, "  spam, twice  ")
        record_staff_act(coordinator, "wiki.article_hidden", ("article", 12, "Rules"), "rude")
        database.session.commit()
        rows = database.session.execute(
            text(
                "SELECT actor_id, actor_label, actor_role, act, target_kind, target_id,"
                " target_label, reason, client_address FROM core_audit_log ORDER BY id"
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        (coordinator.id, "coco@example.org", "coordinator", "member.suspended", "member",
         member.id, "mo@example.org", "spam, twice", "203.0.113.9"),
        (coordinator.id, "coco@example.org", "coordinator", "wiki.article_hidden", "article",
         12, "Rules", "rude", "203.0.113.9"),
    ]  # fmt: skip


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_staff_act_without_a_reason_is_refused(db, create_user, reason):
    coordinator, member = create_user(role="coordinator"), create_user()

    with pytest.raises(InvalidInput, match="Give a reason"):
        record_staff_act(coordinator, "member.suspended", member, reason)

    assert db.session.scalars(text("SELECT count(*) FROM core_audit_log")).one() == 0


# ---- roles ------------------------------------------------------------------------------------


def test_an_admin_holds_every_right_of_a_coordinator(db, create_user):
    admin, coordinator, member = (
        create_user(role="admin"),
        create_user(role="coordinator"),
        create_user(),
    )
    assert [has_role(admin, "coordinator"), has_role(admin, "admin")] == [True, True]
    assert [has_role(coordinator, "coordinator"), has_role(coordinator, "admin")] == [True, False]
    assert [has_role(member, "coordinator"), has_role(member, "admin")] == [False, False]
    assert [admin.is_staff, coordinator.is_staff, member.is_staff] == [True, True, False]


def test_an_admin_gives_and_takes_roles_and_the_log_says_so(db, create_user):
    admin, member = create_user(role="admin"), create_user(email="ann@example.org")

    grant_role("ann@example.org", "coordinator", "helps with matching", actor=admin)
    revoke_role("ann@example.org", "back to mentoring", actor=admin)
    db.session.commit()

    assert db.session.get(User, member.id).role is None
    acts = db.session.execute(text("SELECT actor_id, act, reason FROM core_audit_log ORDER BY id"))
    assert [tuple(row) for row in acts] == [
        (admin.id, "role.granted.coordinator", "helps with matching"),
        (admin.id, "role.revoked.coordinator", "back to mentoring"),
    ]


def test_staff_cannot_change_their_own_role_nor_a_coordinator_anyones(app, db, create_user):
    admin = create_user(email="admin@example.org", role="admin")
    coordinator = create_user(email="coco@example.org", role="coordinator")

    with pytest.raises(NotAllowed, match="their own role"):
        revoke_role("admin@example.org", "stepping down", actor=admin)
    with pytest.raises(NotAllowed, match="Only an admin"):
        grant_role("coco@example.org", "admin", "promotion", actor=coordinator)

    assert (admin.role, coordinator.role) == ("admin", "coordinator")
    assert count_rows(app, AuditEntry) == 0


# ---- the console: who may open it -----------------------------------------------------------


def console_rules(app) -> list[str]:
    """Every page of the console core draws (a GET rule under /admin)."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin") and "GET" in rule.methods
    )


def report_of(db, member):
    """A member's report of ``member``'s profile, waiting in the console's queue."""
    from core.models import Report

    report = Report(
        reporter_id=member.id,
        kind="core.profile",
        item_id=member.id,
        reason="spam",
        snapshot_title="a profile",
        snapshot_text="",
        snapshot_url=f"/members/{member.id}",
        author_id=member.id,
    )
    db.session.add(report)
    db.session.commit()
    return report


def test_every_console_page_is_refused_to_visitors_and_members(app, client, db, create_user):
    from core.services.webhooks import add_endpoint

    rules = console_rules(app)
    assert rules == [
        "/admin/",
        "/admin/audit",
        "/admin/audit.csv",
        "/admin/members",
        "/admin/members/<int:member_id>",
        "/admin/members/<int:member_id>/suspend",
        "/admin/reports",
        "/admin/reports/<int:report_id>",
        "/admin/reports/<int:report_id>/suspend",
        "/admin/statistics",
        "/admin/statistics.csv",
        "/admin/system",
        "/admin/webhooks/",
        "/admin/webhooks/<int:endpoint_id>",
        "/admin/webhooks/<int:endpoint_id>/edit",
        "/admin/webhooks/new",
    ]
    admins_only = {"/admin/system", *(rule for rule in rules if "/webhooks/" in rule)}
    # a page of one member: of a member no staff outranks, so every role may open it
    shown = create_user(bio="a profile")
    member_id = str(shown.id)
    report_id = str(report_of(db, shown).id)
    endpoint_id = str(add_endpoint("https://crm.example.org/", ["member.registered"]).id)
    db.session.commit()
    urls = [
        rule.replace("<int:member_id>", member_id)
        .replace("<int:report_id>", report_id)
        .replace("<int:endpoint_id>", endpoint_id)
        for rule in rules
    ]
    admins_only = {url for url, rule in zip(urls, rules, strict=True) if rule in admins_only}

    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.location.startswith("/login"), url

    client.login(create_user())
    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 403)

    client.login(create_user(role="coordinator"))
    assert {url: client.get(url).status_code for url in urls} == {
        url: 403 if url in admins_only else 200 for url in urls
    }

    client.login(create_user(role="admin"))
    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 200)


def test_only_staff_see_the_console_in_the_navigation(client, create_user):
    client.login(create_user())
    assert 'href="/admin/"' not in client.get("/me", follow_redirects=True).text

    client.login(create_user(role="coordinator"))
    page = client.get("/me", follow_redirects=True).text
    assert 'href="/admin/">Console</a>' in page

    console = client.get("/admin/").text
    assert "You are a coordinator" in console
    assert 'href="/admin/audit"' in console

    client.login(create_user(role="admin"))
    assert "You are an admin" in client.get("/admin/").text


# ---- the audit log's pages ---------------------------------------------------------------------


def test_the_audit_log_says_when_there_is_nothing_yet(client, create_user):
    client.login(create_user(role="coordinator"))
    page = client.get("/admin/audit").text
    assert "No staff acts yet." in page
    assert "audit-entry" not in page


def acts_on(page: str) -> list[tuple[str, str]]:
    """(act, target) of each entry the page lists, in order."""
    return re.findall(r"<span><code>([^<]*)</code> · ([^<]*) <span", page)


@pytest.fixture
def logged_acts(db, create_user):
    """Three acts, a minute apart: two by Coco on Mo and Ann, then one by Ada on Mo."""
    coco = create_user(email="coco@example.org", role="coordinator")
    ada = create_user(email="ada@example.org", role="admin")
    mo, ann = create_user(email="mo@example.org"), create_user(email="ann@example.org")
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    for minutes, (actor, act, target, reason) in enumerate(
        [
            (coco, "member.suspended", mo, "spam"),
            (coco, "member.warned", ann, '=HYPERLINK("http://evil")'),
            (ada, "member.unsuspended", mo, "appeal accepted"),
        ]
    ):
        with clock_set_to(start + timedelta(minutes=minutes)):
            record_staff_act(actor, act, target, reason)
    db.session.commit()
    return coco


def test_the_audit_log_lists_newest_first_and_filters(client, logged_acts):
    client.login(logged_acts)

    everything = client.get("/admin/audit").text
    assert [act for act, _ in acts_on(everything)] == [
        "member.unsuspended",
        "member.warned",
        "member.suspended",
    ]
    assert "Reason: appeal accepted" in everything

    by_act = client.get("/admin/audit?act=member.suspended").text
    assert acts_on(by_act) == [("member.suspended", "mo@example.org")]
    by_actor = client.get("/admin/audit?actor=ADA@").text
    assert acts_on(by_actor) == [("member.unsuspended", "mo@example.org")]
    by_target = client.get("/admin/audit?target=mo@").text
    assert [act for act, _ in acts_on(by_target)] == ["member.unsuspended", "member.suspended"]
    assert "No staff act matches." in client.get("/admin/audit?target=nobody").text


def test_the_audit_log_is_paginated(client, db, create_user, monkeypatch):
    monkeypatch.setattr("core.views.admin.AUDIT_PAGE_SIZE", 2)
    coordinator, member = create_user(role="coordinator"), create_user()
    for number in range(3):
        record_staff_act(coordinator, f"member.act{number}", member, "why")
    db.session.commit()
    client.login(coordinator)

    first = client.get("/admin/audit").text
    assert [act for act, _ in acts_on(first)] == ["member.act2", "member.act1"]
    assert 'href="/admin/audit?page=2' in first
    second = client.get("/admin/audit?page=2").text
    assert [act for act, _ in acts_on(second)] == ["member.act0"]


def test_the_audit_log_downloads_as_csv_with_the_same_filters(client, logged_acts):
    client.login(logged_acts)

    response = client.get("/admin/audit.csv?actor=coco")

    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(row["act"], row["target"], row["actor_role"]) for row in rows] == [
        ("member.warned", "ann@example.org", "coordinator"),
        ("member.suspended", "mo@example.org", "coordinator"),
    ]
    assert rows[0]["when"] == "2026-12-01T09:01:00+00:00"
    # a spreadsheet would run it as a formula: it is kept as text
    assert rows[0]["reason"] == '\'=HYPERLINK("http://evil")'
