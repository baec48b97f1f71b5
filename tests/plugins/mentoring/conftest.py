"""The mentoring plugin's tests run with it enabled (and nothing else), unless a test says.
Its members are ``mentee`` and ``mentor`` (here) and ``outsider`` (tests/conftest.py, also
called ``stranger``); its mentorships ``accepted`` (no agreement yet), ``active`` and
``mentorship`` (agreed)."""

import html
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.testing import sql_statements


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
def stranger(outsider):
    """A member outside the pair: the shared ``outsider``, by the name these tests give her."""
    return outsider


@pytest.fixture
def make_mentor(db, create_user):
    """``make_mentor(name, bio=, expertise=, interests=, languages=, capacity=, accepting=)``:
    a confirmed member offering mentoring, committed."""
    from core.models import UserLanguage, UserTopic
    from core.services.profiles import topic_named
    from plugins.mentoring.services import directory

    def make(
        name: str,
        *,
        bio: str = "",
        expertise: tuple[str, ...] = (),
        interests: tuple[str, ...] = (),
        languages: tuple[str, ...] = (),
        capacity: int | None = None,
        accepting: bool = True,
        confirmed: bool = True,
        wants_to_mentor: bool = True,
    ):
        user = create_user(
            display_name=name, bio=bio, wants_to_mentor=wants_to_mentor, confirmed=confirmed
        )
        user.topics = [
            UserTopic(topic=topic_named(topic), kind=kind, position=position)
            for kind, topics in (("expertise", expertise), ("interest", interests))
            for position, topic in enumerate(topics)
        ]
        user.languages = [UserLanguage(code=code) for code in languages]
        if capacity is not None or not accepting:
            directory.update_mentor_settings(user, capacity=capacity or 1, accepting=accepting)
        db.session.commit()
        return user

    return make


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


@pytest.fixture
def accepted(pairs, mentee, mentor) -> int:
    """A mentorship the mentor accepted, without an agreement yet: its id."""
    return pairs.accept(mentee, mentor)


@pytest.fixture
def chat(accepted) -> int:
    """An accepted mentorship, whose parties can chat: its id."""
    return accepted


@pytest.fixture
def active(pairs, mentee, mentor) -> int:
    """An active mentorship on ``agreement_terms()`` (six meetings over three months): its id."""
    return pairs.active(mentee, mentor)


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


@pytest.fixture
def mentorship(planner, accepted, mentee, mentor) -> int:
    """An active mentorship on the planner's terms (ten meetings over a year, in touch every
    14 days): its id."""
    planner.agree(accepted, mentee, mentor)
    return accepted


def page(client, user, path: str, data: dict | None = None):
    """``path`` as ``user`` sees it: fetched, or posted with ``data`` (following the redirect)."""
    client.login(user)
    if data is None:
        return client.get(path)
    return client.post(path, data=data, follow_redirects=True)


def statements_of_get(app, client, path: str, **options: Any) -> int:
    """How many SQL statements the page at ``path`` runs, fetched by ``client`` (with the
    ``options`` of ``client.get``: ``headers``, say)."""
    return len(statements_run_by_get(app, client, path, **options))


def statements_run_by_get(app, client, path: str, **options: Any) -> list[str]:
    """The SQL statements the page at ``path`` runs (see ``statements_of_get``)."""
    with sql_statements(app) as statements:
        assert client.get(path, **options).status_code == 200
    return statements


def text(response) -> str:
    """A page's HTML, its entities unescaped."""
    return html.unescape(response.get_data(as_text=True))


def first_then_second(app, db, job: Callable[[], Any]) -> dict[str, Any]:
    """Run ``job`` in a first unit of work that waits before committing, and meanwhile in a
    second one; what each returned."""
    from core.db import db as database

    db.session.commit()
    done, release = threading.Event(), threading.Event()
    returned: dict[str, Any] = {}

    def first() -> None:
        with app.app_context():
            returned["first"] = job()
            done.set()
            release.wait(30)
            database.session.commit()
            database.session.remove()

    def second() -> None:
        done.wait(30)
        with app.app_context():
            returned["second"] = job()
            database.session.commit()
            database.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    done.wait(30)
    time.sleep(0.5)  # the second run reaches the rows the first one holds
    release.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return returned
