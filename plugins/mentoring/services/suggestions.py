""" "Suggested for you": the available mentors a mentee may want to ask, best first, each with
its reasons in words; and the mentee's "Not for me" on a suggestion (private to them).

The score of a mentor for a mentee is a sum of parts, each from 0 to 1 times its weight (the
``suggest_*_weight`` settings of ``[plugins.mentoring]``):

- **topics**: the mentee's interests that are the mentor's expertise, each counted by its
  rarity among mentors, ``ln((1 + N) / (1 + n)) + 1`` (inverse document frequency: ``N``
  members offering mentoring, ``n`` of them with that expertise), as a share of the rarity of
  all the mentee's interests: a rare topic in common counts more than a common one;
- **fields of study**: each of the mentee's fields the mentor has too counts 1 for the same
  narrow field, 1/2 for the same broad field only (the narrow field's parent in the list of
  fields, or the broad field itself), as a share of the mentee's fields;
- **language**: 1 if both speak a language;
- **daytime**: the hours both are between 08:00 and 20:00 on their own clocks today (with
  today's daylight saving time), out of 12;
- **answers**: the share of requests the mentor answered (accepted or declined, against those
  that expired unanswered), times ``7 / (7 + median days to answer)``; 1/2 for a mentor no
  one asked yet, so that new mentors are not buried.

A suggestion starts from a topic in common: a mentee without interests gets none. Left out:
mentors who declined the mentee once, those with whom the mentee has a request or mentorship
under way, and those the mentee dismissed. Ties keep the older account first.

Reading it costs three statements, whatever the number of mentors: the mentee's interests
with their rarity (and the mentee's languages), the best ``CANDIDATES`` mentors by topics in
common (SQL sums the rarity; among equals, those who speak one of the mentee's languages
first) with their time zones and languages, and their answers. The scoring is done in Python
by :func:`rank`, a pure function.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.lists import format_list
from babel.numbers import format_decimal
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, String, case, cast, delete, func, select
from sqlalchemy.orm import aliased, selectinload

from core.api import (
    NotFound,
    Topic,
    User,
    UserLanguage,
    UserTopic,
    db,
    insert_on_conflict,
    language_names,
    utcnow,
    zone_of,
)
from plugins.mentoring.models import (
    ACCEPTED,
    DECLINED,
    EXPIRED,
    OPEN_STATES,
    REQUESTED,
    MentoringMember,
    Mentorship,
    MentorshipEvent,
    SuggestionDismissal,
)
from plugins.mentoring.services.directory import MENTOR_HAS_ROOM, listed_mentor
from plugins.mentoring.services.fields import codes_of_members
from plugins.mentoring.services.settings import settings

SHOWN = 6  # suggestions on a page (the directory shows fewer, above its search)
CANDIDATES = 60  # mentors read for scoring, the best by topics, then language, in common
DAY_START, DAY_END = time(8), time(20)  # "daytime" on a member's own clock
DAYTIME_HOURS = 12
NEW_MENTOR_ANSWERS = 0.5  # the answers part of a mentor no one asked yet
HALF_SPEED_DAYS = 7  # a median answer after a week halves the answers part


# ---- the score: pure functions ------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    topics: int = 40
    fields: int = 20
    language: int = 15
    daytime: int = 10
    answers: int = 15


def weights_from_settings() -> Weights:
    chosen = settings()
    return Weights(
        topics=chosen.suggest_topics_weight,
        fields=chosen.suggest_fields_weight,
        language=chosen.suggest_language_weight,
        daytime=chosen.suggest_daytime_weight,
        answers=chosen.suggest_answers_weight,
    )


@dataclass(frozen=True)
class Profile:
    """What the score compares of a member: a mentee's ``topics`` are their interests (in
    their order), a mentor's their expertise; ``fields`` are ``(broad field, field)`` codes
    (a broad field is its own: ``("06", "06")``; a narrow one ``("06", "061")``)."""

    id: int
    topics: tuple[str, ...]
    languages: frozenset[str]
    zone: ZoneInfo
    fields: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Answers:
    """How a mentor answered the requests sent to them."""

    answered: int = 0
    unanswered: int = 0  # expired without an answer
    median_days: float | None = None  # to an answer

    @property
    def asked(self) -> int:
        return self.answered + self.unanswered


@dataclass(frozen=True)
class Suggestion:
    mentor_id: int
    score: float
    topics: tuple[str, ...]  # in common, in the mentee's order
    languages: tuple[str, ...]  # codes both speak
    hours_apart: float
    answers: Answers
    same_fields: int  # narrow fields in common
    related_fields: int  # broad fields in common, beyond the narrow ones


def rarity(listed_mentors: int, mentors_with: Mapping[str, int]) -> dict[str, float]:
    """Each topic's weight: its inverse document frequency over the mentors."""
    return {
        topic: math.log((1 + listed_mentors) / (1 + count)) + 1
        for topic, count in mentors_with.items()
    }


