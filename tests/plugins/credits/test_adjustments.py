"""Admins adjust a member's credits by hand, with a reason the member reads in their ledger:
a ledger entry of its own, undone like any other by a linked reversal, one audit row each."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.models import AuditEntry
from core.testing import count_rows
from plugins.credits.models import CreditEntry


@pytest.fixture
def admin(create_user):
    return create_user(email="root@example.org", display_name="Root", role="admin")


@pytest.fixture
def ada(create_user):
    return create_user(email="ada@example.org", display_name="Ada")


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.text)


def adjust(client, email: str, points, reason: str = "Ran the spring workshop"):
    return client.post(
        "/admin/credits/adjust",
        data={"email": email, "points": str(points), "reason": reason},
        follow_redirects=True,
    )


def audit_rows(db) -> list[tuple[str, str, str]]:
    db.session.commit()
    return [
        tuple(row)
        for row in db.session.execute(
            select(AuditEntry.act, AuditEntry.target_label, AuditEntry.reason).order_by(
                AuditEntry.id
            )
        )
    ]


def test_an_admin_gives_credits_the_member_sees_why(client, db, credits, admin, ada):
    credits.do(ada)  # 10
    client.login(admin)
    assert "No adjustments yet" in text(client.get("/admin/credits/"))
    assert 'href="/admin/credits/"' in client.get("/admin/").text

    page = text(adjust(client, "ADA@example.org", 25))

    assert "The credits are adjusted." in page
    assert "Ran the spring workshop" in page and "+25" in page
    assert credits.total(ada) == 35
    assert credits.entries(ada)[0] == ("adjustment", "credits.adjustment", 25, None)
    assert audit_rows(db) == [
        ("credits.adjusted", "ada@example.org", "+25: Ran the spring workshop")
    ]

    client.login(ada)
    ledger = text(client.get("/credits/"))
    assert "Adjusted by the programme" in ledger
    assert "Ran the spring workshop" in ledger
    assert "+25" in ledger


def test_an_adjustment_is_undone_by_a_reversal_once(client, db, credits, admin, ada):
    client.login(admin)
    adjust(client, ada.email, 30)
    [entry_id] = db.session.scalars(select(CreditEntry.id).where(CreditEntry.user_id == ada.id))

    page = text(
        client.post(
            f"/admin/credits/entries/{entry_id}/undo",
            data={"reason": "Given to the wrong Ada"},
            follow_redirects=True,
        )
    )

    assert "The adjustment is undone." in page
    assert credits.total(ada) == 0
    assert credits.entries(ada)[0] == ("reversal", "credits.adjustment", -30, None)
    again = text(
        client.post(
            f"/admin/credits/entries/{entry_id}/undo",
            data={"reason": "twice"},
            follow_redirects=True,
        )
    )
    assert "undone already" in again
    assert credits.total(ada) == 0
    assert [act for act, _target, _reason in audit_rows(db)] == [
        "credits.adjusted",
        "credits.adjustment_undone",
    ]
    client.login(ada)
    ledger = text(client.get("/credits/"))
    assert "Withdrawn" in ledger and "Given to the wrong Ada" in ledger


def test_credits_are_taken_back_but_never_below_zero(client, db, credits, admin, ada):
    credits.do(ada)  # 10
    client.login(admin)

    too_much = text(adjust(client, ada.email, -11, "Spam articles"))
    assert "The member has 10 credits" in too_much
    assert credits.total(ada) == 10

    assert "The credits are adjusted." in text(adjust(client, ada.email, -10, "Spam articles"))
    assert credits.total(ada) == 0
    [taken] = db.session.scalars(
        select(CreditEntry.id).where(CreditEntry.entry_kind == "adjustment")
    )
    # undoing a take gives the credits back
    client.post(f"/admin/credits/entries/{taken}/undo", data={"reason": "Not spam after all"})
    assert credits.total(ada) == 10
    assert len(audit_rows(db)) == 2  # the refused act left no row


@pytest.mark.parametrize(
    ("email", "points", "reason", "says"),
    [
        ("nobody@example.org", 5, "Workshop", "No member has the address nobody@example.org"),
        ("ada@example.org", 0, "Workshop", "Give or take between 1 and 10,000 credits"),
        ("ada@example.org", 10001, "Workshop", "Number must be between"),
        ("ada@example.org", "many", "Workshop", "Not a valid integer value"),
        ("ada@example.org", 5, "   ", "Give a reason"),
        ("ada@example.org", 5, "x" * 201, "Field cannot be longer than 200 characters"),
    ],
)
def test_a_bad_adjustment_changes_nothing(
    client, db, credits, admin, ada, email, points, reason, says
):
    client.login(admin)
    assert says in text(adjust(client, email, points, reason))
    assert credits.total(ada) == 0
    assert count_rows(client.application, AuditEntry) == 0


def test_an_admin_can_neither_adjust_nor_undo_their_own_credits(
    client, db, credits, admin, create_user
):
    client.login(admin)
    refused = adjust(client, admin.email, 500, "Worked hard")
    assert refused.status_code == 403
    assert "Staff cannot adjust their own credits." in html.unescape(refused.text)
    assert credits.total(admin) == 0
    assert count_rows(client.application, AuditEntry) == 0

    # another admin gives them credits: they cannot take back the gift themselves either
    other = create_user(role="admin")
    client.login(other)
    assert "The credits are adjusted." in text(adjust(client, admin.email, 20))
    [entry_id] = db.session.scalars(select(CreditEntry.id).where(CreditEntry.user_id == admin.id))
    client.login(admin)
    listed = text(client.get("/admin/credits/"))
    assert "Your own credits: another admin may undo this." in listed
    assert f'action="/admin/credits/entries/{entry_id}/undo"' not in listed
    refused = client.post(f"/admin/credits/entries/{entry_id}/undo", data={"reason": "Too kind"})
    assert refused.status_code == 403
    assert "Staff cannot undo an adjustment of their own credits." in html.unescape(refused.text)
    assert credits.total(admin) == 20
    assert len(audit_rows(db)) == 1


def test_only_admins_adjust_credits(client, db, credits, create_user, ada):
    urls = ["/admin/credits/adjust", "/admin/credits/entries/1/undo"]
    assert client.get("/admin/credits/").location.startswith("/login")
    for url in urls:
        assert client.post(url, data={"reason": "x"}).location.startswith("/login")
    for role in (None, "coordinator"):
        client.login(create_user(role=role))
        assert client.get("/admin/credits/").status_code == 403
        response = client.post(
            "/admin/credits/adjust", data={"email": ada.email, "points": "5", "reason": "x"}
        )
        assert response.status_code == 403
        assert client.post(urls[1], data={"reason": "x"}).status_code == 403
    assert credits.total(ada) == 0
    assert count_rows(client.application, AuditEntry) == 0


def test_the_ledger_refuses_an_adjustment_of_nothing_or_a_credit_of_less(db, ada):
    from core.db import utcnow

    def entry(**values):
        return CreditEntry(
            user_id=ada.id, source_id=1, kind="credits.adjustment", created_at=utcnow(), **values
        )

    for wrong in (
        entry(source_type="adjustment", entry_kind="adjustment", points=0),
        entry(source_type="activity", entry_kind="adjustment", points=5),
        entry(source_type="adjustment", entry_kind="credit", points=5),
        entry(source_type="goal", entry_kind="credit", points=-5),
    ):
        db.session.add(wrong)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
