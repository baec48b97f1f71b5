"""The mentoring plugin's tests run with it enabled (and nothing else), unless a test says."""

from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def alma_plugins(request):
    marker = request.node.get_closest_marker("plugins")
    return list(marker.args) if marker else ["mentoring"]


@pytest.fixture
def mentor(create_user):
    return create_user(display_name="Max Mentor", email="max@example.org", wants_to_mentor=True)


@pytest.fixture
def mentee(create_user):
    return create_user(
        display_name="Mia Mentee", email="mia@example.org", wants_to_be_mentored=True
    )


@pytest.fixture
def stranger(create_user):
    return create_user(display_name="Stan Stranger", email="stan@example.org")


class Pairs:
    """Mentorships made through the real services, committed: ``pairs.request(mentee,
    mentor)`` leaves the request pending, ``pairs.accept(mentee, mentor)`` has it accepted."""

    def __init__(self, db):
        self.db = db

    def request(self, mentee, mentor) -> int:
        from plugins.mentoring.services import lifecycle

        mentorship = lifecycle.send_request(mentee, mentor, "Would you mentor me in Python?")
        self.db.session.commit()
        return mentorship.id

    def accept(self, mentee, mentor) -> int:
        from plugins.mentoring.services import lifecycle

        mentorship_id = self.request(mentee, mentor)
        lifecycle.accept_request(mentorship_id, mentor)
        self.db.session.commit()
        return mentorship_id

    def active(self, mentee, mentor, **terms) -> int:
        """Accepted, and the agreement (six meetings over three months, unless ``terms``
        say otherwise) proposed by the mentee and approved by the mentor."""
        from plugins.mentoring.services import agreements

        mentorship_id = self.accept(mentee, mentor)
        version = agreements.propose_agreement(mentorship_id, mentee, agreement_terms(**terms))
        agreements.approve(version.id, mentor)
        self.db.session.commit()
        return mentorship_id


def agreement_terms(**changes):
    from datetime import timedelta

    from core.db import utcnow
    from plugins.mentoring.services.agreements import Terms

    today = utcnow().date()
    terms = {
        "starts_on": today,
        "ends_on": today + timedelta(days=90),
        "meetings_planned": 6,
        "channels": "Video calls and the chat",
        "contact_every_days": 14,
        "agenda": "1. Portfolio\n2. Interviews",
        "notes": "",
    }
    return Terms(**{**terms, **changes})


@pytest.fixture
def pairs(db):
    return Pairs(db)


class Planner:
    """Agreements and meetings made through the real services, committed.
    ``planner.agree(mentorship_id, mentee, mentor)`` makes an accepted mentorship active;
    ``planner.propose(...)`` leaves a meeting awaiting the mentor, ``planner.schedule(...)``
    has it approved; ``planner.hold(...)`` has both confirm it took place."""

    def __init__(self, db):
        self.db = db

    def agree(self, mentorship_id: int, mentee, mentor, **terms) -> int:
        from plugins.mentoring.services import agreements

        today = datetime.now(UTC).date()
        terms = {
            "starts_on": today,
            "ends_on": today + timedelta(days=365),
            "meetings_planned": 10,
            "channels": "Video calls and the chat",
            "contact_every_days": 14,
        } | terms
        version_id = agreements.propose_agreement(
            mentorship_id, mentee, agreements.Terms(**terms)
        ).id
        agreements.approve(version_id, mentor)
        self.db.session.commit()
        return version_id

    def propose(self, mentorship_id: int, mentee, starts_at: datetime | None = None, **plan) -> int:
        from plugins.mentoring.services import meetings

        plan = {
            "starts_at": starts_at or datetime.now(UTC) + timedelta(days=3),
            "duration_minutes": 60,
            "place": "https://meet.example.org/ada-rui",
            "agenda": "Portfolio review",
        } | plan
        meeting_id = meetings.schedule(mentorship_id, mentee, meetings.MeetingPlan(**plan)).id
        self.db.session.commit()
        return meeting_id

    def schedule(self, mentorship_id: int, mentee, mentor, starts_at=None, **plan) -> int:
        from plugins.mentoring.services import meetings

        meeting_id = self.propose(mentorship_id, mentee, starts_at, **plan)
        meetings.approve(meeting_id, mentor)
        self.db.session.commit()
        return meeting_id

    def move_start(self, meeting_id: int, starts_at: datetime) -> None:
        """Move a meeting's time, to the past too, behind the services' back: they only
        schedule meetings to come, so this is how a test gets one that has begun."""
        from sqlalchemy import update

        from plugins.mentoring.models import Meeting

        self.db.session.execute(
            update(Meeting).where(Meeting.id == meeting_id).values(starts_at=starts_at)
        )
        self.db.session.commit()

    def hold(self, meeting_id: int, mentee, mentor, ago: timedelta = timedelta(hours=2)) -> None:
        """The scheduled meeting began ``ago``, and both confirm it took place."""
        from plugins.mentoring.services import meetings

        self.move_start(meeting_id, datetime.now(UTC) - ago)
        for party in (mentee, mentor):
            meetings.confirm_held(meeting_id, party)
            self.db.session.commit()


@pytest.fixture
def planner(db):
    return Planner(db)