@functools.lru_cache(maxsize=4096)  # a page scores many mentors in few time zones
def daytime_hours(zone: ZoneInfo, other: ZoneInfo, day: date) -> float:
    """The hours of ``day`` (in ``zone``) when both clocks show daytime: the other's
    daytime may fall on their yesterday or tomorrow."""
    mine = _daytime(zone, day)
    shared = 0.0
    for shift in (-1, 0, 1):
        theirs = _daytime(other, day + timedelta(days=shift))
        overlap = min(mine[1], theirs[1]) - max(mine[0], theirs[0])
        shared += max(overlap.total_seconds(), 0) / 3600
    return shared


def _daytime(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, DAY_START, tzinfo=zone).astimezone(UTC),
        datetime.combine(day, DAY_END, tzinfo=zone).astimezone(UTC),
    )


def hours_apart(zone: ZoneInfo, other: ZoneInfo, moment: datetime) -> float:
    """How far apart the two clocks are at ``moment``."""
    offsets = [moment.astimezone(z).utcoffset() or timedelta() for z in (zone, other)]
    return abs(offsets[0] - offsets[1]).total_seconds() / 3600


def field_overlap(
    mentee: frozenset[tuple[str, str]], mentor: frozenset[tuple[str, str]]
) -> tuple[int, int]:
    """The narrow fields in common, and the broad ones in common beyond those (each field
    as ``(broad field, field)``, see ``Profile``)."""
    if not (mentee and mentor):
        return 0, 0
    same = {field for field in mentee & mentor if field[0] != field[1]}
    broad = {field[0] for field in mentee} & {field[0] for field in mentor}
    return len(same), len(broad - {field[0] for field in same})


def answers_part(answers: Answers) -> float:
    if not answers.asked:
        return NEW_MENTOR_ANSWERS
    share = answers.answered / answers.asked
    if answers.median_days is None:
        return share
    return share * HALF_SPEED_DAYS / (HALF_SPEED_DAYS + answers.median_days)


def score(
    mentee: Profile,
    mentor: Profile,
    answers: Answers,
    rarities: Mapping[str, float],
    weights: Weights,
    now: datetime,
) -> Suggestion:
    common = tuple(topic for topic in mentee.topics if topic in set(mentor.topics))
    wanted = sum(rarities.get(topic, 1.0) for topic in mentee.topics)
    topics = sum(rarities.get(topic, 1.0) for topic in common) / wanted if wanted else 0.0
    same, related = field_overlap(mentee.fields, mentor.fields)
    fields = min((same + related / 2) / len(mentee.fields), 1.0) if mentee.fields else 0.0
    languages = tuple(sorted(mentee.languages & mentor.languages))
    today = now.astimezone(mentee.zone).date()
    daytime = daytime_hours(mentee.zone, mentor.zone, today) / DAYTIME_HOURS
    total = (
        weights.topics * topics
        + weights.fields * fields
        + weights.language * bool(languages)
        + weights.daytime * daytime
        + weights.answers * answers_part(answers)
    )
    return Suggestion(
        mentor_id=mentor.id,
        score=total,
        topics=common,
        languages=languages,
        hours_apart=hours_apart(mentee.zone, mentor.zone, now),
        answers=answers,
        same_fields=same,
        related_fields=related,
    )


