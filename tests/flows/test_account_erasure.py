"""A member who did a bit of everything is erased, and nothing of them is left: no row of any
table, of core and of every plugin (the third-party kudos included), holds their e-mail
address, name or profile text. What others need stays, without them: the other party's
mentorship, chat, goals and certificate (PDF and verification page), the group they handed
over, the wiki article they edited."""

from __future__ import annotations

import html
import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import MetaData, select, update

from alma_kudos.services import give_kudos
from core.db import db as database
from core.models import HeldMail, MailPreference, Report, User
from core.services.mail_kinds import choose
from core.testing import TEST_PASSWORD, run_job, stored
from plugins.certificates.models import Certificate
from plugins.groups.models import MANAGER, ON_REQUEST, WITHDRAWN, JoinRequest, Membership
from plugins.groups.services import directory, forum, membership
from plugins.mentoring.models import Meeting
from plugins.mentoring.services import agreements, chat, lifecycle, meetings
from plugins.wiki import services as wiki

pytestmark = pytest.mark.plugins("mentoring", "wiki", "groups", "credits", "certificates", "kudos")

ZED = {
    "e-mail": "zed.zephyrine@example.org",
    "name": "Zed Zephyrine",
    "profile text": "I collect zeppelin timetables from 1931.",
}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def pdf_text(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(result.stdout.decode().split())


def what_is_left(app, looked_for: dict[str, str]) -> list[tuple[str, str, str]]:
    """Every (table, column, what) of the database, reflected, whose text (JSON as text)
    holds one of ``looked_for`` in any case. Binary columns (a PDF) are not text."""
    found = []
    with app.app_context():
        metadata = MetaData()
        metadata.reflect(bind=database.engine)
        with database.engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)).mappings():
                    for column, value in row.items():
                        readable = _readable(value)
                        for what, needle in looked_for.items():
                            if readable and needle.casefold() in readable.casefold():
                                found.append((table.name, column, what))
        database.engine.dispose()
    return sorted(set(found))


def _readable(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return None


@pytest.fixture
def everything_done(app, client, db, create_user):
    """Zed mentored Mia to the end (a certificate each), chatted, wrote and rated wiki
    articles and edited Mia's, manages a group Mia joined and posted in its forum, gave and
    got kudos, earned credits; a coordinator suspended and unsuspended them once."""
    zed = create_user(
        email=ZED["e-mail"],
        display_name=ZED["name"],
        bio=ZED["profile text"],
        wants_to_mentor=True,
    )
    mia = create_user(email="mia@example.org", display_name="Mia Mentee")
    coordinator = create_user(email="coord@example.org", role="coordinator")

    mentorship = lifecycle.send_request(mia, zed, "Would you mentor me?")
    lifecycle.accept_request(mentorship.id, zed)
    today = datetime.now(UTC).date()
    terms = agreements.Terms(today, today + timedelta(days=60), 1, "Video calls", 14)
    agreements.approve(agreements.propose_agreement(mentorship.id, mia, terms).id, zed)
    chat.post_message(mentorship.id, zed, "Hello Mia, I am Zed Zephyrine, your mentor.")
    chat.post_message(mentorship.id, mia, "Hello Zed, nice to meet you.")
    chat.post_message(mentorship.id, mia, f"Thanks {ZED['name']} ({ZED['e-mail']})!")
    plan = meetings.MeetingPlan(
        datetime.now(UTC) + timedelta(days=1), 60, "https://meet.example.org/zed", is_final=True
    )
    meeting = meetings.schedule(mentorship.id, mia, plan)
    meetings.approve(meeting.id, zed)
    db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting.id)
        .values(starts_at=datetime.now(UTC) - timedelta(hours=3))
    )
    db.session.commit()
    for member in (mia, zed):
        client.login(member)
        client.post(f"/mentoring/meetings/{meeting.id}/confirm")

    own = wiki.create_article(zed, "Zeppelin timetables", "How airships kept time.")
    mias = wiki.create_article(mia, "First steps", "Where to begin.")
    wiki.rate_article(mias.id, zed, 5)
    wiki.rate_article(own.id, mia, 4)
    wiki.save_article(
        mias.id, zed, base_number=1, title="First steps", body="Where to begin, and why."
    )
    group = directory.create_group(zed, name="Airships")
    membership.join_group(group.id, mia)
    topic = forum.start_topic(group.id, zed, "Welcome", "Zed Zephyrine says hello.")
    hello_back = forum.reply(group.id, topic.id, mia, "Hello back!")
    forum.reply(group.id, topic.id, mia, f"Write to {ZED['name']} at {ZED['e-mail']}.")
    wiki.save_article(
        own.id,
        mia,
        base_number=1,
        title="Zeppelin timetables",
        body=f"How airships kept time, by {ZED['name']}.",
    )
    give_kudos(mia, zed, "Thanks for the timetables")
    give_kudos(zed, mia, "Thanks for the questions")
    # Zed wants the forum in a digest: a mail held for it, and a choice of theirs
    choose(zed, {"groups.forum": "digest"})
    db.session.commit()
    forum.reply(group.id, topic.id, mia, "A reply Zed gets in tomorrow's digest.")
    db.session.commit()
    # Zed reports Mia's post, in their own words; Mia reports Zed's profile (its text kept)
    client.login(zed)
    words = {"reason": "spam", "text": f"{ZED['name']} thinks this is an advert."}
    client.post(f"/report/groups.post/{hello_back.id}", data=words)
    client.login(mia)
    client.post(f"/report/core.profile/{zed.id}", data={"reason": "other", "text": "Odd bio."})
    client.login(coordinator)
    client.post(f"/admin/members/{zed.id}/suspend", data={"reason": "a mistake"})
    client.post(f"/admin/members/{zed.id}/unsuspend", data={"reason": "the mistake undone"})
    run_job(app, "certificates.render")
    # an admin revoked Zed's certificate: the audit log's label quotes its holder's address
    client.login(create_user(email="admin@example.org", role="admin"))
    zeds = stored(app, select(Certificate.number).where(Certificate.user_id == zed.id))
    revoked = client.post(f"/admin/certificates/{zeds}/revoke", data={"reason": "a test"})
    assert revoked.status_code == 302
    return zed, mia, mentorship.id, (group.id, topic.id), mias.id


