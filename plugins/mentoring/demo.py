"""What ``alma demo`` shows of mentoring: a request waiting for an answer, and a mentorship
under way with its agreement, a meeting that took place, one to come, and a few messages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from core.api import User, db, today_of, utcnow
from plugins.mentoring.choices import LOOKS, OFFERS, choose
from plugins.mentoring.models import Meeting
from plugins.mentoring.services import agreements, chat, fields, lifecycle, meetings, verification

# who among core's demo members (core/demo.py) offers mentoring, and who looks for a mentor,
# as their bios tell
DEMO_MENTORS = ("anna@example.org", "ben@example.org", "david@example.org")
DEMO_MENTEES = ("chloe@example.org", "david@example.org")
# their fields of study (ISCED-F codes), by role, as their bios tell; "06" is a broad field
DEMO_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    fields.MENTOR: {
        "anna@example.org": ("061", "011"),
        "ben@example.org": ("021", "041"),
        "david@example.org": ("061", "054"),
    },
    fields.MENTEE: {"chloe@example.org": ("06",), "david@example.org": ("041",)},
}


def create_demo_mentorships(users: list[User]) -> None:
    db.session.flush()  # the new members' ids
    mentors = [user for user in users if user.email in DEMO_MENTORS]
    mentees = [user for user in users if user.email in DEMO_MENTEES]
    for choice, chosen in ((OFFERS, mentors), (LOOKS, mentees)):
        for user in chosen:
            choose(user, choice, True)
    for user in mentors:  # as if a coordinator had checked them: the demo can be tried at once
        verification.mark_verified(user)
    _choose_demo_fields(users)
    if not mentors or not mentees:
        return
    lifecycle.send_request(
        mentees[0],
        mentors[0],
        "Hello! I am moving from teaching into software development and would love your "
        "guidance on my first portfolio project and on job interviews.",
        "Python, career change",
    )
    pairs = [(mentee, mentor) for mentee in mentees[1:] for mentor in mentors[1:]]
    pair = next(((mentee, mentor) for mentee, mentor in pairs if mentee.id != mentor.id), None)
    if pair is not None:
        _mentorship_under_way(*pair)


def _choose_demo_fields(users: list[User]) -> None:
    """Those of DEMO_FIELDS the operator's list of fields has."""
    listed = fields.fields_of_study().by_code
    for role, by_email in DEMO_FIELDS.items():
        for user in users:
            codes = [code for code in by_email.get(user.email, ()) if code in listed]
            if codes:
                fields.choose_fields(user, role, codes)


def _mentorship_under_way(mentee: User, mentor: User) -> None:
    mentorship = lifecycle.send_request(
        mentee,
        mentor,
        "I lead a small team since this spring and would like to learn to give feedback well.",
        "Leadership",
    )
    lifecycle.accept_request(mentorship.id, mentor)
    today = today_of(mentee)
    version = agreements.propose_agreement(
        mentorship.id,
        mentee,
        agreements.Terms(
            starts_on=today - timedelta(days=10),
            ends_on=today + timedelta(days=80),
            meetings_planned=6,
            channels="Video calls and the chat here",
            contact_every_days=14,
            agenda="1. Giving feedback\n2. One-to-ones\n3. Hiring\n4. Review of the quarter",
        ),
    )
    agreements.approve(version.id, mentor)
    for body, sender in (
        ("Thanks for accepting! Tuesday evening suits me for our first call.", mentee),
        ("Tuesday 18:00 works. Bring one piece of feedback you found hard to give.", mentor),
    ):
        chat.post_message(mentorship.id, sender, body)
    plan = meetings.MeetingPlan(
        starts_at=utcnow() + timedelta(days=1),
        duration_minutes=60,
        place="https://meet.example.org/alma-demo",
        agenda="Giving feedback: one real example each.",
    )
    first = meetings.schedule(mentorship.id, mentee, plan)
    meetings.approve(first.id, mentor)
    # the demo's first meeting took place a week ago (services only schedule what is to come)
    db.session.execute(
        update(Meeting).where(Meeting.id == first.id).values(starts_at=utcnow() - timedelta(days=7))
    )
    db.session.refresh(first)
    for party in (mentee, mentor):
        meetings.confirm_held(first.id, party)
    second = meetings.schedule(
        mentorship.id,
        mentee,
        meetings.MeetingPlan(
            starts_at=(utcnow() + timedelta(days=7)).replace(minute=0, second=0, microsecond=0),
            duration_minutes=60,
            place="https://meet.example.org/alma-demo",
            agenda="One-to-ones: how often, and what to ask.",
        ),
    )
    meetings.approve(second.id, mentor)