def rank(
    mentee: Profile,
    mentors: Iterable[tuple[Profile, Answers]],
    rarities: Mapping[str, float],
    weights: Weights,
    now: datetime,
) -> list[Suggestion]:
    """The mentors with a topic in common with ``mentee``, best first; among equal scores
    the lower id (the older account) first."""
    scored = [score(mentee, mentor, answers, rarities, weights, now) for mentor, answers in mentors]
    found = [suggestion for suggestion in scored if suggestion.topics]
    # rounded: two mentors alike must not be told apart by a float's last bits
    return sorted(found, key=lambda found: (-round(found.score, 9), found.mentor_id))


# ---- the reasons, in words -------------------------------------------------------------------


def reasons(suggestion: Suggestion) -> list[str]:
    """Why the mentor is suggested, in the viewer's language: "3 topics in common: Python,
    careers, data", "both speak German", "1 hour apart"…"""
    said = [
        ngettext(
            "%(num)d topic in common: %(topics)s",
            "%(num)d topics in common: %(topics)s",
            len(suggestion.topics),
            topics=", ".join(suggestion.topics),
        )
    ]
    if suggestion.same_fields:
        said.append(
            ngettext(
                "%(num)d field of study in common",
                "%(num)d fields of study in common",
                suggestion.same_fields,
            )
        )
    elif suggestion.related_fields:
        said.append(_("a related field of study"))
    if suggestion.languages:
        names = language_names()
        spoken = [names.get(code, code) for code in suggestion.languages]
        said.append(_("both speak %(languages)s", languages=_list(spoken)))
    said.append(_time_apart(suggestion.hours_apart))
    said.extend(_answers_in_words(suggestion.answers))
    return said


def _list(items: list[str]) -> str:
    return format_list(items, locale=str(get_locale()))


def _time_apart(hours: float) -> str:
    if not hours:
        return _("no time difference")
    # a plural form needs a whole number: 1.5 hours reads as plural, as 2 would
    count = int(hours) if hours.is_integer() else 2
    shown = format_decimal(hours, format="#.#", locale=str(get_locale()))
    return ngettext("%(hours)s hour apart", "%(hours)s hours apart", count, hours=shown)


def _answers_in_words(answers: Answers) -> list[str]:
    if not answers.asked:
        return []
    said = [
        ngettext(
            "answered %(answered)d of %(num)d request",
            "answered %(answered)d of %(num)d requests",
            answers.asked,
            answered=answers.answered,
        )
    ]
    if answers.median_days is not None:
        days = math.ceil(answers.median_days)
        said.append(
            _("usually answers within a day")
            if days <= 1
            else ngettext(
                "usually answers within %(num)d day", "usually answers within %(num)d days", days
            )
        )
    return said


# ---- reading the candidates ------------------------------------------------------------------


@dataclass(frozen=True)
class Mentor:
    """What a suggestion shows of its mentor (as the ``avatar`` macro reads a member)."""

    id: int
    display_name: str
    photo: str | None
    profile_hidden_at: datetime | None


@dataclass(frozen=True)
class Suggested:
    """A suggestion as a page shows it."""

    mentor: Mentor
    reasons: list[str]


@dataclass(frozen=True)
class Suggestions:
    shown: list[Suggested]
    has_interests: bool  # without, the page says to add some


def suggestions_for(mentee: User, limit: int = SHOWN) -> Suggestions:
    interests = _interests_of(mentee)
    if not interests.names:
        return Suggestions([], has_interests=False)
    candidates, shown = _candidates(mentee, interests)
    answers = _answers_of([candidate.id for candidate in candidates])
    fields = codes_of_members([mentee.id, *(candidate.id for candidate in candidates)])
    profile = Profile(
        id=mentee.id,
        topics=tuple(interests.names.values()),
        languages=interests.languages,
        zone=zone_of(mentee),
        fields=fields.get(mentee.id, {}).get("mentee", frozenset()),
    )
    found = rank(
        profile,
        (
            (
                replace(candidate, fields=fields.get(candidate.id, {}).get("mentor", frozenset())),
                answers.get(candidate.id, Answers()),
            )
            for candidate in candidates
        ),
        interests.rarities,
        weights_from_settings(),
        utcnow(),
    )[:limit]
    return Suggestions(
        [Suggested(shown[suggestion.mentor_id], reasons(suggestion)) for suggestion in found],
        has_interests=True,
    )


