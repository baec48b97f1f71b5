"""``alma demo``: members to try alma with, and whatever the enabled plugins add for them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from core.db import db, utcnow
from core.models import User
from core.services.accounts import hash_password, user_by_email
from core.services.profiles import update_profile
from core.services.staff import grant_role
from core.state import hooks

DEMO_PASSWORD = "demo-password"


@dataclass(frozen=True)
class DemoMember:
    email: str
    name: str
    bio: str
    expertise: tuple[str, ...]
    interests: tuple[str, ...]
    languages: tuple[str, ...]
    timezone: str


DEMO_MEMBERS = (
    DemoMember(
        "anna@example.org",
        "Anna Berg",
        "Software engineer for 15 years; I love helping people into their first developer job.",
        ("Python", "Career change", "Code review"),
        ("Leadership",),
        ("en", "de"),
        "Europe/Berlin",
    ),
    DemoMember(
        "ben@example.org",
        "Ben Okafor",
        "Product designer. Ask me about portfolios, user research and freelancing.",
        ("UX design", "Freelancing"),
        ("Public speaking",),
        ("en", "fr"),
        "Africa/Lagos",
    ),
    DemoMember(
        "chloe@example.org",
        "Chloé Martin",
        "Moving from teaching into software development, looking for a mentor to guide me.",
        ("Teaching",),
        ("Python", "Career change"),
        ("fr", "en"),
        "Europe/Paris",
    ),
    DemoMember(
        "david@example.org",
        "David Chen",
        "Team lead who mentors juniors and looks for a mentor in leadership himself.",
        ("Data science", "Python"),
        ("Leadership",),
        ("en", "zh"),
        "America/Toronto",
    ),
)


# a coordinator, so the console can be tried at once; not one of the members plugins equip
DEMO_STAFF = DemoMember(
    "staff@example.org",
    "Sam Staff",
    "I coordinate the programme: write to me with any question.",
    (),
    (),
    ("en",),
    "Europe/London",
)


def create_demo_members() -> list[User]:
    """Create the demo members (and the demo coordinator) that do not exist yet; returns
    the new members."""
    if user_by_email(DEMO_STAFF.email) is None:
        _add_member(DEMO_STAFF)
        grant_role(DEMO_STAFF.email, "coordinator", "alma demo")
    created = []
    for member in DEMO_MEMBERS:
        if user_by_email(member.email) is None:
            created.append(_add_member(member))
    if created:
        hooks().demo_users_created(created)
    return created


def _add_member(member: DemoMember) -> User:
    user = User(
        email=member.email,
        password_hash=hash_password(DEMO_PASSWORD),
        display_name=member.name,
        email_confirmed_at=utcnow(),
        timezone=current_app.config["DEFAULT_TIMEZONE"],
    )
    db.session.add(user)
    update_profile(
        user,
        display_name=member.name,
        bio=member.bio,
        timezone=member.timezone,
        locale=None,
        expertise=list(member.expertise),
        interests=list(member.interests),
        languages=list(member.languages),
    )
    db.session.flush()
    return user
