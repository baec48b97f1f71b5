"""The score of "Suggested for you" on hand-made cases: a pure function, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from plugins.mentoring.services.suggestions import (
    Answers,
    Profile,
    Weights,
    answers_part,
    daytime_hours,
    field_overlap,
    hours_apart,
    rank,
    rarity,
)

VIENNA, LONDON, NEW_YORK = (
    ZoneInfo("Europe/Vienna"),
    ZoneInfo("Europe/London"),
    ZoneInfo("America/New_York"),
)
AUCKLAND = ZoneInfo("Pacific/Auckland")
WINTER = datetime(2026, 12, 4, 12, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 12, tzinfo=UTC)
MARCH_GAP = datetime(2026, 3, 20, 12, tzinfo=UTC)  # the US on summer time, Europe not yet


def member(
    id: int,
    *topics: str,
    languages: tuple[str, ...] = ("en",),
    zone: ZoneInfo = VIENNA,
    fields: tuple[tuple[str, str], ...] = (),
) -> Profile:
    return Profile(id, topics, frozenset(languages), zone, frozenset(fields))


def held(*codes: str) -> frozenset[tuple[str, str]]:
    """ISCED-F codes as the score takes them: a narrow field's broad field is its prefix."""
    return frozenset((code[:2], code) for code in codes)


DEFAULT_WEIGHTS = Weights()
MIA = member(1, "Python", "careers", "data")


def ranked(
    mentee: Profile,
    *mentors: Profile | tuple[Profile, Answers],
    rarities: dict[str, float] | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
    now: datetime = WINTER,
) -> list[int]:
    pairs = [m if isinstance(m, tuple) else (m, Answers()) for m in mentors]
    return [found.mentor_id for found in rank(mentee, pairs, rarities or {}, weights, now)]


def test_a_rare_topic_in_common_beats_a_common_one():
    rarities = rarity(100, {"Python": 60, "careers": 2, "data": 30})
    assert rarities["careers"] > rarities["data"] > rarities["Python"]

    common, rare = member(10, "Python"), member(11, "careers")

    assert ranked(MIA, common, rare, rarities=rarities) == [11, 10]


def test_more_topics_in_common_rank_higher_and_none_in_common_is_left_out():
    two, one, none = member(10, "data"), member(11, "Python", "data"), member(12, "Rust")

    assert ranked(MIA, two, one, none) == [11, 10]


def test_a_shared_language_counts():
    german = member(1, "Python", languages=("de",))
    speaks_english, speaks_german = member(10, "Python"), member(11, "Python", languages=("de",))

    assert ranked(german, speaks_english, speaks_german) == [11, 10]


def test_daytime_in_common_across_time_zones():
    vienna = member(1, "Python")
    near, far = member(10, "Python", zone=AUCKLAND), member(11, "Python", zone=LONDON)

    assert ranked(vienna, near, far) == [11, 10]


@pytest.mark.parametrize(
    ("now", "apart", "shared"),
    [
        # December: Vienna UTC+1, Auckland UTC+13 (its summer); their days just touch
        (WINTER, 12, 0),
        # July: Vienna UTC+2, Auckland UTC+12: Vienna's 08:00-10:00 is Auckland's evening
        (SUMMER, 10, 2),
    ],
)
def test_vienna_and_auckland_with_daylight_saving_time(now, apart, shared):
    assert hours_apart(VIENNA, AUCKLAND, now) == apart
    assert daytime_hours(VIENNA, AUCKLAND, now.date()) == shared


def test_daylight_saving_time_moves_on_different_days():
    assert hours_apart(VIENNA, NEW_YORK, WINTER) == 6
    assert hours_apart(VIENNA, NEW_YORK, MARCH_GAP) == 5
    assert daytime_hours(VIENNA, NEW_YORK, MARCH_GAP.date()) == 7
    assert daytime_hours(VIENNA, VIENNA, date(2026, 3, 29)) == 12  # the day the clocks jump
    assert hours_apart(VIENNA, ZoneInfo("Asia/Kolkata"), WINTER) == 4.5


def test_a_mentor_who_answers_beats_one_who_lets_requests_expire():
    answers_fast = (member(10, "Python"), Answers(answered=9, unanswered=1, median_days=1))
    lets_expire = (member(11, "Python"), Answers(answered=1, unanswered=9, median_days=1))
    slow = (member(12, "Python"), Answers(answered=9, unanswered=1, median_days=12))

    assert ranked(MIA, lets_expire, slow, answers_fast) == [10, 12, 11]


def test_a_new_mentor_counts_as_half_of_a_perfect_answerer():
    assert answers_part(Answers()) == 0.5
    assert answers_part(Answers(answered=4, median_days=0)) == 1
    assert answers_part(Answers(answered=2, unanswered=2, median_days=7)) == 0.25


def test_a_narrow_field_in_common_counts_more_than_a_broad_one():
    assert field_overlap(held("061", "041"), held("061", "042")) == (1, 1)
    assert field_overlap(held("061"), held("06")) == (0, 1)
    assert field_overlap(held("06"), held("06")) == (0, 1)
    mentee = member(1, "Python", fields=tuple(held("061")))
    broad = member(10, "Python", fields=tuple(held("068")))
    narrow = member(11, "Python", fields=tuple(held("061")))

    assert ranked(mentee, broad, narrow) == [11, 10]


def test_fields_are_compared_by_their_parents_not_by_the_shape_of_their_codes():
    engineering, mechanical = ("ENG", "ENG"), ("ENG", "ENG-ME")
    assert field_overlap(frozenset({mechanical}), frozenset({mechanical})) == (1, 0)
    assert field_overlap(frozenset({engineering}), frozenset({engineering})) == (0, 1)
    assert field_overlap(frozenset({("MEA", "MEA")}), frozenset({("MEX", "MEX")})) == (0, 0)


def test_ties_keep_the_lower_id_first_whatever_the_order_given():
    mentors = [member(id, "Python") for id in (7, 3, 5)]

    assert ranked(MIA, *mentors) == [3, 5, 7]
    assert ranked(MIA, *reversed(mentors)) == [3, 5, 7]


def test_a_weight_of_zero_turns_a_part_off():
    english, german = member(10, "Python"), member(11, "Python", languages=("de",))
    mentee = member(1, "Python", languages=("de",))

    assert ranked(mentee, english, german, weights=Weights(language=0)) == [10, 11]