@dataclass(frozen=True)
class Interests:
    names: dict[int, str]  # topic id: name, in the mentee's order
    rarities: dict[str, float]  # topic name: rarity among mentors
    languages: frozenset[str]  # the mentee's


def _interests_of(mentee: User) -> Interests:
    """The mentee's interests, each with the number of members offering mentoring with that
    expertise, the number of members offering mentoring, and the mentee's languages: one
    statement. (Counted among those offering, listed or not: the listed ones would need every
    mentor's account and identity check read, for a weight that barely differs.)"""
    theirs = aliased(UserTopic)
    offering = MentoringMember.wants_to_mentor.is_(True)  # along the index of mentors
    experts = (
        select(func.count())
        .select_from(theirs)
        .join(MentoringMember, MentoringMember.user_id == theirs.user_id)
        .where(theirs.topic_id == UserTopic.topic_id, theirs.kind == "expertise", offering)
        .scalar_subquery()
    )
    mentors = select(func.count()).select_from(MentoringMember).where(offering).scalar_subquery()
    rows = db.session.execute(
        select(Topic.id, Topic.name, experts, mentors, _languages_of(mentee.id))
        .select_from(UserTopic)
        .join(Topic, Topic.id == UserTopic.topic_id)
        .where(UserTopic.user_id == mentee.id, UserTopic.kind == "interest")
        .order_by(UserTopic.position, Topic.id)
    ).all()
    listed, spoken = (rows[0][3], rows[0][4]) if rows else (0, None)
    return Interests(
        names={row[0]: row[1] for row in rows},
        rarities=rarity(listed, {row[1]: row[2] for row in rows}),
        languages=_codes(spoken),
    )


def _languages_of(user_id: Any) -> Any:
    """A member's language codes, comma-separated (NULL: none), as a column."""
    return (
        select(func.aggregate_strings(UserLanguage.code, ","))
        .where(UserLanguage.user_id == user_id)
        .scalar_subquery()
    )


def _codes(joined: str | None) -> frozenset[str]:
    return frozenset(joined.split(",")) if joined else frozenset()


def _candidates(mentee: User, interests: Interests) -> tuple[list[Profile], dict[int, Mentor]]:
    """The available mentors with the most rarity in common with the mentee's interests, and
    among equals those who speak one of the mentee's languages (at most ``CANDIDATES``), as
    the score and the page see them: one statement, of a few columns."""
    in_common = func.sum(
        case(
            {tid: interests.rarities[name] for tid, name in interests.names.items()},
            value=UserTopic.topic_id,
            else_=0.0,
        )
    )
    shares_a_language = (
        select(UserLanguage.user_id)
        .where(UserLanguage.user_id == User.id, UserLanguage.code.in_(sorted(interests.languages)))
        .exists()
    )
    topic_ids = func.aggregate_strings(cast(UserTopic.topic_id, String), ",")
    rows = db.session.execute(
        select(
            User.id,
            User.display_name,
            User.photo,
            User.profile_hidden_at,
            User.timezone,
            topic_ids,
            _languages_of(User.id),
        )
        .join(UserTopic, UserTopic.user_id == User.id)
        .join(MentoringMember, MentoringMember.user_id == User.id)
        .where(
            UserTopic.kind == "expertise",
            UserTopic.topic_id.in_(list(interests.names)),
            listed_mentor(),
            MENTOR_HAS_ROOM,
            User.id != mentee.id,
            ~_asked_or_dismissed(mentee),
        )
        .group_by(User.id)
        .order_by(in_common.desc(), shares_a_language.desc(), User.id)
        .limit(CANDIDATES)
    ).all()
    profiles = [
        Profile(
            id=user_id,
            topics=tuple(interests.names[int(tid)] for tid in topic_list.split(",")),
            languages=_codes(spoken),
            zone=_zone(timezone),
        )
        for user_id, *_shown, timezone, topic_list, spoken in rows
    ]
    return profiles, {row[0]: Mentor(*row[:4]) for row in rows}


