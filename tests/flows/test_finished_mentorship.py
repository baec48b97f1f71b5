"""A mentorship from agreement to certificate, across plugins that know nothing of each other:
mentoring completes the "finished the mentorship" goal, credits turns the goals into credits,
certificates renders a PDF for each party. Only core's hooks connect them."""

from __future__ import annotations

import html
import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.scheduler import run_job
from core.state import alma
from core.testing import stored
from plugins.certificates.models import Certificate
from plugins.mentoring import agreements, meetings, services
from plugins.mentoring.models import Meeting

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
    mentorship = services.send_request(mentee, mentor, "Would you mentor me?")
    services.accept_request(mentorship.id, mentor)
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
