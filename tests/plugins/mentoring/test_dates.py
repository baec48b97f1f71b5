"""Dates and times as each member reads them. Mia, the mentee, lives in Auckland and Max, her
mentor, in London: in December 13 hours apart, so a meeting late on Friday evening for Max is
Saturday lunchtime for Mia. Max reads alma in German (its dates: no catalog is needed for
them), Mia in English. Each reads the meeting on their own clock and in their own language on
the pages, in their alerts and in the mails the SMTP server receives, whoever's request or job
wrote them; a meeting's goal title gives both clocks, and two meetings of one day (even the two
02:30s of the night Vienna's clocks go back) get different titles. The clock is moved with
time-machine across the meeting's midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from icalendar import Calendar
from sqlalchemy import func, select

from core.db import db
from core.models import Goal, Notification
from core.scheduler import run_job
from core.state import alma
from core.testing import body_of, stored
from plugins.mentoring.models import RESCHEDULE, Meeting
from plugins.mentoring.services import meetings

from .conftest import text

AUCKLAND, LONDON, VIENNA = "Pacific/Auckland", "Europe/London", "Europe/Vienna"
# 23:30 on Friday 3 December 2027 in London is 12:30 on Saturday 4 December in Auckland
MEETING = datetime(2027, 12, 3, 23, 30, tzinfo=UTC)
MIA_READS = "Dec 4, 2027, 12:30\u202fPM (Pacific/Auckland)"
MAX_READS = "3. Dez. 2027, 23:30 (Europe/London)"  # in German
# (Babel writes a narrow no-break space, U+202F, before AM and PM, as the locale data says)


@pytest.fixture
def app(make_app):
    return make_app(LANGUAGES=["en", "de"])


@pytest.fixture
def clock():
    """The clock, frozen on 20 November 2027 (``clock.move_to(...)`` moves it)."""
    with time_machine.travel(datetime(2027, 11, 20, 9, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def apart(clock, db, pairs, mentee, mentor) -> int:
    """Mia in Auckland and Max in London (reading German), in an active mentorship."""
    mentee.timezone = AUCKLAND
    mentor.timezone, mentor.locale = LONDON, "de"
    db.session.commit()
    return pairs.active(mentee, mentor)


def propose_on_the_page(app, client, mentee, mentorship_id: int, day: str, hour: str) -> int:
    """Mia proposes a meeting through the form, on her own clock; returns its id."""
    client.login(mentee)
    page = client.post(
        f"/mentoring/{mentorship_id}/meetings/new",
        data={"day": day, "time": hour, "duration_minutes": "60", "place": "Video call"},
        follow_redirects=True,
    )
    assert "Sent:" in text(page), text(page)
    return stored(app, select(func.max(Meeting.id)))


def last_alert(app, user) -> str:
    return stored(
        app,
        select(Notification.message)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
        .limit(1),
    )


def goal_titles(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Goal.title).order_by(Goal.id)))


def mails_to(received, address: str) -> str:
    return "\n".join(body_of(message) for message in received if address in message["To"])


def confirm_on_the_page(client, meeting_id: int, *members) -> None:
    for member in members:
        client.login(member)
        page = client.post(f"/mentoring/meetings/{meeting_id}/confirm", follow_redirects=True)
        assert page.status_code == 200


# ---- pages, alerts and mails ---------------------------------------------------------------


def test_each_member_reads_the_meeting_on_their_own_clock(app, client, apart, mentee, mentor):
    meeting_id = propose_on_the_page(app, client, mentee, apart, "2027-12-04", "12:30")
    assert stored(app, select(Meeting.starts_at)) == MEETING

    client.login(mentee)
    assert "Saturday, December 4, 2027, 12:30\u202fPM" in text(
        client.get(f"/mentoring/meetings/{meeting_id}")
    )
    mias_month = text(client.get("/mentoring/calendar?month=2027-12"))
    assert "Dec 4, 2027, 12:30\u202fPM" in mias_month
    assert "Dec 3, 2027" not in mias_month

    client.login(mentor)
    assert "Freitag, 3. Dezember 2027, 23:30" in text(
        client.get(f"/mentoring/meetings/{meeting_id}")
    )
    assert "3. Dez. 2027, 23:30" in text(client.get("/mentoring/calendar?month=2027-12"))


def test_an_alert_and_its_mail_are_written_as_their_recipient_reads(
    app, client, mail, apart, mentee, mentor
):
    """Mia's request (in English, in Auckland) alerts Max in German, on London's clock, and
    Max's answer alerts Mia on hers."""
    meeting_id = propose_on_the_page(app, client, mentee, apart, "2027-12-04", "12:30")
    assert last_alert(app, mentor) == f"Mia Mentee schlägt ein Treffen am {MAX_READS} vor."
    client.login(mentor)
    client.post(f"/mentoring/meetings/{meeting_id}/approve")
    assert last_alert(app, mentee) == f"Max Mentor approved the meeting on {MIA_READS}."

    received = mail.deliver()
    assert f"Mia Mentee schlägt ein Treffen am {MAX_READS} vor." in mails_to(received, "max@")
    assert f"Max Mentor approved the meeting on {MIA_READS}." in mails_to(received, "mia@")


