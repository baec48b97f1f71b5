"""A member ends their own account under My data: deactivate (and come back after logging
in), or ask for its deletion (cancelled by logging in within the grace period, else erased by
the ``core.erase_accounts`` job); after which the address registers again."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, text

from core.models import (
    AuditEntry,
    DataExport,
    LoginSession,
    Notification,
    OutboxMail,
    User,
)
from core.services.mail import send_mail
from core.services.staff import record_staff_act
from core.testing import TEST_PASSWORD, body_of, count_rows, run_job, stored

JOB = "core.erase_accounts"


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def deactivate(client, password=TEST_PASSWORD, **kwargs):
    return client.post("/me/data/deactivate", data={"password": password}, **kwargs)


def delete(client, password=TEST_PASSWORD, word="DELETE", **kwargs):
    return client.post("/me/data/delete", data={"password": password, "word": word}, **kwargs)


def log_in(client, email, password=TEST_PASSWORD, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def user(app, user_id) -> User:
    return stored(app, select(User).where(User.id == user_id))


# ---- deactivate --------------------------------------------------------------------------


def test_my_data_offers_to_deactivate_and_delete(client, create_user):
    ann = create_user()
    client.login(ann)
    shown = page(client.get("/me/data"))
    assert "Deactivate my account" in shown
    assert "Delete my account" in shown
    assert "Type DELETE to confirm" in shown
    assert "deleted after 7 days" in shown


def test_deactivating_hides_the_member_and_ends_every_session(app, client, create_user):
    ann = create_user(display_name="Ann Example", email="ann@example.org")
    bob = create_user()
    other_device = app.test_client()
    other_device.login(ann)
    client.login(ann)

    response = deactivate(client, follow_redirects=True)

    assert "Your account is deactivated." in page(response)
    assert user(app, ann.id).deactivated_at is not None
    assert count_rows(app, LoginSession, LoginSession.user_id == ann.id) == 0
    assert other_device.get("/me/data").status_code == 302  # logged out there too
    client.login(bob)
    assert client.get(f"/members/{ann.id}").status_code == 404  # gone for others
    # staff still find them, in their own state
    client.login(create_user(role="coordinator"))
    console = page(client.get(f"/admin/members/{ann.id}"))
    assert 'data-member-state="deactivated"' in console
    assert "Ann Example" in page(client.get("/admin/members?state=deactivated"))
    assert "Ann Example" not in page(client.get("/admin/members?state=active"))


def test_a_wrong_password_deactivates_nothing(app, client, create_user):
    ann = create_user()
    client.login(ann)

    response = deactivate(client, password="not my password", follow_redirects=True)

    assert "Your password is not correct." in page(response)
    assert user(app, ann.id).deactivated_at is None
    assert client.get("/me/data").status_code == 200  # still logged in
    # no password at all: refused by the form
    assert "This field is required." in page(deactivate(client, password="", follow_redirects=True))
    assert user(app, ann.id).deactivated_at is None


def test_visitors_are_sent_to_log_in_and_nothing_changes(app, client, create_user):
    ann = create_user()
    for path in ("/me/data/deactivate", "/me/data/delete", "/me/welcome-back"):
        response = client.post(path, data={"password": TEST_PASSWORD, "word": "DELETE"})
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    assert user(app, ann.id).deactivated_at is None


def test_a_deactivated_member_logs_in_and_chooses_to_come_back(app, client, create_user):
    ann = create_user(email="ann@example.org")
    client.login(ann)
    deactivate(client)

    response = log_in(client, "ann@example.org", follow_redirects=True)
    shown = page(response)
    assert "Your account is deactivated" in shown
    assert "Reactivate my account" in shown
    # nothing else opens until they choose, and nothing reactivates by itself
    assert client.get("/me/data").headers["Location"].endswith("/me/welcome-back")
    assert user(app, ann.id).deactivated_at is not None

    response = client.post("/me/welcome-back", follow_redirects=True)
    assert "Your account is active again" in page(response)
    assert user(app, ann.id).deactivated_at is None
    assert client.get("/me/data").status_code == 200
    # a second post (another tab) says so and changes nothing
    response = client.post("/me/welcome-back", follow_redirects=True)
    assert response.status_code == 200


def test_a_deactivated_member_may_log_out_and_stay_deactivated(app, client, create_user):
    ann = create_user(email="ann@example.org")
    client.login(ann)
    deactivate(client)
    log_in(client, "ann@example.org")

    client.post("/logout")

    assert user(app, ann.id).deactivated_at is not None
    assert client.get("/me/welcome-back").status_code == 302  # to the login page


def test_no_mail_is_queued_to_a_deactivated_member(app, client, db, create_user):
    ann = create_user(email="ann@example.org")
    bob = create_user(email="bob@example.org")
    client.login(ann)
    deactivate(client)

    db.session.expire_all()
    for member in (ann, bob):
        send_mail(member.email, "News", "mail/notification", user=member, message="Hi")
    db.session.commit()
    assert stored(app, select(OutboxMail.to_address)) == "bob@example.org"


def test_a_deactivated_member_still_gets_a_reset_or_a_login_link_to_come_back(
    app, client, mail, create_user
):
    """Their mail stops, but not what they ask for to come back: a password they forgot must
    not keep them out (nor let their deletion go ahead while they wanted to cancel it)."""
    ann = create_user(email="ann@example.org")
    client.login(ann)
    deactivate(client)
    client.post("/logout")
    mail.deliver()

    client.post("/reset", data={"email": "ann@example.org"})
    client.post("/login/link", data={"email": "ann@example.org"})

    delivered = mail.deliver()
    assert len(delivered) == 2, [message["Subject"] for message in delivered]
    assert {message["To"] for message in delivered} == {"ann@example.org"}


def test_a_suspended_members_profile_is_gone_for_members_not_for_staff(app, client, create_user):
    ann = create_user()
    coordinator = create_user(role="coordinator")
    bob = create_user()
    client.login(coordinator)
    client.post(f"/admin/members/{ann.id}/suspend", data={"reason": "spam"})

    client.login(bob)
    assert client.get(f"/members/{ann.id}").status_code == 404
    client.login(coordinator)
    assert client.get(f"/admin/members/{ann.id}").status_code == 200


# ---- delete ------------------------------------------------------------------------------


def test_deleting_asks_for_the_word_and_the_password(app, client, create_user):
    ann = create_user()
    client.login(ann)

    shown = page(delete(client, word="delete me", follow_redirects=True))
    assert "Type DELETE to confirm." in shown
    shown = page(delete(client, password="wrong password", follow_redirects=True))
    assert "Your password is not correct." in shown
    assert user(app, ann.id).deletion_due_at is None
    assert user(app, ann.id).deactivated_at is None


def test_a_deletion_is_mailed_and_cancelled_by_logging_in(app, client, mail, create_user):
    ann = create_user(email="ann@example.org", display_name="Ann", timezone="Asia/Tokyo")
    client.login(ann)
    # a whole hour ahead: the clock the test moves to cannot be before the login
    now = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)

    with time_machine.travel(now, tick=False):
        shown = page(delete(client, word="delete", follow_redirects=True))  # any case
        (message,) = mail.deliver()

    # on Ann's clock (Tokyo, 9 hours ahead), though she is logged out when it is said
    due = now + timedelta(days=7, hours=9)
    when = f"{due:%b} {due.day}, {due.year}, {due.hour % 12 or 12}:00"
    assert f"Your account will be deleted on {when}" in shown
    stored_ann = user(app, ann.id)
    assert stored_ann.deactivated_at is not None
    assert stored_ann.deletion_due_at == now + timedelta(days=7)
    assert message["To"] == "ann@example.org"
    assert message["Subject"] == "Your account will be deleted"
    assert "Log in before then and cancel the deletion" in body_of(message)

    # within the grace period the job leaves it, and logging in offers to cancel
    with time_machine.travel(now + timedelta(days=6)):
        run_job(app, JOB)
        assert user(app, ann.id).erased_at is None
        shown = page(log_in(client, "ann@example.org", follow_redirects=True))
        assert "Your account will be deleted on" in shown
        assert "Cancel the deletion" in shown
        shown = page(client.post("/me/welcome-back", follow_redirects=True))
    assert "The deletion is cancelled" in shown
    cancelled = user(app, ann.id)
    assert (cancelled.deletion_due_at, cancelled.deactivated_at) == (None, None)
    with time_machine.travel(now + timedelta(days=8)):
        run_job(app, JOB)
    assert user(app, ann.id).erased_at is None


def test_the_job_erases_a_due_account_and_the_address_registers_again(
    app, client, db, mail, create_user
):
    ann = create_user(email="ann@example.org", display_name="Ann Erasable", bio="I knit socks.")
    bob = create_user(email="bob@example.org", display_name="Bob")
    coordinator = create_user(role="coordinator", email="coord@example.org")
    client.login(coordinator)
    client.post(f"/admin/members/{ann.id}/suspend", data={"reason": "a test"})
    client.post(f"/admin/members/{ann.id}/unsuspend", data={"reason": "a test"})
    client.login(ann)
    client.post("/me/data/export")
    run_job(app, "core.build_data_exports")
    exports = Path(app.instance_path) / "exports"
    assert list(exports.glob("*.zip"))
    db.session.add(Notification(user_id=bob.id, message="Ann Erasable wrote to you"))
    db.session.commit()
    now = datetime.now(UTC)
    delete(client)
    mail.deliver()

    with time_machine.travel(now + timedelta(days=7, minutes=1)):
        run_job(app, JOB)

    erased = user(app, ann.id)
    assert erased.erased_at is not None
    assert erased.email == f"erased-{ann.id}@erased.invalid"
    assert (erased.display_name, erased.bio, erased.photo) == ("former member", "", None)
    assert count_rows(app, DataExport) == 0
    assert not list(exports.glob("*.zip"))
    assert count_rows(app, Notification, Notification.user_id == ann.id) == 0
    assert stored(app, select(Notification.message).where(Notification.user_id == bob.id)) == (
        "former member wrote to you"
    )
    assert count_rows(app, OutboxMail, OutboxMail.to_address == "ann@example.org") == 0
    # the audit log keeps the acts, by id, without the address
    labels = db.session.execute(
        select(AuditEntry.target_id, AuditEntry.target_label).where(AuditEntry.target_id == ann.id)
    ).all()
    assert labels == [(ann.id, "former member"), (ann.id, "former member")]
    client.login(coordinator)
    assert 'data-member-state="erased"' in page(client.get(f"/admin/members/{ann.id}"))
    # the erased account cannot log in, and its profile is gone
    client.logout()
    assert log_in(client, "ann@example.org").status_code == 401
    client.login(bob)
    assert client.get(f"/members/{ann.id}").status_code == 404

    # the address is free: a new account, a stranger to the old one
    client.logout()
    client.post(
        "/register",
        data={
            "email": "ann@example.org",
            "password": "a brand new password",
            "display_name": "Ann Again",
        },
    )
    (confirmation,) = mail.deliver()
    assert confirmation["Subject"] == "Confirm your e-mail address"
    assert stored(app, select(User.display_name).where(User.email == "ann@example.org")) == (
        "Ann Again"
    )


def test_a_grace_of_zero_days_erases_at_the_next_run(make_app, create_user):
    app = make_app(ACCOUNT_DELETION_GRACE_DAYS=0)
    client = app.test_client()
    ann = create_user(email="ann@example.org")
    client.login(ann)
    assert "deleted within the hour" in page(client.get("/me/data"))

    delete(client)
    run_job(app, JOB)

    assert user(app, ann.id).erased_at is not None


def test_the_audit_log_refuses_any_other_change(app, db, create_user):
    ann = create_user()
    record_staff_act(None, "member.suspended", ann, "a test")
    db.session.commit()
    for statement in (
        "UPDATE core_audit_log SET reason = 'changed'",
        "UPDATE core_audit_log SET target_label = 'someone else'",
        "UPDATE core_audit_log SET target_label = 'former member', reason = 'changed'",
        "DELETE FROM core_audit_log",
    ):
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    db.session.execute(text("UPDATE core_audit_log SET target_label = 'former member'"))
    db.session.commit()
    assert stored(app, select(AuditEntry.target_label)) == "former member"
