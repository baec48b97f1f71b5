"""Finding a mentor: who mentors, with how much room (``MentoringMember``), and the search
of the mentor directory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from core.api import (
    InvalidInput,
    Topic,
    User,
    UserLanguage,
    UserTopic,
    db,
    insert_on_conflict,
    language_codes_of,
    like_pattern,
    topic_names_of,
)
from plugins.mentoring.models import MentoringMember
from plugins.mentoring.services import fields, verification

DIRECTORY_PAGE_SIZE = 12


# ---- mentors -----------------------------------------------------------------------------


NEW_MEMBER = {"capacity": 1, "accepting": True, "mentee_count": 0}  # until they change it


def mentoring_member(user: User) -> MentoringMember:
    """The member's mentoring row, created with the defaults on first use."""
    member = db.session.get(MentoringMember, user.id)
    if member is None:
        db.session.execute(  # a concurrent request may create it first: then it is theirs
            insert_on_conflict(MentoringMember)
            .values(user_id=user.id, **NEW_MEMBER)
            .on_conflict_do_nothing()
        )
        member = db.session.get_one(MentoringMember, user.id)
    return member


def mentor_settings_of(user: User) -> MentoringMember:
    """The member's settings to show; the defaults (not stored) if they never changed them."""
    return db.session.get(MentoringMember, user.id) or MentoringMember(
        user_id=user.id, **NEW_MEMBER
    )


def update_mentor_settings(user: User, *, capacity: int, accepting: bool) -> MentoringMember:
    member = _locked_member(user)
    if not 1 <= capacity <= 20:
        raise InvalidInput(_("Choose a capacity between 1 and 20 mentees."))
    if capacity < member.mentee_count:
        raise InvalidInput(
            _(
                "You have %(n)d mentees now: choose a capacity of at least %(n)d.",
                n=member.mentee_count,
            )
        )
    member.capacity = capacity
    member.accepting = accepting
    db.session.flush()
    return member


def _locked_member(user: User) -> MentoringMember:
    locked = select(MentoringMember).where(MentoringMember.user_id == user.id).with_for_update()
    locked = locked.execution_options(populate_existing=True)
    member = db.session.scalar(locked)
    if member is None:
        mentoring_member(user)
        member = db.session.scalars(locked).one()
    return member


def is_available_mentor(user: User) -> bool:
    member = db.session.get(MentoringMember, user.id)
    return bool(
        member
        and member.wants_to_mentor
        and user.email_confirmed
        and user.is_listed
        and member.has_room
        and verification.is_verified(user)
    )


@dataclass(frozen=True)
class DirectoryPage:
    mentors: list[tuple[User, bool]]  # each mentor, and whether they have room for a mentee
    page: int
    has_more: bool


def search_mentors(
    *,
    text: str = "",
    topic: str = "",
    language: str = "",
    field: str = "",
    with_room: bool = False,
    page: int = 1,
) -> DirectoryPage:
    """Members who offer mentoring, matching free text (name, bio, topics), an expertise
    topic, a language and a field of study (a broad field: any of its narrow fields too);
    those with room first, then by name.

    Each of the two groups is read by name along an index of mentors, so that a page stops
    at its last mentor however many match (a word in half of all bios, say)."""
    matching = _matching_mentors(text, topic, language, field)
    start = (page - 1) * DIRECTORY_PAGE_SIZE
    wanted = DIRECTORY_PAGE_SIZE + 1  # one more: is there a next page?
    shown = [(user, True) for user in _by_name(matching.where(MENTOR_HAS_ROOM), start, wanted)]
    if len(shown) < wanted and not with_room:
        # past the mentors with room: the page goes on with those without
        offset = 0 if shown or not start else start - _count(matching.where(MENTOR_HAS_ROOM))
        without = _by_name(matching.where(~MENTOR_HAS_ROOM), offset, wanted - len(shown))
        shown += [(user, False) for user in without]
    return DirectoryPage(shown[:DIRECTORY_PAGE_SIZE], page, len(shown) > DIRECTORY_PAGE_SIZE)


@dataclass(frozen=True)
class MentorLists:
    """What the directory shows under each mentor of a page, by mentor id (a mentor without
    any is left out): their fields of study, expertise topics and languages. Three reads for
    the whole page, whatever its number of mentors."""

    fields: dict[int, list[str]]
    expertise: dict[int, list[str]]
    languages: dict[int, list[str]]


def lists_of(page: DirectoryPage) -> MentorLists:
    shown = [mentor.id for mentor, _room in page.mentors]
    return MentorLists(
        fields.labels_of_members(shown),
        topic_names_of(shown, "expertise"),
        language_codes_of(shown),
    )


MENTOR_HAS_ROOM = and_(  # every mentor has a mentoring row: their choice to mentor is in it
    MentoringMember.accepting.is_(True),
    MentoringMember.mentee_count < MentoringMember.capacity,
)


def _matching_mentors(text: str, topic: str, language: str, field: str) -> Select:
    query = (
        select(User)
        .join(MentoringMember, MentoringMember.user_id == User.id)
        .where(listed_mentor())
    )
    if topic.strip():
        query = query.where(_has_topic(topic.strip().lower(), kind="expertise"))
    if language.strip():
        query = query.where(
            select(UserLanguage.user_id)
            .where(UserLanguage.user_id == User.id, UserLanguage.code == language.strip())
            .exists()
        )
    if field:
        query = query.where(fields.holds_field_under(field, fields.MENTOR))
    for word in text.split()[:5]:
        pattern = like_pattern(word.lower())
        query = query.where(
            or_(
                func.lower(User.display_name).like(pattern, escape="\\"),
                # a bio the moderators hid is searched no more than it is shown
                and_(
                    User.profile_hidden_at.is_(None),
                    func.lower(User.bio).like(pattern, escape="\\"),
                ),
                _has_topic(pattern, like=True),
            )
        )
    return query


def _by_name(query: Select, offset: int, limit: int) -> list[User]:
    return list(
        db.session.scalars(query.order_by(User.display_name, User.id).offset(offset).limit(limit))
    )


def _count(query: Select) -> int:
    return db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def _has_topic(key: str, *, kind: str | None = None, like: bool = False) -> Any:
    condition = Topic.key.like(key, escape="\\") if like else Topic.key == key
    query = select(UserTopic.user_id).join(Topic).where(UserTopic.user_id == User.id, condition)
    if kind:
        query = query.where(UserTopic.kind == kind)
    return query.exists()


def count_available_mentors() -> int:
    return db.session.execute(
        select(func.count())
        .select_from(User)
        .join(MentoringMember, MentoringMember.user_id == User.id)
        .where(listed_mentor(), MENTOR_HAS_ROOM)
    ).scalar_one()


def listed_mentor() -> ColumnElement[bool]:
    """A member the directory lists as a mentor (built per query: a suspension ends in time),
    their identity verified where the programme checks it."""
    return and_(
        MentoringMember.wants_to_mentor.is_(True),
        User.email_confirmed_at.is_not(None),
        User.is_listed,
        verification.verified_condition(User.id),
    )