def test_the_reminders_a_job_sends_name_each_recipients_own_day(
    app, client, mail, clock, apart, mentee, mentor
):
    meeting_id = propose_on_the_page(app, client, mentee, apart, "2027-12-04", "12:30")
    client.login(mentor)
    client.post(f"/mentoring/meetings/{meeting_id}/approve")
    mail.deliver()

    clock.move_to(MEETING - timedelta(hours=12))  # 11:30 in London, 00:30 in Auckland
    [reminders] = [job for job in alma(app).hooks.jobs() if job.id == "mentoring.meeting_reminders"]
    run_job(app, reminders)
    received = {message["To"]: body_of(message) for message in mail.deliver()}
    assert f"you meet Max Mentor on {MIA_READS}." in received["mia@example.org"]
    assert f"Sie treffen Mia Mentee am {MAX_READS}." in received["max@example.org"]


def test_both_calendars_get_the_same_moment(app, client, apart, mentee, mentor):
    """An iCalendar file carries the moment in UTC: each calendar app shows it on its clock."""
    meeting_id = propose_on_the_page(app, client, mentee, apart, "2027-12-04", "12:30")
    for member in (mentee, mentor):
        client.login(member)
        calendar = Calendar.from_ical(client.get(f"/mentoring/meetings/{meeting_id}.ics").data)
        (event,) = calendar.walk("VEVENT")
        assert event.decoded("dtstart") == MEETING


# ---- stored text: departures from the agreement and goal titles ---------------------------


def test_a_departure_from_the_agreement_names_the_meeting_on_the_viewers_clock(
    app, client, db, clock, pairs, mentee, mentor
):
    mentee.timezone = AUCKLAND
    mentor.timezone, mentor.locale = LONDON, "de"
    db.session.commit()
    mentorship_id = pairs.active(mentee, mentor, ends_on=datetime(2027, 12, 3).date())
    propose_on_the_page(app, client, mentee, mentorship_id, "2027-12-04", "12:30")  # a day late

    client.login(mentee)
    assert f"A meeting on {MIA_READS}" in text(client.get(f"/mentoring/{mentorship_id}/agreement"))
    client.login(mentor)
    maxs_page = text(client.get(f"/mentoring/{mentorship_id}/agreement"))
    assert f"Ein Treffen am {MAX_READS}" in maxs_page
    assert "Pacific/Auckland" not in maxs_page


def test_a_meetings_goal_gives_its_time_on_both_parties_clocks(
    app, client, clock, apart, mentee, mentor
):
    meeting_id = propose_on_the_page(app, client, mentee, apart, "2027-12-04", "12:30")
    client.login(mentor)
    client.post(f"/mentoring/meetings/{meeting_id}/approve")

    clock.move_to(MEETING + timedelta(minutes=45))  # after midnight in London too
    confirm_on_the_page(client, meeting_id, mentee, mentor)
    title = (
        "Meeting of Mia Mentee and Max Mentor, Dec 4, 2027, 12:30\u202fPM (Pacific/Auckland)"
        " / Dec 3, 2027, 11:30\u202fPM (Europe/London)"
    )
    assert goal_titles(app) == [title]
    for member in (mentee, mentor):
        client.login(member)
        assert title in text(client.get(f"/members/{member.id}"))


def test_two_meetings_of_one_day_have_different_goal_titles(
    app, client, db, clock, planner, pairs, mentee, mentor
):
    for member in (mentee, mentor):
        member.timezone = LONDON
    db.session.commit()
    mentorship_id = pairs.active(mentee, mentor)
    morning, afternoon = (datetime(2027, 12, 3, hour, tzinfo=UTC) for hour in (9, 15))
    meeting_ids = [
        planner.schedule(mentorship_id, mentee, mentor, starts) for starts in (morning, afternoon)
    ]

    clock.move_to(datetime(2027, 12, 3, 18, tzinfo=UTC))
    for meeting_id in meeting_ids:
        confirm_on_the_page(client, meeting_id, mentee, mentor)
    assert goal_titles(app) == [
        "Meeting of Mia Mentee and Max Mentor, Dec 3, 2027, 9:00\u202fAM (Europe/London)",
        "Meeting of Mia Mentee and Max Mentor, Dec 3, 2027, 3:00\u202fPM (Europe/London)",
    ]


