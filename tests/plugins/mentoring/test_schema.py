"""Whether a member offers mentoring or looks for a mentor moved from core's ``users`` into
mentoring's ``mentoring_members`` (mentoring_0005 copies, core_0007 drops): an upgrade from
the schema before keeps every member's choices and settings, with mentoring enabled or not."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, inspect, select

from core.db import db
from core.models import User
from core.schema import alembic_config, pending_heads, schema_parts, upgrade
from core.testing import AlmaClient

BEFORE = {"core": "core_0006", "mentoring": "mentoring_0004"}  # the schema before the move
CHOICES = ("wants_to_mentor", "wants_to_be_mentored")

# email: (wants_to_mentor, wants_to_be_mentored, their mentoring row before, if any)
MEMBERS = {
    "rui@example.org": (True, False, {"capacity": 3, "accepting": False, "mentee_count": 2}),
    "max@example.org": (True, False, None),
    "mia@example.org": (False, True, None),
    "dee@example.org": (True, True, None),
    "old@example.org": (False, False, {"capacity": 2, "accepting": True, "mentee_count": 0}),
    "nil@example.org": (False, False, None),
}
DEFAULTS = {"capacity": 1, "accepting": True, "mentee_count": 0}


def schema_before_with_members(app) -> dict[str, int]:
    """Every part at its revision before the move, with MEMBERS in it; their ids by email."""
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    with app.app_context():
        for part in schema_parts(app):
            command.upgrade(alembic_config(app, part), BEFORE[part.name])
        with db.engine.begin() as connection:
            tables = MetaData()
            tables.reflect(connection, only=["users", "mentoring_members"])
            users, rows = tables.tables["users"], tables.tables["mentoring_members"]
            ids = {}
            for email, (mentor, mentee, row) in MEMBERS.items():
                ids[email] = connection.execute(
                    users.insert()
                    .values(
                        email=email,
                        password_hash="x",
                        display_name=email.split("@")[0].title(),
                        bio="",
                        timezone="UTC",
                        wants_to_mentor=mentor,
                        wants_to_be_mentored=mentee,
                        is_admin=False,
                        email_confirmed_at=moment,
                        created_at=moment,
                    )
                    .returning(users.c.id)
                ).scalar_one()
                if row is not None:
                    connection.execute(rows.insert().values(user_id=ids[email], **row))
    return ids


def mentoring_rows(app) -> dict[int, dict]:
    with app.app_context(), db.engine.connect() as connection:
        rows = MetaData()
        rows.reflect(connection, only=["mentoring_members"])
        table = rows.tables["mentoring_members"]
        return {
            row.user_id: {key: value for key, value in row._mapping.items() if key != "user_id"}
            for row in connection.execute(select(table))
        }


def user_columns(app) -> set[str]:
    with app.app_context(), db.engine.connect() as connection:
        return {column["name"] for column in inspect(connection).get_columns("users")}


def test_the_upgrade_moves_every_members_choices_into_mentoring(app_on_empty_database):
    app = app_on_empty_database("mentoring")
    ids = schema_before_with_members(app)

    upgrade(app)

    expected = {
        ids[email]: (row or DEFAULTS) | {"wants_to_mentor": mentor, "wants_to_be_mentored": mentee}
        for email, (mentor, mentee, row) in MEMBERS.items()
        if row or mentor or mentee  # a member who never chose anything gets no row
    }
    assert mentoring_rows(app) == expected
    assert not user_columns(app) & set(CHOICES)  # core has them no more
    assert pending_heads(app) == set()


def test_the_moved_choices_are_what_the_site_shows(app_on_empty_database):
    app = app_on_empty_database("mentoring")
    ids = schema_before_with_members(app)
    upgrade(app)

    with app.app_context():
        from plugins.mentoring.services import directory

        listed = directory.search_mentors().mentors
        assert [(user.email, room) for user, room in listed] == [
            ("dee@example.org", True),
            ("max@example.org", True),
            ("rui@example.org", False),  # not accepting, as before
        ]
        assert directory.count_available_mentors() == 2
        mia = db.session.get(User, ids["mia@example.org"])
        db.session.remove()
    app.test_client_class = AlmaClient  # as the make_app fixture does
    client = app.test_client()
    client.login(mia)
    profile = client.get(f"/members/{ids['dee@example.org']}").text
    assert ">Mentor</span>" in profile and ">Looking for a mentor</span>" in profile
    assert client.get(f"/mentoring/request/{ids['old@example.org']}").status_code == 404


def test_a_site_without_mentoring_upgrades_too(app_on_empty_database):
    without = app_on_empty_database()
    with without.app_context():
        command.upgrade(alembic_config(without, schema_parts(without)[0]), BEFORE["core"])

    upgrade(without)

    assert not user_columns(without) & set(CHOICES)
    assert pending_heads(without) == set()
    # enabling mentoring later makes its table, with nothing left to copy
    with_mentoring = app_on_empty_database("mentoring")
    upgrade(with_mentoring)
    assert mentoring_rows(with_mentoring) == {}
    assert pending_heads(with_mentoring) == set()


def test_the_upgrade_records_todays_mentors_as_verified(app_on_empty_database):
    """mentoring_0006: mentors offering mentoring before identity checks existed stay
    listed (verified, no document, no coordinator named); no one else gets a check."""
    app = app_on_empty_database("mentoring")
    ids = schema_before_with_members(app)

    upgrade(app)

    with app.app_context(), db.engine.connect() as connection:
        tables = MetaData()
        tables.reflect(connection, only=["mentoring_verifications"])
        checks = {
            row.user_id: (row.state, row.document_name, row.decided_by_id)
            for row in connection.execute(select(tables.tables["mentoring_verifications"]))
        }
    mentors = [email for email, (mentor, _mentee, _row) in MEMBERS.items() if mentor]
    assert checks == {ids[email]: ("verified", None, None) for email in mentors}


def test_the_staff_column_keeps_every_meetings_amendment(app_on_empty_database):
    """mentoring_0007 adds ``by_staff`` to the agreement versions with ALTER TABLE: a copy of
    the table would drop the old one, and SQLite's foreign keys would then set each meeting's
    ``amendment_id`` (ON DELETE SET NULL) to NULL."""
    app = app_on_empty_database("mentoring")
    moment = datetime(2026, 11, 1, 9, tzinfo=UTC)
    with app.app_context():
        for part in schema_parts(app):
            head = "mentoring_0006" if part.name == "mentoring" else "heads"
            command.upgrade(alembic_config(app, part), head)
        with db.engine.begin() as connection:
            tables = MetaData()
            tables.reflect(connection)
            users, pairs, versions, meetings = (
                tables.tables[name]
                for name in (
                    "users",
                    "mentoring_mentorships",
                    "mentoring_agreement_versions",
                    "mentoring_meetings",
                )
            )
            mentee, mentor = (
                connection.execute(
                    users.insert()
                    .values(
                        email=f"{name}@example.org",
                        password_hash="x",
                        display_name=name.title(),
                        bio="",
                        timezone="UTC",
                        created_at=moment,
                    )
                    .returning(users.c.id)
                ).scalar_one()
                for name in ("mia", "max")
            )
            pair = connection.execute(
                pairs.insert()
                .values(
                    mentee_id=mentee,
                    mentor_id=mentor,
                    state="active",
                    message="",
                    topics="",
                    created_at=moment,
                    state_changed_at=moment,
                    expires_at=moment,
                )
                .returning(pairs.c.id)
            ).scalar_one()
            version = connection.execute(
                versions.insert()
                .values(
                    mentorship_id=pair,
                    number=1,
                    starts_on=moment.date(),
                    ends_on=moment.date(),
                    meetings_planned=2,
                    channels="video",
                    contact_every_days=14,
                    agenda="",
                    notes="",
                    reason="",
                    status="approved",
                    proposed_by_id=mentee,
                    proposed_at=moment,
                    comment="",
                )
                .returning(versions.c.id)
            ).scalar_one()
            connection.execute(
                meetings.insert().values(
                    mentorship_id=pair,
                    starts_at=moment,
                    duration_minutes=60,
                    place="",
                    agenda="",
                    is_final=False,
                    status="scheduled",
                    sequence=0,
                    created_at=moment,
                    amendment_id=version,
                )
            )

    upgrade(app)

    with app.app_context(), db.engine.connect() as connection:
        tables = MetaData()
        tables.reflect(connection, only=["mentoring_meetings", "mentoring_agreement_versions"])
        kept = connection.execute(select(tables.tables["mentoring_meetings"].c.amendment_id))
        assert kept.scalars().all() == [version]
        by_staff = select(tables.tables["mentoring_agreement_versions"].c.by_staff)
        assert connection.execute(by_staff).scalars().all() == [False]
