"""Reports and moderation, core's side: the report form, the per-hour limit, one open report
per member and item, and the console's Reports queue (hide, restore, dismiss, suspend the
author), each decision one row of the audit log. A profile is core's own reportable kind;
the plugins' kinds are tested with each plugin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from core.models import AuditEntry, Report, User
from core.testing import count_rows, stored

HIDDEN = "This was hidden by the moderators."
THANKS = "Thank you for telling us. The moderators will look at it."


@pytest.fixture
def coordinator(create_user):
    return create_user(display_name="Coco Ordinator", email="coco@example.org", role="coordinator")


@pytest.fixture
def spammer(create_user):
    return create_user(display_name="Sam Spammer", bio="Cheap watches at example.com")


def report_profile(client, member: User, reason: str = "spam", text: str = "an advert"):
    return client.post(
        f"/report/core.profile/{member.id}",
        data={"reason": reason, "text": text},
        follow_redirects=True,
    )


def reports_of(app, member: User) -> list[tuple[str, str, str]]:
    rows = stored_rows(
        app,
        select(Report.reason, Report.state, Report.snapshot_text)
        .where(Report.item_id == member.id)
        .order_by(Report.id),
    )
    return [tuple(row) for row in rows]


def stored_rows(app, statement):
    from core.db import db

    with app.app_context():
        try:
            return db.session.execute(statement).all()
        finally:
            db.session.remove()


def latest_report_id(app) -> int:
    return stored(app, select(func.max(Report.id)))


def audit_acts(app) -> list[tuple[str, str, str]]:
    rows = stored_rows(
        app,
        select(AuditEntry.act, AuditEntry.target_kind, AuditEntry.reason).order_by(AuditEntry.id),
    )
    return [tuple(row) for row in rows]


# ---- reporting --------------------------------------------------------------------------------


def test_a_member_reports_a_profile_and_gets_a_neutral_thank_you(app, client, member, spammer):
    client.login(member)
    profile = client.get(f"/members/{spammer.id}").text
    assert f'href="/report/core.profile/{spammer.id}"' in profile
    form = client.get(f"/report/core.profile/{spammer.id}")
    assert form.status_code == 200
    assert "Profile of Sam Spammer" in form.text and "Cheap watches" in form.text

    done = report_profile(client, spammer)

    assert THANKS in done.text
    assert done.request.path == f"/members/{spammer.id}"
    assert reports_of(app, spammer) == [("spam", "open", "Cheap watches at example.com")]
    # one's own profile has no link, and cannot be reported
    client.login(spammer)
    assert "/report/core.profile" not in client.get(f"/members/{spammer.id}").text
    refused = report_profile(client, spammer)
    assert refused.status_code == 400
    assert "You cannot report what you wrote yourself." in refused.text


def test_reporting_needs_a_login_a_reason_and_something_to_report(client, member, spammer):
    anonymous = client.get(f"/report/core.profile/{spammer.id}")
    assert anonymous.status_code == 302 and anonymous.location.startswith("/login")

    client.login(member)
    no_reason = report_profile(client, spammer, reason="")
    assert no_reason.status_code == 400 and "Choose a reason." in no_reason.text
    assert report_profile(client, spammer, reason="boredom").status_code == 400
    assert client.get("/report/core.profile/999999").status_code == 404
    assert client.get(f"/report/no.such.kind/{spammer.id}").status_code == 404
    assert client.post(f"/report/core.profile/{spammer.id}", data={}).status_code == 400


def test_reporting_twice_keeps_one_open_report(app, client, member, spammer):
    client.login(member)
    report_profile(client, spammer, text="first")
    again = report_profile(client, spammer, reason="harassment", text="second")

    assert THANKS in again.text  # the same words: nothing tells what became of it
    assert reports_of(app, spammer) == [("spam", "open", "Cheap watches at example.com")]


def test_a_member_reports_at_most_the_limit_an_hour(app, client, create_user, member):
    others = [create_user(bio=f"bio {n}") for n in range(7)]
    start = datetime(2027, 5, 3, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        client.login(member)
        for other in others[:5]:
            assert THANKS in report_profile(client, other).text
            clock.shift(timedelta(minutes=5))

        refused = report_profile(client, others[5], reason="harassment", text="rude words")

        assert refused.status_code == 429
        assert "You sent many reports in the last hour." in refused.text
        # the form is kept as it was filled
        assert '<option value="harassment" selected>' in refused.text
        assert "rude words</textarea>" in refused.text
        assert count_rows(app, Report) == 5

        clock.move_to(start + timedelta(hours=1, seconds=1))  # the first has left the hour
        assert THANKS in report_profile(client, others[5]).text
        assert report_profile(client, others[6]).status_code == 429
    assert count_rows(app, Report) == 6


def test_the_limit_is_a_setting(make_app, db, create_user):
    client = make_app(REPORTS_PER_HOUR=1).test_client()
    member, first, second = create_user(), create_user(), create_user()
    client.login(member)
    assert THANKS in report_profile(client, first).text
    assert report_profile(client, second).status_code == 429


# ---- the queue --------------------------------------------------------------------------------


def test_the_queue_shows_the_item_as_it_was_reported(app, client, db, member, spammer, coordinator):
    client.login(member)
    report_profile(client, spammer, reason="spam", text="he sells watches")
    spammer.bio = "Nothing to see here"  # edited since
    db.session.commit()

    client.login(coordinator)
    console = client.get("/admin/").text
    assert 'data-section-count="admin.reports">1<' in console
    queue = client.get("/admin/reports").text
    assert "Profile of Sam Spammer" in queue and "Cheap watches" in queue
    page = client.get(f"/admin/reports/{latest_report_id(app)}").text
    assert "Cheap watches at example.com" in page
    assert "Nothing to see here" not in page
    assert "he sells watches" in page and "Spam or advertising" in page
    assert "Mo Member" in page  # who reported it


def test_the_queue_is_empty_and_paged(client, coordinator):
    client.login(coordinator)
    assert "No report waits for a decision." in client.get("/admin/reports").text
    assert "No report is in this state." in client.get("/admin/reports?state=hidden").text
    assert client.get("/admin/reports/12345").status_code == 404


def test_hiding_shows_everyone_it_was_hidden_and_restoring_brings_it_back(
    app, client, create_user, member, spammer, coordinator
):
    second = create_user()
    client.login(member)
    report_profile(client, spammer)
    client.login(second)
    report_profile(client, spammer, reason="inappropriate")
    report_id = latest_report_id(app)

    client.login(coordinator)
    done = client.post(
        f"/admin/reports/{report_id}/hide", data={"reason": "advertising"}, follow_redirects=True
    )
    assert "The item is hidden" in done.text

    for viewer in (member, spammer, second):  # the author sees it was hidden too
        client.login(viewer)
        page = client.get(f"/members/{spammer.id}").text
        assert HIDDEN in page and "Cheap watches" not in page
    # every open report of the item is decided at once, by one act
    assert [state for _r, state, _t in reports_of(app, spammer)] == ["hidden", "hidden"]
    assert audit_acts(app) == [("report.hidden", "core.profile", "advertising")]
    # hidden: nothing more to report
    assert client.get(f"/report/core.profile/{spammer.id}").status_code == 404

    client.login(coordinator)
    twice = client.post(
        f"/admin/reports/{report_id}/hide", data={"reason": "again"}, follow_redirects=True
    )
    assert "This report was decided already" in twice.text
    client.post(f"/admin/reports/{report_id}/restore", data={"reason": "it was a joke"})

    client.login(member)
    assert "Cheap watches" in client.get(f"/members/{spammer.id}").text
    assert [state for _r, state, _t in reports_of(app, spammer)] == ["restored", "restored"]
    assert audit_acts(app)[-1] == ("report.restored", "core.profile", "it was a joke")


def test_dismissing_leaves_the_item_and_needs_a_reason(app, client, member, spammer, coordinator):
    client.login(member)
    report_profile(client, spammer)
    report_id = latest_report_id(app)
    client.login(coordinator)

    no_reason = client.post(
        f"/admin/reports/{report_id}/dismiss", data={"reason": ""}, follow_redirects=True
    )
    assert "Give a reason" in no_reason.text
    assert reports_of(app, spammer)[0][1] == "open"

    client.post(f"/admin/reports/{report_id}/dismiss", data={"reason": "a fair ad"})
    assert reports_of(app, spammer)[0][1] == "dismissed"
    assert audit_acts(app) == [("report.dismissed", "core.profile", "a fair ad")]
    assert "Cheap watches" in client.get(f"/members/{spammer.id}").text
    assert "No report waits for a decision." in client.get("/admin/reports").text
    assert "Profile of Sam Spammer" in client.get("/admin/reports?state=dismissed").text
    # a decided report is not restored nor hidden again
    late = client.post(
        f"/admin/reports/{report_id}/restore", data={"reason": "x"}, follow_redirects=True
    )
    assert "This report was decided already" in late.text


def test_staff_suspend_the_author_from_the_report(app, client, member, spammer, coordinator):
    client.login(member)
    report_profile(client, spammer)
    report_id = latest_report_id(app)
    client.login(coordinator)
    page = client.get(f"/admin/reports/{report_id}").text
    assert f'href="/admin/reports/{report_id}/suspend"' in page
    confirm = client.get(f"/admin/reports/{report_id}/suspend").text
    assert "Suspend Sam Spammer?" in confirm

    done = client.post(
        f"/admin/reports/{report_id}/suspend",
        data={"reason": "a spam account"},
        follow_redirects=True,
    )

    assert "The author is suspended" in done.text
    assert stored(app, select(User.suspended_at).where(User.id == spammer.id)) is not None
    assert audit_acts(app) == [("member.suspended", "member", "a spam account")]
    assert "Suspend the author" not in client.get(f"/admin/reports/{report_id}").text


def test_members_and_visitors_cannot_moderate(app, client, member, spammer, create_user):
    client.login(member)
    report_profile(client, spammer)
    report_id = latest_report_id(app)
    acts = ("hide", "restore", "dismiss", "suspend")

    client.login(create_user())
    for act in acts:
        assert (
            client.post(f"/admin/reports/{report_id}/{act}", data={"reason": "x"}).status_code
            == 403
        )
    client.logout()
    for act in acts:
        response = client.post(f"/admin/reports/{report_id}/{act}", data={"reason": "x"})
        assert response.status_code == 302 and response.location.startswith("/login")
    assert reports_of(app, spammer)[0][1] == "open"
    assert count_rows(app, AuditEntry) == 0