def test_an_erased_member_leaves_nothing_of_theirs_and_others_keep_their_part(
    app, client, db, mail, everything_done
):
    zed, mia, mentorship_id, (group_id, topic_id), article_id = everything_done
    assert what_is_left(app, ZED)  # the walk finds them before: it can fail
    client.login(mia)
    mias_certificate = stored(app, select(Certificate.number).where(Certificate.user_id == mia.id))
    assert mias_certificate
    assert ZED["name"] in pdf_text(client.get(f"/certificates/{mias_certificate}.pdf").data)
    client.login(zed)
    client.post("/me/data/export")
    run_job(app, "core.build_data_exports")

    client.post("/me/data/delete", data={"password": TEST_PASSWORD, "word": "DELETE"})
    with time_machine.travel(datetime.now(UTC) + timedelta(days=7, minutes=1)):
        run_job(app, "core.erase_accounts")

    assert stored(app, select(User.erased_at).where(User.id == zed.id)) is not None
    assert what_is_left(app, ZED) == []
    for owned in (HeldMail.user_id, MailPreference.user_id):
        assert stored_all(app, select(owned).where(owned == zed.id)) == []
    # both reports stay in the moderators' record, without Zed's words or profile text
    with app.app_context():
        reports = database.session.execute(
            select(Report.kind, Report.text, Report.snapshot_text).order_by(Report.id)
        ).all()
        database.session.remove()
    assert [tuple(report) for report in reports] == [
        ("groups.post", "", "Hello back!"),
        ("core.profile", "Odd bio.", ""),
    ]

    # Mia's side reads on, with "former member" where Zed was
    client.login(mia)
    mentorship = text(client.get(f"/mentoring/{mentorship_id}"))
    assert "former member" in mentorship
    assert "Message removed" in mentorship
    assert "Hello Zed, nice to meet you." in mentorship  # her own words stay
    assert "Thanks former member (former member)!" in mentorship  # without naming Zed
    overview = text(client.get(f"/members/{mia.id}"))
    assert "Mentorship of Mia Mentee with former member" in overview
    area = text(client.get(f"/members/{mia.id}/mentoring"))
    download = re.search(r'href="(/certificates/[^"]+\.pdf)"', area)
    assert download, area
    pdf = client.get(download.group(1))
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert "Mia Mentee" in pdf_text(pdf.data)  # her certificate, as issued
    verified = text(client.get(f"/certificates/verify/{mias_certificate}"))
    assert "Mia Mentee" in verified
    assert count_certificates(app, zed) == 0  # Zed's own went with them
    # the group Zed managed passed to Mia when they left, with its thread
    assert (
        stored(
            app,
            select(Membership.role).where(
                Membership.group_id == group_id, Membership.user_id == mia.id
            ),
        )
        == MANAGER
    )
    thread = text(client.get(f"/groups/{group_id}/forum/{topic_id}"))
    assert "Hello back!" in thread
    assert "A post by a former member: its text was removed." in thread
    assert "Zed Zephyrine says hello." not in thread
    assert "Write to former member at former member." in thread
    history = text(client.get(f"/wiki/{article_id}/history"))
    assert "former member" in history
    # Zed's profile is gone
    assert client.get(f"/members/{zed.id}").status_code == 404