def _zone(name: str) -> ZoneInfo:
    """A member's time zone from its name, as core's ``zone_of`` reads it from a member (UTC
    if unknown to this machine): the candidates are read as columns, not as members."""
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _asked_or_dismissed(mentee: User) -> ColumnElement[bool]:
    """A mentor the mentee has a request or mentorship under way with, who declined them
    once, or whom they dismissed (for a query of ``User`` as the mentor)."""
    asked = select(Mentorship.id).where(
        Mentorship.mentee_id == mentee.id,
        Mentorship.mentor_id == User.id,
        Mentorship.state.in_((*OPEN_STATES, DECLINED)),
    )
    dismissed = select(SuggestionDismissal.mentor_id).where(
        SuggestionDismissal.mentee_id == mentee.id, SuggestionDismissal.mentor_id == User.id
    )
    return asked.exists() | dismissed.exists()


def _answers_of(mentor_ids: list[int]) -> dict[int, Answers]:
    """How each mentor answered the requests sent to them: one statement over the moves out
    of "requested" (a withdrawn request, or one declined for the mentor's suspension, says
    nothing of them)."""
    rows = db.session.execute(
        select(
            Mentorship.mentor_id,
            MentorshipEvent.to_state,
            Mentorship.created_at,
            MentorshipEvent.created_at,
        )
        .join(Mentorship, Mentorship.id == MentorshipEvent.mentorship_id)
        .where(
            Mentorship.mentor_id.in_(mentor_ids),
            MentorshipEvent.from_state == REQUESTED,
            (MentorshipEvent.to_state.in_((ACCEPTED, EXPIRED)))
            | (
                (MentorshipEvent.to_state == DECLINED)
                & (MentorshipEvent.actor_id == Mentorship.mentor_id)
            ),
        )
    )
    days: dict[int, list[float]] = defaultdict(list)
    unanswered: dict[int, int] = defaultdict(int)
    for mentor_id, to_state, asked_at, moved_at in rows:
        if to_state == EXPIRED:
            unanswered[mentor_id] += 1
        else:
            days[mentor_id].append((moved_at - asked_at).total_seconds() / 86400)
    return {
        mentor_id: Answers(
            answered=len(days[mentor_id]),
            unanswered=unanswered[mentor_id],
            median_days=statistics.median(days[mentor_id]) if days[mentor_id] else None,
        )
        for mentor_id in {*days, *unanswered}
    }


# ---- "Not for me" ------------------------------------------------------------------------


def dismiss(mentee: User, mentor_id: int) -> User:
    """The mentee no longer wants ``mentor_id`` suggested; dismissing twice is once. Only a
    mentor the directory lists can be dismissed: any other id is not found, so the page's
    answer names nobody the profiles hide."""
    mentor = db.session.scalar(_listed_mentors().where(User.id == mentor_id))
    if mentor is None or mentor.id == mentee.id:
        raise NotFound()
    db.session.execute(
        insert_on_conflict(SuggestionDismissal)
        .values(mentee_id=mentee.id, mentor_id=mentor.id, created_at=utcnow())
        .on_conflict_do_nothing()
    )
    return mentor


def undo_dismissal(mentee: User, mentor_id: int) -> None:
    """The mentor may be suggested to the mentee again (nothing to undo: nothing happens)."""
    db.session.execute(
        delete(SuggestionDismissal).where(
            SuggestionDismissal.mentee_id == mentee.id, SuggestionDismissal.mentor_id == mentor_id
        )
    )


def _listed_mentors() -> Select[User]:
    return (
        select(User)
        .join(MentoringMember, MentoringMember.user_id == User.id)
        .where(listed_mentor())
    )


def dismissals_of(mentee: User) -> list[SuggestionDismissal]:
    """The mentee's dismissed suggestions, the latest first."""
    listed = _listed_mentors().with_only_columns(User.id)
    return list(
        db.session.scalars(
            select(SuggestionDismissal)
            .where(
                SuggestionDismissal.mentee_id == mentee.id,
                SuggestionDismissal.mentor_id.in_(listed),
            )
            .options(selectinload(SuggestionDismissal.mentor))
            .order_by(SuggestionDismissal.created_at.desc(), SuggestionDismissal.mentor_id)
        )
    )
