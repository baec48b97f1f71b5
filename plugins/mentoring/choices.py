"""A member's two mentoring choices: offering mentoring, looking for a mentor.

They live on the member's mentoring row (no row: neither), show as two checkboxes under My
data (core's ``ProfileField``, so they go with the plugin) and as badges beside the member's
name, and decide who is listed in the mentor directory."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from core.api import ProfileField, User, db
from plugins.mentoring.models import MentoringMember
from plugins.mentoring.services import verification
from plugins.mentoring.services.directory import mentoring_member

OFFERS, LOOKS = "wants_to_mentor", "wants_to_be_mentored"  # the form's names since before


def offers_mentoring(user: User) -> bool:
    member = db.session.get(MentoringMember, user.id)
    return bool(member and member.wants_to_mentor)


def looks_for_mentor(user: User) -> bool:
    member = db.session.get(MentoringMember, user.id)
    return bool(member and member.wants_to_be_mentored)


def choose(user: User, choice: str, wanted: bool) -> None:
    """Set one choice (``OFFERS`` or ``LOOKS``); a member who never chose keeps no row."""
    if not wanted and db.session.get(MentoringMember, user.id) is None:
        return
    setattr(mentoring_member(user), choice, bool(wanted))
    db.session.flush()


def mentors_as_checked(user: User) -> bool:
    """Whether others see ``user`` as a mentor: they offer it, and passed the identity check
    where the programme has one."""
    return offers_mentoring(user) and verification.is_verified(user)


def _field(choice: str, label: str, load, badge: str, badge_style: str, shown=None) -> ProfileField:
    return ProfileField(
        name=choice,
        field=BooleanField(label),
        load=load,
        save=lambda user, wanted: choose(user, choice, wanted),
        legend=_l("Mentoring"),
        note=_l("Other members see whether you mentor or look for a mentor."),
        badge=badge,
        badge_style=badge_style,
        badge_when=shown,
    )


# in this order on the form and among the badges
PROFILE_FIELDS = [
    _field(*choice)
    for choice in (
        (
            OFFERS,
            _l("I would like to mentor others"),
            offers_mentoring,
            _l("Mentor"),
            "success",
            mentors_as_checked,
        ),
        (
            LOOKS,
            _l("I am looking for a mentor"),
            looks_for_mentor,
            _l("Looking for a mentor"),
            "info",
        ),
    )
]
