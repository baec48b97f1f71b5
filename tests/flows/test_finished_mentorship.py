"""A mentorship from agreement to certificate, across plugins that know nothing of each other:
mentoring completes the "finished the mentorship" goal, credits turns the goals into credits,
certificates renders a PDF for each party. Only core's hooks connect them."""

from __future__ import annotations

import html
import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from core.scheduler import run_job
from core.state import alma
from core.testing import stored
from plugins.certificates.models import Certificate
from plugins.mentoring.models import Meeting
from plugins.mentoring.services import agreements, lifecycle, meetings

pytestmark = pytest.mark.plugins("mentoring", "credits", "certificates")


def pdf_text(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode()


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def pair(create_user):
    mentee = create_user(display_name="Mia Mentee", email="mia@example.org")
    mentor = create_user(display_name="Max Mentor", email="max@example.org", wants_to_mentor=True)
    return mentee, mentor


def active_mentorship(db, mentee, mentor) -> int:
    mentorship = lifecycle.send_request(mentee, mentor, "Would you mentor me?")
    lifecycle.accept_request(mentorship.id, mentor)
    today = datetime.now(UTC).date()
    version = agreements.propose_agreement(
        mentorship.id,
        mentee,
        agreements.Terms(today, today + timedelta(days=60), 2, "Video calls", 14),
    )
    agreements.approve(version.id, mentor)
    db.session.commit()
    return mentorship.id


def scheduled(db, mentorship_id, mentee, mentor, *, final: bool) -> int:
    plan = meetings.MeetingPlan(
        starts_at=datetime.now(UTC) + timedelta(days=2 if final else 1),
        duration_minutes=60,
        place="https://meet.example.org/mia-max",
        is_final=final,
    )
    meeting = meetings.schedule(mentorship_id, mentee, plan)
    meetings.approve(meeting.id, mentor)
    db.session.execute(  # it has begun (the services only schedule what is to come)
        update(Meeting)
        .where(Meeting.id == meeting.id)
        .values(starts_at=datetime.now(UTC) - timedelta(hours=3 if final else 26))
    )
    db.session.commit()
    return meeting.id


def test_the_final_meeting_confirmed_by_both_earns_credits_and_a_certificate_each(
    app, client, db, pair
):
    mentee, mentor = pair
    mentorship_id = active_mentorship(db, mentee, mentor)
    for final in (False, True):
        meeting_id = scheduled(db, mentorship_id, mentee, mentor, final=final)
        for member in (mentee, mentor):
            client.login(member)
            client.post(f"/mentoring/meetings/{meeting_id}/confirm")

    client.login(mentee)
    assert "completed" in text(client.get(f"/mentoring/{mentorship_id}"))
    preparing = text(client.get(f"/members/{mentee.id}/mentoring"))
    assert "being prepared" in preparing

    [render] = [job for job in alma(app).hooks.jobs() if job.id == "certificates.render"]
    run_job(app, render)

    # credits: each meeting attended (5) and the finished mentorship (50), plus sending the
    # request (mentee, 1) or accepting it (mentor, 10)
    for member, other, credits in ((mentee, mentor, 61), (mentor, mentee, 70)):
        client.login(member)
        area = text(client.get(f"/members/{member.id}/mentoring"))
        download = re.search(r'href="(/certificates/[^"]+\.pdf)"', area)
        assert download, area
        pdf = client.get(download.group(1))
        assert pdf.headers["Content-Type"] == "application/pdf"
        content = pdf_text(pdf.data).casefold()  # the certificate's style capitalises labels
        for expected in (member.display_name, other.display_name, "Meetings held"):
            assert expected.casefold() in content
        client.login(other)  # the total shows to other members
        assert f"{credits} credits" in text(client.get(f"/members/{member.id}"))

    number = stored(app, select(Certificate.number).where(Certificate.user_id == mentee.id))
    assert "Mia Mentee" in text(client.get(f"/certificates/verify/{number}"))


def test_each_certificate_dates_the_mentorship_on_its_holders_clock(app, client, db, pair):
    """Mia in Auckland and Max in London, 13 hours apart in December: their final meeting,
    confirmed at 23:40 in London, completes the mentorship on Friday 3 December for Max and
    on Saturday 4 December for Mia. Each certificate says its holder's day, in the same words
    in its text and in its period."""
    mentee, mentor = pair
    mentee.timezone, mentor.timezone = "Pacific/Auckland", "Europe/London"
    db.session.commit()
    with time_machine.travel(datetime(2027, 11, 20, 9, tzinfo=UTC), tick=False) as clock:
        mentorship_id = active_mentorship(db, mentee, mentor)
        plan = meetings.MeetingPlan(
            starts_at=datetime(2027, 12, 3, 23, 0, tzinfo=UTC),
            duration_minutes=30,
            place="https://meet.example.org/mia-max",
            is_final=True,
        )
        meeting_id = meetings.schedule(mentorship_id, mentee, plan).id
        meetings.approve(meeting_id, mentor)
        db.session.commit()
        clock.move_to(datetime(2027, 12, 3, 23, 40, tzinfo=UTC))
        for member in (mentee, mentor):
            client.login(member)
            client.post(f"/mentoring/meetings/{meeting_id}/confirm")
        [render] = [job for job in alma(app).hooks.jobs() if job.id == "certificates.render"]
        run_job(app, render)

    for member, day in ((mentee, "December 4, 2027"), (mentor, "December 3, 2027")):
        client.login(member)
        area = text(client.get(f"/members/{member.id}/mentoring"))
        assert f"Completed on {day}" in area
        download = re.search(r'href="(/certificates/[^"]+\.pdf)"', area)
        content = " ".join(pdf_text(client.get(download.group(1)).data).split())
        assert f"on {day}" in content
        assert f"November 20, 2027 \N{EN DASH} {day}" in content
