"""Mentoring's figures on the programme's statistics: mentors and mentorships now; per
month, in the programme's calendar, the requests and what became of them, the meetings
held, and the median days to an answer and to the agreement."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime

import pytest
import time_machine

from plugins.mentoring.services import ending, lifecycle


@pytest.fixture
def app(make_app):
    return make_app(DEFAULT_TIMEZONE="Europe/Berlin")


def at(day: int, month: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_a_season_of_mentoring_in_figures(db, client, create_user, make_mentor, pairs, planner):
    mentees = [create_user(display_name=f"Mentee {n}", wants_to_be_mentored=True) for n in range(4)]
    ada, bo, cy, di = (make_mentor(name, capacity=2) for name in ("Ada", "Bo", "Cy", "Di"))
    make_mentor("Ed", accepting=False)  # listed, without room
    with time_machine.travel(at(10, 1), tick=False) as clock:
        first = pairs.request(mentees[0], ada)
        clock.move_to(at(13, 1))  # three days to accept, in January
        lifecycle.accept_request(first, ada)
        db.session.commit()
        clock.move_to(at(20, 1))  # seven days to agree: the official start
        planner.agree(first, mentees[0], ada)

        # 23:30 on 31 January in Berlin: January's request, answered in February
        clock.move_to(at(31, 1, 22, 30))
        second = pairs.request(mentees[1], bo)
        clock.move_to(at(2, 2))
        lifecycle.decline_request(second, bo, "timing", "Not this spring, sorry.")
        db.session.commit()

        clock.move_to(at(5, 2))  # 00:30 on 1 February in Berlin would be February too
        third = pairs.request(mentees[2], cy)
        clock.move_to(at(6, 2))  # one day to accept
        lifecycle.accept_request(third, cy)
        db.session.commit()
        clock.move_to(at(9, 2))
        ending.terminate(third, mentees[2], "We found our goals did not match.")
        db.session.commit()

        clock.move_to(at(1, 2, 12))
        meeting = planner.schedule(first, mentees[0], ada)
        clock.move_to(at(3, 3, 12))
        planner.hold(meeting, mentees[0], ada)

        clock.move_to(at(4, 3))
        fourth = pairs.request(mentees[3], di)
        clock.move_to(at(15, 3))
        lifecycle.accept_request(fourth, di)
        db.session.commit()

        client.login(create_user(role="coordinator"))
        page = html.unescape(client.get("/admin/statistics?months=6").text)
        response = client.get("/admin/statistics.csv?months=6")

    rows = {row["month"]: row for row in csv.DictReader(io.StringIO(response.text))}
    assert list(rows) == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
    columns = (
        "mentoring.requests",
        "mentoring.accepted",
        "mentoring.declined",
        "mentoring.completed",
        "mentoring.ended_early",
        "mentoring.meetings_held",
        "mentoring.days_to_acceptance",
        "mentoring.days_to_agreement",
    )
    figures = {month: tuple(row[column] for column in columns) for month, row in rows.items()}
    assert figures["2025-12"] == ("0", "0", "0", "0", "0", "0", "", "")
    assert figures["2026-01"] == ("2", "1", "0", "0", "0", "0", "3", "7")
    assert figures["2026-02"] == ("1", "1", "1", "0", "1", "0", "1", "")
    assert figures["2026-03"] == ("1", "1", "0", "0", "0", "1", "11", "")

    def now(name: str) -> str:
        start = page.index(f'data-statistic="{name}"')
        return page[page.index('data-value="', start) + 12 :].split('"')[0]

    assert now("mentoring.mentors") == "5"
    assert now("mentoring.mentors_to_verify") == "0"
    assert now("mentoring.mentors_available") == "4"  # Ed takes nobody
    assert now("mentoring.mentorships_requested") == "0"
    assert now("mentoring.mentorships_accepted") == "1"
    assert now("mentoring.mentorships_active") == "1"
    assert now("mentoring.mentorships_ended_early") == "1"
    assert re.search(r"Median days from request to acceptance\s*<span[^>]*>\(days\)", page)


def test_medians_are_the_middle_of_the_month(db, client, create_user, make_mentor, pairs):
    mentors = [make_mentor(f"Mentor {n}") for n in range(4)]
    mentees = [create_user(wants_to_be_mentored=True) for _ in range(4)]
    waits = (1, 2, 10, 4)  # days; the median of four is the mean of the middle two: 3
    with time_machine.travel(at(1, 3), tick=False) as clock:
        ids = [
            pairs.request(mentee, mentor) for mentee, mentor in zip(mentees, mentors, strict=True)
        ]
        for mentorship_id, mentor, days in zip(ids, mentors, waits, strict=True):
            clock.move_to(at(1 + days, 3))
            lifecycle.accept_request(mentorship_id, mentor)
            db.session.commit()
        client.login(create_user(role="coordinator"))
        rows = list(csv.DictReader(io.StringIO(client.get("/admin/statistics.csv").text)))
    assert rows[-1]["month"] == "2026-03"
    assert rows[-1]["mentoring.days_to_acceptance"] == "3"
