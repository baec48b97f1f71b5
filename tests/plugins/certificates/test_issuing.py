"""Issuing: when a goal of a configured kind completes, each party gets one certificate,
recorded in the same unit of work, with a snapshot of what it certifies."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.config import ConfigError
from core.models import Goal
from core.services.goals import consent_to_goal, propose_goal
from core.state import hooks
from core.testing import count_rows
from plugins.certificates.models import Certificate

from .conftest import MET, CertificateProbe

NUMBER = re.compile(r"^ALMA-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")


def certificates(db) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).order_by(Certificate.user_id)))


def test_each_party_gets_one_pending_certificate_with_a_snapshot(db, pair, complete_goal):
    mentor, mentee = pair

    goal_id = complete_goal(mentor, mentee, title="Mentorship of Bob by Ada")

    issued = certificates(db)
    assert [(c.user_id, c.holder_name, c.status) for c in issued] == [
        (mentor.id, "Ada Lovelace", "pending"),
        (mentee.id, "Bob Smith", "pending"),
    ]
    first = issued[0]
    assert first.goal_id == goal_id
    assert first.achievement == "Finished the probe course"
    assert first.goal_title == "Mentorship of Bob by Ada"
    assert first.completed_on == db.session.get(Goal, goal_id).completed_at.date()
    assert first.facts == [
        ["Mentor", "Ada Lovelace"],
        ["Mentee", "Bob Smith"],
        ["Period", "3 March \N{EN DASH} 30 June 2026"],
        ["Meetings held", "6"],
    ]
    assert all(NUMBER.match(c.number) for c in issued)
    assert issued[0].number != issued[1].number
    assert not first.shown_on_profile and first.name_on_verification  # the defaults

    # the snapshot stays what it was when the goal completed
    mentor.display_name = "Ada King"
    db.session.commit()
    assert certificates(db)[0].holder_name == "Ada Lovelace"


def test_the_completion_date_is_the_holders_own(db, create_user, complete_goal):
    """Completed at 23:30 UTC: already the next day in Tokyo, still the same in New York."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    tokyo = create_user(display_name="Aiko", timezone="Asia/Tokyo")
    new_york = create_user(display_name="Nia", timezone="America/New_York")
    goal = propose_goal("probe.finished", "A course", [tokyo, new_york])
    db.session.commit()
    consent_to_goal(goal.id, tokyo)
    db.session.commit()
    consent_to_goal(goal.id, new_york)
    db.session.rollback()  # not this completion: one at a chosen instant
    db.session.execute(
        update(Goal)
        .where(Goal.id == goal.id)
        .values(completed_at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    )
    db.session.commit()
    hooks().goal_completed(db.session.get(Goal, goal.id))
    db.session.commit()

    dates = {c.holder_name: c.completed_on.isoformat() for c in certificates(db)}
    assert dates == {"Aiko": "2026-07-01", "Nia": "2026-06-30"}


def test_a_goal_of_another_kind_earns_no_certificate(app, pair, complete_goal):
    complete_goal(*pair, kind=MET, title="First meeting")

    assert count_rows(app, Certificate) == 0


def test_an_open_goal_earns_nothing_yet(app, db, pair):
    mentor, mentee = pair
    goal = propose_goal("probe.finished", "Mentorship", [mentor, mentee])
    db.session.commit()
    consent_to_goal(goal.id, mentor)
    db.session.commit()

    assert count_rows(app, Certificate) == 0


def test_a_completion_that_rolls_back_issues_nothing(app, db, pair):
    mentor, mentee = pair
    goal = propose_goal("probe.finished", "Mentorship", [mentor, mentee])
    db.session.commit()
    consent_to_goal(goal.id, mentor)
    db.session.commit()

    consent_to_goal(goal.id, mentee)  # issues, inside this unit of work …
    assert len(certificates(db)) == 2
    db.session.rollback()  # … which does not commit

    assert count_rows(app, Certificate) == 0


def test_the_event_delivered_twice_issues_once(app, db, pair, complete_goal):
    goal_id = complete_goal(*pair)
    numbers = [c.number for c in certificates(db)]

    hooks().goal_completed(db.session.get(Goal, goal_id))
    db.session.commit()

    assert count_rows(app, Certificate) == 2
    assert [c.number for c in certificates(db)] == numbers


def test_the_database_refuses_a_second_certificate_per_party_or_a_reused_number(
    db, pair, complete_goal
):
    goal_id = complete_goal(*pair)
    first = certificates(db)[0]
    copy = {
        column: getattr(first, column)
        for column in ("holder_name", "goal_kind", "achievement", "goal_title", "completed_on")
    } | {"facts": [], "status": "pending"}

    db.session.add(
        Certificate(number="ALMA-2222-2222-2222", goal_id=goal_id, user_id=first.user_id, **copy)
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()

    other_goal = complete_goal(*pair, kind=MET)
    db.session.add(
        Certificate(number=first.number, goal_id=other_goal, user_id=first.user_id, **copy)
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_configured_goal_kind_nobody_declares_stops_startup(make_app):
    with pytest.raises(ConfigError, match=r"plugins\.certificates\.goal_kinds") as error:
        make_app(
            extra_plugins={"probe": CertificateProbe()},
            PLUGINS=["probe", "certificates"],
            PLUGIN_SETTINGS={"certificates": {"goal_kinds": ["probe.finished", "probe.typo"]}},
        )
    assert "probe.typo" in str(error.value)


def test_certificates_without_the_plugin_declaring_the_default_kind_stop_startup(make_app):
    """By default certificates are for mentoring's "mentoring.finished": enabled without
    mentoring, another kind must be configured."""
    with pytest.raises(ConfigError, match=r"mentoring\.finished"):
        make_app(PLUGINS=["certificates"])


def test_an_empty_list_of_goal_kinds_is_refused(make_app):
    with pytest.raises(ConfigError, match=r"plugins\.certificates\.goal_kinds"):
        make_app(
            extra_plugins={"probe": CertificateProbe()},
            PLUGINS=["probe", "certificates"],
            PLUGIN_SETTINGS={"certificates": {"goal_kinds": []}},
        )