def count_certificates(app, user) -> int:
    return len(stored_all(app, select(Certificate.id).where(Certificate.user_id == user.id)))


def stored_all(app, statement) -> list[Any]:
    with app.app_context():
        try:
            return list(database.session.scalars(statement))
        finally:
            database.session.remove()


def test_deactivating_ends_the_mentorship_and_hands_over_the_group(app, client, db, create_user):
    zed = create_user(email=ZED["e-mail"], display_name=ZED["name"], wants_to_mentor=True)
    mia = create_user(email="mia@example.org", display_name="Mia Mentee")
    ola = create_user(email="ola@example.org", display_name="Ola", wants_to_mentor=True)
    running = lifecycle.send_request(mia, zed, "Would you mentor me?")
    lifecycle.accept_request(running.id, zed)
    waiting = lifecycle.send_request(zed, ola, "Would you mentor me too?")
    group = directory.create_group(zed, name="Airships")
    membership.join_group(group.id, mia)
    alone = directory.create_group(zed, name="Empty hangar")
    olas = directory.create_group(ola, name="Balloons", join_policy=ON_REQUEST)
    asked = membership.request_to_join(olas.id, zed, "May I join?")
    db.session.commit()
    client.login(zed)

    client.post("/me/data/deactivate", data={"password": TEST_PASSWORD})

    client.login(mia)
    page = text(client.get(f"/mentoring/{running.id}"))
    assert "Ended early: the other party is no longer active here" in page
    assert (
        stored(
            app,
            select(Membership.role).where(
                Membership.group_id == group.id, Membership.user_id == mia.id
            ),
        )
        == MANAGER
    )
    groups = text(client.get("/groups/"))
    assert "Airships" in groups
    assert "Empty hangar" not in groups  # closed while nobody manages it
    assert client.post(f"/groups/{alone.id}/join").status_code in (302, 200)
    assert (
        stored(
            app,
            select(Membership.id).where(
                Membership.group_id == alone.id, Membership.user_id == mia.id
            ),
        )
        is None
    )
    client.login(ola)
    assert "withdrew" in text(client.get(f"/mentoring/{waiting.id}"))
    assert stored(app, select(JoinRequest.state).where(JoinRequest.id == asked.id)) == WITHDRAWN
    # Zed comes back: the closed group is theirs again, open to all
    client.logout()
    client.post("/login", data={"email": ZED["e-mail"], "password": TEST_PASSWORD})
    client.post("/me/welcome-back")
    client.login(mia)
    assert "Empty hangar" in text(client.get("/groups/"))


def test_a_group_nobody_else_is_in_goes_with_its_erased_manager(app, client, db, create_user):
    zed = create_user(email=ZED["e-mail"], display_name=ZED["name"])
    mia = create_user(email="mia@example.org", display_name="Mia Mentee")
    empty = directory.create_group(zed, name="Empty hangar")
    shared = directory.create_group(zed, name="Airships")
    membership.join_group(shared.id, mia)
    db.session.commit()
    empty_id = empty.id
    client.login(zed)
    client.post("/me/data/delete", data={"password": TEST_PASSWORD, "word": "DELETE"})

    with time_machine.travel(datetime.now(UTC) + timedelta(days=7, minutes=1)):
        run_job(app, "core.erase_accounts")

    client.login(mia)
    assert client.get(f"/groups/{empty_id}").status_code == 404
    assert "Airships" in text(client.get("/groups/"))  # Mia took it over when Zed left
    assert what_is_left(app, ZED) == []
