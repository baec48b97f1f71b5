"""Mentoring's figures for the programme's statistics (hook ``register_statistics``):
mentors and mentorships now, and per month the requests and what became of them, the
meetings held, and how long a pair waits for an answer and then for their agreement."""

from __future__ import annotations

from collections.abc import Callable

from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from core.api import (
    Months,
    Statistic,
    User,
    count_per_month,
    db,
    median_days_per_month,
)
from plugins.mentoring.models import (
    ACCEPTED,
    ACTIVE,
    COMPLETED,
    DECLINED,
    HELD,
    REQUESTED,
    TERMINATED,
    Meeting,
    MentoringMember,
    Mentorship,
    MentorshipEvent,
)
from plugins.mentoring.services import verification
from plugins.mentoring.services.directory import count_available_mentors, listed_mentor


def count_mentors() -> int:
    """Members the directory lists as mentors (their identity verified where the programme
    checks it), with room or not."""
    return db.session.execute(
        select(func.count())
        .select_from(User)
        .join(MentoringMember, MentoringMember.user_id == User.id)
        .where(listed_mentor())
    ).scalar_one()


def _in_state(state: str) -> Callable[[], int]:
    """The count of mentorships in ``state``, from one ``GROUP BY state`` per request for
    every state the page shows."""
    return lambda: _state_counts().get(state, 0)


def _state_counts() -> dict[str, int]:
    if "mentoring_state_counts" not in g:
        g.mentoring_state_counts = dict(
            db.session.execute(
                select(Mentorship.state, func.count()).group_by(Mentorship.state)
            ).all()
        )
    counts: dict[str, int] = g.mentoring_state_counts
    return counts


def _requests(months: Months) -> list[int]:
    return count_per_month(months, Mentorship.created_at)


def _moved_to(state: str) -> Callable[[Months], list[int]]:
    """Per month, the mentorships that moved to ``state`` (from their history)."""
    return lambda months: count_per_month(
        months, MentorshipEvent.created_at, MentorshipEvent.to_state == state
    )


def _meetings_held(months: Months) -> list[int]:
    return count_per_month(months, Meeting.held_at, Meeting.status == HELD)


def _days_to_acceptance(months: Months) -> list[float | None]:
    """Per month of acceptance: the median days from the request to its acceptance."""
    return median_days_per_month(
        months,
        Mentorship.created_at,
        MentorshipEvent.created_at,
        MentorshipEvent.mentorship_id == Mentorship.id,
        MentorshipEvent.to_state == ACCEPTED,
    )


def _days_to_agreement(months: Months) -> list[float | None]:
    """Per month of the official start: the median days from acceptance to the agreement
    both approved."""
    accepted = aliased(MentorshipEvent)
    return median_days_per_month(
        months,
        accepted.created_at,
        Mentorship.started_at,
        accepted.mentorship_id == Mentorship.id,
        accepted.to_state == ACCEPTED,
    )


NOW = (  # name, label, the state counted
    ("requested", _l("Requests waiting"), REQUESTED),
    ("accepted", _l("Accepted, no agreement yet"), ACCEPTED),
    ("active", _l("Mentorships under way"), ACTIVE),
    ("completed", _l("Mentorships completed"), COMPLETED),
    ("ended_early", _l("Mentorships ended early"), TERMINATED),
)
MOVES = (  # name, label, the state moved to
    ("accepted", _l("Accepted"), ACCEPTED),
    ("declined", _l("Declined"), DECLINED),
    ("completed", _l("Completed"), COMPLETED),
    ("ended_early", _l("Ended early"), TERMINATED),
)

STATISTICS = [
    Statistic("mentoring.mentors", _l("Mentors verified and listed"), now=count_mentors, order=20),
    Statistic(
        "mentoring.mentors_to_verify",
        _l("Mentors awaiting verification"),
        now=verification.count_waiting,
        order=20,
    ),
    Statistic(
        "mentoring.mentors_available",
        _l("Mentors available"),
        now=count_available_mentors,
        order=21,
    ),
    *(
        Statistic(f"mentoring.mentorships_{name}", label, now=_in_state(state), order=22 + index)
        for index, (name, label, state) in enumerate(NOW)
    ),
    Statistic("mentoring.requests", _l("Requests"), per_month=_requests, order=20),
    *(
        Statistic(f"mentoring.{name}", label, per_month=_moved_to(state), order=21 + index)
        for index, (name, label, state) in enumerate(MOVES)
    ),
    Statistic("mentoring.meetings_held", _l("Meetings held"), per_month=_meetings_held, order=25),
    Statistic(
        "mentoring.days_to_acceptance",
        _l("Median days from request to acceptance"),
        per_month=_days_to_acceptance,
        unit=_l("days"),
        order=26,
    ),
    Statistic(
        "mentoring.days_to_agreement",
        _l("Median days from acceptance to agreement"),
        per_month=_days_to_agreement,
        unit=_l("days"),
        order=27,
    ),
]
