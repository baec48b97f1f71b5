"""Certificates in the staff's console (admins only): find one, revoke it with a reason,
reissue a revoked one as a new certificate; each act is one row of the audit log."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.models import AuditEntry
from core.testing import count_rows, stored
from plugins.certificates.models import Certificate


@pytest.fixture
def issued(app, pair, complete_goal, run_render_job):
    """Ada and Bob finished; their certificates are rendered. Bob's number."""
    complete_goal(*pair)
    run_render_job()
    return stored(app, select(Certificate.number).where(Certificate.holder_name == "Bob Smith"))


@pytest.fixture
def admin(create_user):
    return create_user(email="root@example.org", display_name="Root", role="admin")


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.text)


def audit(app) -> list[tuple[str, str, str, str]]:
    with app.app_context():
        from core.db import db

        rows = db.session.execute(
            select(
                AuditEntry.act, AuditEntry.actor_label, AuditEntry.target_label, AuditEntry.reason
            ).order_by(AuditEntry.id)
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def test_an_admin_finds_and_revokes_a_certificate(app, client, pair, issued, admin):
    _, bob = pair
    client.login(admin)
    listing = text(client.get("/admin/certificates/"))
    assert issued in listing and "Bob Smith" in listing
    assert issued in text(client.get("/admin/certificates/?q=bob"))
    assert "No certificate matches." in text(client.get("/admin/certificates/?q=nobody"))
    assert 'href="/admin/certificates/"' in client.get("/admin/").text

    page = text(client.get(f"/admin/certificates/{issued}"))
    assert "Revoke certificate " + issued in page

    done = client.post(
        f"/admin/certificates/{issued}/revoke",
        data={"reason": "The mentorship never took place"},
        follow_redirects=True,
    )

    assert "The certificate is revoked." in text(done)
    assert "Reason: The mentorship never took place" in text(done)
    verify = text(client.get(f"/certificates/verify/{issued}"))
    assert "This certificate was revoked" in verify
    assert audit(app) == [
        (
            "certificates.revoked",
            "root@example.org",
            f"{issued} ({bob.email})",
            "The mentorship never took place",
        )
    ]
    client.login(bob)
    assert "was revoked: The mentorship never took place" in text(client.get("/alerts/"))

    # twice (a double click): refused, nothing more in the log
    client.login(admin)
    again = client.post(
        f"/admin/certificates/{issued}/revoke", data={"reason": "again"}, follow_redirects=True
    )
    assert "revoked already" in text(again)
    assert len(audit(app)) == 1


def test_a_revocation_without_a_reason_changes_nothing(app, client, issued, admin):
    client.login(admin)
    answer = client.post(
        f"/admin/certificates/{issued}/revoke", data={"reason": "  "}, follow_redirects=True
    )
    assert "Give a reason" in text(answer)
    assert "This certificate was revoked" not in client.get(f"/certificates/verify/{issued}").text
    assert count_rows(app, AuditEntry) == 0


def test_a_revoked_certificate_is_reissued_once_under_a_new_number(
    app, client, db, pair, issued, admin, run_render_job
):
    _, bob = pair
    client.login(admin)
    early = client.post(
        f"/admin/certificates/{issued}/reissue", data={"reason": "Name"}, follow_redirects=True
    )
    assert "revoke it first" in text(early)

    client.post(f"/admin/certificates/{issued}/revoke", data={"reason": "Name misspelt"})
    bob.display_name = "Bob Smyth"
    db.session.commit()
    done = client.post(
        f"/admin/certificates/{issued}/reissue",
        data={"reason": "Name corrected"},
        follow_redirects=True,
    )
    assert "The certificate is reissued" in text(done)

    new = stored(app, select(Certificate).where(Certificate.reissued_from_id.is_not(None)))
    assert new.number != issued and new.holder_name == "Bob Smyth"
    assert new.status == "pending" and new.achievement == "Finished the probe course"
    assert f'data-reissue="{new.number}"' in done.text
    run_render_job()

    genuine = text(client.get(f"/certificates/verify/{new.number}"))
    assert "Genuine certificate" in genuine and "Bob Smyth" in genuine
    old = text(client.get(f"/certificates/verify/{issued}"))
    assert "This certificate was revoked" in old
    assert "was issued in its place" in old
    assert [row[0] for row in audit(app)] == ["certificates.revoked", "certificates.reissued"]

    twice = client.post(
        f"/admin/certificates/{issued}/reissue", data={"reason": "again"}, follow_redirects=True
    )
    assert "reissued already" in text(twice)
    assert count_rows(app, Certificate, Certificate.user_id == bob.id) == 2

    client.login(bob)
    area = text(client.get(f"/members/{bob.id}/mentoring"))
    assert f'href="/certificates/{new.number}.pdf"' in area
    assert f'href="/certificates/{issued}.pdf"' not in area
    assert "Your certificate " + issued + " was reissued as " + new.number in text(
        client.get("/alerts/")
    )


def test_an_admin_can_neither_revoke_nor_reissue_their_own_certificate(
    app, client, db, pair, issued, admin
):
    _, bob = pair
    bob.role = "admin"  # Bob, who holds the certificate, is an admin too
    db.session.commit()
    client.login(bob)
    page = text(client.get(f"/admin/certificates/{issued}"))
    assert "This is your own certificate: another admin revokes or reissues it." in page
    assert f'action="/admin/certificates/{issued}/revoke"' not in page
    refused = client.post(f"/admin/certificates/{issued}/revoke", data={"reason": "Mine"})
    assert refused.status_code == 403
    assert "Staff cannot revoke their own certificate." in html.unescape(refused.text)
    assert "This certificate was revoked" not in client.get(f"/certificates/verify/{issued}").text

    client.login(admin)
    client.post(f"/admin/certificates/{issued}/revoke", data={"reason": "Name misspelt"})
    client.login(bob)
    refused = client.post(f"/admin/certificates/{issued}/reissue", data={"reason": "Mine"})
    assert refused.status_code == 403
    assert "Staff cannot reissue their own certificate." in html.unescape(refused.text)
    assert count_rows(app, Certificate, Certificate.user_id == bob.id) == 1
    assert [row[0] for row in audit(app)] == ["certificates.revoked"]


def test_the_database_keeps_one_standing_certificate_and_one_reissue(db, pair, issued):
    original = db.session.scalar(select(Certificate).where(Certificate.number == issued))
    fields = {
        column: getattr(original, column)
        for column in (
            "goal_id",
            "user_id",
            "holder_name",
            "goal_kind",
            "achievement",
            "goal_title",
            "completed_on",
            "facts",
        )
    } | {"status": "pending"}
    db.session.add(Certificate(number="ALMA-2222-2222-2222", **fields))
    with pytest.raises(IntegrityError):  # the first still stands
        db.session.flush()
    db.session.rollback()

    original = db.session.scalar(select(Certificate).where(Certificate.number == issued))
    from core.db import utcnow

    original.revoked_at, original.revoke_reason = utcnow(), "test"
    db.session.add(
        Certificate(number="ALMA-2222-2222-2222", reissued_from_id=original.id, **fields)
    )
    db.session.commit()
    original = db.session.scalar(select(Certificate).where(Certificate.number == issued))
    db.session.add(
        Certificate(
            number="ALMA-3333-3333-3333",
            reissued_from_id=original.id,
            **fields | {"goal_id": None},
        )
    )
    with pytest.raises(IntegrityError):  # reissued once
        db.session.flush()
    db.session.rollback()


def test_only_admins_act_on_certificates(app, client, create_user, issued):
    pages = ["/admin/certificates/", f"/admin/certificates/{issued}"]
    acts = [f"/admin/certificates/{issued}/revoke", f"/admin/certificates/{issued}/reissue"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and response.location.startswith("/login"), url
    for url in acts:
        response = client.post(url, data={"reason": "x"})
        assert response.status_code == 302 and response.location.startswith("/login"), url
    for role in (None, "coordinator"):
        client.login(create_user(role=role))
        assert [client.get(url).status_code for url in pages] == [403, 403]
        assert [client.post(url, data={"reason": "x"}).status_code for url in acts] == [403, 403]
        assert 'href="/admin/certificates/"' not in client.get("/admin/").text
    assert "This certificate was revoked" not in client.get(f"/certificates/verify/{issued}").text
    assert count_rows(app, AuditEntry) == 0


def test_a_revocation_on_the_command_line_is_in_the_audit_log(app, issued, operator):
    assert operator("revoke", issued, "--reason", "Fraud").exit_code == 0
    [(act, actor, _target, reason)] = audit(app)
    assert (act, actor, reason) == ("certificates.revoked", "command line", "Fraud")
