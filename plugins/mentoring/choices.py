"""A member's mentoring choices: offering mentoring, looking for a mentor, and their fields
of study as mentor and as mentee.

The first two live on the member's mentoring row (no row: neither), show as two checkboxes
under My data (core's ``ProfileField``, so they go with the plugin) and as badges beside the
member's name, and decide who is listed in the mentor directory. The fields of study are two
searchable lists grouped by broad field, below them (services/fields.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectMultipleField

from core.api import ProfileField, User, db, get_optional
from plugins.mentoring.models import MentoringMember
from plugins.mentoring.services import fields, verification
from plugins.mentoring.services.directory import mentoring_member

OFFERS, LOOKS = "wants_to_mentor", "wants_to_be_mentored"  # the form's names since before
FIELDS_AS = {
    fields.MENTOR: "mentoring_fields_as_mentor",
    fields.MENTEE: "mentoring_fields_as_mentee",
}
LEGEND = _l("Mentoring")


def offers_mentoring(user: User) -> bool:
    member = get_optional(MentoringMember, user.id)
    return bool(member and member.wants_to_mentor)


def looks_for_mentor(user: User) -> bool:
    member = get_optional(MentoringMember, user.id)
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
        legend=LEGEND,
        note=_l(
            "Other members see whether you mentor or look for a mentor, and your fields as a "
            "mentor."
        ),
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


def _fields_of_study(role: str, label: str) -> ProfileField:
    return ProfileField(
        name=FIELDS_AS[role],
        field=SelectMultipleField(
            label,
            choices=fields.grouped_choices,
            description=_l("On a computer, hold Ctrl (or ⌘) to choose several."),
            render_kw={
                "size": 8,
                "data-picker": "",
                "data-picker-hint": _l(
                    "Type to find a field, Enter to add it, Backspace to remove the last one."
                ),
                "data-picker-remove": _l("Remove"),
            },
        ),
        load=lambda user: fields.chosen_codes(user, role),
        save=lambda user, codes: fields.choose_fields(user, role, codes or []),
        legend=LEGEND,
    )


PROFILE_FIELDS += [
    _fields_of_study(fields.MENTOR, _l("My fields of study as a mentor")),
    _fields_of_study(fields.MENTEE, _l("Fields I would like a mentor in")),
]