def test_the_two_meetings_at_0230_of_the_night_the_clocks_go_back_differ(
    app, client, db, planner, pairs, mentee, mentor
):
    """On Sunday 31 October 2027 Vienna's clocks go back from 03:00 to 02:00: a meeting at
    00:30 UTC and one at 01:30 UTC both begin at 02:30 there, told apart by their offset."""
    with time_machine.travel(datetime(2027, 10, 20, 9, tzinfo=UTC), tick=False) as clock:
        for member in (mentee, mentor):
            member.timezone = VIENNA
        db.session.commit()
        mentorship_id = pairs.active(mentee, mentor)
        meeting_ids = [
            planner.schedule(
                mentorship_id, mentee, mentor, datetime(2027, 10, 31, hour, 30, tzinfo=UTC)
            )
            for hour in (0, 1)
        ]
        clock.move_to(datetime(2027, 10, 31, 4, tzinfo=UTC))
        for meeting_id in meeting_ids:
            confirm_on_the_page(client, meeting_id, mentee, mentor)
        when = "Oct 31, 2027, 2:30\u202fAM (Europe/Vienna, GMT+{offset})"
        assert goal_titles(app) == [
            f"Meeting of Mia Mentee and Max Mentor, {when.format(offset=offset)}"
            for offset in ("02:00", "01:00")
        ]


def test_long_names_give_way_to_the_meetings_time_in_its_goal_title(
    app, client, db, clock, apart, planner, mentee, mentor
):
    mentee.display_name, mentor.display_name = "M" * 80, "X" * 80
    db.session.commit()
    meeting_id = planner.schedule(apart, mentee, mentor, MEETING)
    clock.move_to(MEETING + timedelta(hours=1))
    confirm_on_the_page(client, meeting_id, mentee, mentor)
    [title] = goal_titles(app)
    assert len(title) <= Goal.title.type.length
    assert title.endswith(
        "Dec 4, 2027, 12:30\u202fPM (Pacific/Auckland) / Dec 3, 2027, 11:30\u202fPM (Europe/London)"
    )


def test_a_meeting_set_before_the_clocks_go_back_keeps_its_hour_after(
    app, client, mail, db, pairs, mentee, mentor
):
    """On 20 October Vienna is 11 hours behind Auckland; after its clocks go back on 31
    October, 12. Mia in Vienna proposes 10:00 on 2 November: Max in Auckland reads 22:00,
    not the 21:00 that today's difference would give."""
    mentee.timezone, mentor.timezone = VIENNA, AUCKLAND
    db.session.commit()
    with time_machine.travel(datetime(2027, 10, 20, 9, tzinfo=UTC), tick=False):
        mentorship_id = pairs.active(mentee, mentor)
        mail.deliver()
        meeting_id = propose_on_the_page(app, client, mentee, mentorship_id, "2027-11-02", "10:00")
        assert stored(app, select(Meeting.starts_at)) == datetime(2027, 11, 2, 9, tzinfo=UTC)
        assert "Tuesday, November 2, 2027, 10:00\u202fAM" in text(
            client.get(f"/mentoring/meetings/{meeting_id}")
        )
        maxs_time = "Nov 2, 2027, 10:00\u202fPM (Pacific/Auckland)"
        assert last_alert(app, mentor) == f"Mia Mentee proposes a meeting on {maxs_time}."
        assert maxs_time in mails_to(mail.deliver(), "max@")


def test_a_departure_of_a_meeting_moved_since_keeps_the_time_it_was_proposed_for(
    app, client, db, clock, pairs, planner, mentee, mentor
):
    """The meeting now starts at another time: the departure it needed was about the first
    one, which only its stored words still tell, written on Mia's clock even though no page
    of hers proposed it (the services, as the API or ``alma demo`` call them)."""
    mentee.timezone = AUCKLAND
    mentor.timezone, mentor.locale = LONDON, "de"
    db.session.commit()
    mentorship_id = pairs.active(mentee, mentor, ends_on=datetime(2027, 12, 3).date())
    meeting_id = planner.schedule(mentorship_id, mentee, mentor, MEETING)  # a day late for her
    earlier = MEETING - timedelta(days=1)  # within the agreement now
    change = meetings.propose_change(
        meeting_id, mentor, RESCHEDULE, meetings.MeetingPlan(earlier, 60, ""), "Earlier?"
    )
    meetings.answer_change(change.id, mentee, meetings.ACCEPT)
    db.session.commit()

    client.login(mentor)
    page = text(client.get(f"/mentoring/{mentorship_id}/agreement"))
    assert f"A meeting on {MIA_READS}" in page
    assert "A meeting on 2. Dez. 2027" not in page
