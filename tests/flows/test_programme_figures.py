"""The programme's figures with every plugin of alma on: the home page's counters (mentors
available, active and finished mentorships, groups, wiki articles), each one cheap query, and
the staff's statistics gathering every plugin's figures."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from sqlalchemy import update

from core.testing import sql_statements
from plugins.groups.services.directory import create_group
from plugins.mentoring.models import Mentorship
from plugins.mentoring.services import lifecycle
from plugins.wiki.services import create_article

pytestmark = pytest.mark.plugins("mentoring", "wiki", "groups", "credits", "certificates")


def counters(page: str) -> dict[str, int]:
    found = re.findall(
        r'<div class="counter">(\d+)</div>\s*<div class="text-muted">([^<]+)</div>', page
    )
    return {label: int(value) for value, label in found}


@pytest.fixture
def programme(db, create_user):
    """Three mentors, a pair under way, one finished, one request waiting; a public
    group and a private one; two wiki articles."""
    mentors = [create_user(display_name=f"Mentor {n}", wants_to_mentor=True) for n in range(3)]
    mentees = [create_user(display_name=f"Mentee {n}") for n in range(3)]
    create_user(display_name="Suspended mentor", wants_to_mentor=True, suspended_at=db.func.now())
    under_way = lifecycle.send_request(mentees[0], mentors[0], "Hello")
    lifecycle.accept_request(under_way.id, mentors[0])  # mentor 0 is now full (capacity 1)
    finished = lifecycle.send_request(mentees[1], mentors[1], "Hello")
    lifecycle.accept_request(finished.id, mentors[1])
    lifecycle.send_request(mentees[2], mentors[2], "Hello")
    db.session.commit()
    # finished without going through the whole journey (tests/flows/test_finished_mentorship)
    db.session.execute(
        update(Mentorship).where(Mentorship.id == finished.id).values(state="completed")
    )
    create_group(mentees[0], name="Pythonistas")
    create_group(mentees[0], name="Quiet room", visibility="members")
    create_article(mentors[0], "Your first meeting", "Agree on goals first.")
    create_article(mentors[1], "Giving feedback", "Be specific and kind.")
    db.session.commit()


def test_the_home_page_counts_the_community_cheaply(app, client, db, programme):
    with sql_statements(app) as statements:
        page = html.unescape(client.get("/").text)

    assert counters(page) == {
        "mentors available": 1,  # mentor 2; mentors 0 and 1 have their one mentee
        "active mentorships": 1,
        "finished mentorships": 1,
        "groups": 1,  # the public one
        "wiki articles": 2,
    }
    selects = [statement for statement in statements if statement.startswith("SELECT")]
    assert len(selects) == 5  # one COUNT per counter, nothing else for a visitor
    assert all(statement.startswith("SELECT count(*)") for statement in selects)


def test_the_statistics_gather_every_plugins_figures(app, client, db, create_user, programme):
    client.login(create_user(role="coordinator"))
    with sql_statements(app) as statements:
        page = html.unescape(client.get("/admin/statistics").text)

    # a query per figure (the mentorships' states in one), whatever the size of the data
    mentorship_states = [s for s in statements if "GROUP BY mentoring_mentorships.state" in s]
    assert len(mentorship_states) == 1
    assert len([s for s in statements if s.startswith("SELECT")]) <= 22
    for name in (
        "members",
        "mentoring.mentors_available",
        "mentoring.mentorships_active",
        "groups.groups",
        "wiki.articles",
        "certificates.valid",
    ):
        assert f'data-statistic="{name}"' in page, name
    header = next(csv.reader(io.StringIO(client.get("/admin/statistics.csv").text)))
    assert header == [
        "month",
        "registrations",
        "mentoring.requests",
        "mentoring.accepted",
        "mentoring.declined",
        "mentoring.completed",
        "mentoring.ended_early",
        "mentoring.meetings_held",
        "mentoring.days_to_acceptance",
        "mentoring.days_to_agreement",
        "groups.created",
        "wiki.articles_created",
        "certificates.issued",
    ]
