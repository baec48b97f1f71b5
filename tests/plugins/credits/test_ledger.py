"""Activities and completed goals earn credits by the rule table, into a ledger: one entry per
event and beneficiary, reversed once when an activity is undone, within an optional daily cap;
the balance always equals the ledger's sum. Bad rules stop alma at startup."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from core.config import ConfigError
from core.db import utcnow
from core.services.goals import propose_goal
from core.state import alma
from plugins.credits import services
from plugins.credits.models import CreditBalance, CreditEntry

# ---- the rule table ------------------------------------------------------------------------


def test_an_activity_earns_what_the_rule_of_its_kind_says(credits, create_user):
    ada = create_user()

    credits.do(ada, "probe.wrote")
    credits.do(ada, "probe.rated")

    assert credits.entries(ada) == [
        ("credit", "probe.rated", 2, None),
        ("credit", "probe.wrote", 10, None),
    ]
    assert credits.total(ada) == 12


def test_a_kind_without_a_rule_earns_nothing(credits, create_user):
    ada = create_user()

    credits.do(ada, "probe.greeted")

    assert credits.entries(ada) == []
    assert credits.total(ada) == 0


@pytest.mark.parametrize(
    "credits_config", [{"rules": {"probe.wrote": 15, "probe.greeted": 1, "probe.met": 3}}]
)
def test_the_rules_in_the_settings_decide_what_is_earned(credits, create_user):
    ada, bo = create_user(), create_user()

    credits.do(ada, "probe.wrote")
    credits.do(ada, "probe.greeted")
    credits.do(ada, "probe.rated")  # no rule any more
    credits.goal([ada, bo], "probe.met")

    assert [points for _, _, points, _ in credits.entries(ada)] == [3, 1, 15]
    assert credits.total(ada) == 19


@pytest.mark.parametrize(
    "credits_config", [{"rules": {"probe.wrote": 0, "probe.rated": 2, "probe.met": 0}}]
)
def test_a_rule_of_zero_switches_a_kind_off(credits, create_user):
    ada, bo = create_user(), create_user()

    credits.do(ada, "probe.wrote")
    credits.goal([ada, bo], "probe.met")
    credits.do(ada, "probe.rated")

    assert credits.entries(ada) == [("credit", "probe.rated", 2, None)]
    assert credits.entries(bo) == []
    assert credits.total(ada) == 2


# what alma's own kinds earned when each plugin declared its number beside its kind, by worth
EARNED_BEFORE = {
    **dict.fromkeys(["mentoring.finished"], 50),
    **dict.fromkeys(["mentoring.request_accepted", "wiki.article_created"], 10),
    **dict.fromkeys(["mentoring.meeting_attended", "groups.group_created"], 5),
    **dict.fromkeys(["wiki.article_edited"], 3),
    **dict.fromkeys(["groups.managed"], 2),
    **dict.fromkeys(
        [
            "mentoring.request_sent",
            "mentoring.request_declined",
            "wiki.article_rated",
            "groups.forum_post",
        ],
        1,
    ),
    **dict.fromkeys(["mentoring.mentorship_terminated"], 0),
}


def earned_per_kind(credits, create_user) -> dict[str, int]:
    """What each declared kind earns a member of its own: an activity recorded, a goal
    credited as completed (completing it for real would run its plugin's own reaction, such
    as ending a mentorship, which needs one)."""
    state = alma()
    earned = {}
    for kind in state.activity_kinds:
        member = create_user()
        credits.do(member, kind)
        earned[kind] = credits.total(member)
    for kind in state.goal_kinds:
        member = create_user()
        services.credit_goal(propose_goal(kind, "A goal", [member]))
        earned[kind] = credits.total(member)
    return earned


@pytest.mark.plugins("mentoring", "wiki", "groups", "credits")
def test_by_default_alma_s_own_kinds_earn_what_they_earned_before(app, credits, create_user):
    assert earned_per_kind(credits, create_user) == EARNED_BEFORE


@pytest.mark.plugins("mentoring", "wiki", "groups", "credits")
@pytest.mark.parametrize(
    "credits_config", [{"rules": {"wiki.article_created": 15, "groups.managed": 0}}]
)
def test_an_operators_rule_replaces_one_default_and_keeps_the_others(app, credits, create_user):
    earned = earned_per_kind(credits, create_user)

    assert earned == EARNED_BEFORE | {"wiki.article_created": 15, "groups.managed": 0}


@pytest.mark.plugins("wiki", "credits")
def test_the_defaults_of_a_disabled_plugin_s_kinds_stop_nothing(app, credits, create_user):
    """The defaults name mentoring's and groups' kinds: with only the wiki, alma starts."""
    assert earned_per_kind(credits, create_user) == {
        "wiki.article_created": 10,
        "wiki.article_edited": 3,
        "wiki.article_rated": 1,
    }


def test_a_completed_goal_credits_every_party(credits, create_user):
    mia, max_, eve = create_user(), create_user(), create_user()

    goal = credits.goal([mia, max_, eve], "probe.finished", title="Six months of Python")

    for party in (mia, max_, eve):
        assert credits.entries(party) == [("credit", "probe.finished", 50, None)]
        assert credits.total(party) == 50
    rows = credits.db.session.execute(select(CreditEntry.detail, CreditEntry.url)).all()
    assert set(rows) == {("Six months of Python", goal.url)}


def test_an_entry_says_what_it_was_for_and_links_to_it(credits, create_user):
    ada = create_user()

    activity = credits.do(ada, "probe.wrote", url="/probe/articles/python-tips")

    entry = credits.db.session.scalar(select(CreditEntry))
    assert (entry.source_type, entry.source_id, entry.url) == (
        "activity",
        activity.id,
        "/probe/articles/python-tips",
    )
    assert services.entry_label(entry) == "Wrote an article"


def test_an_entry_is_written_in_the_events_unit_of_work(credits, db, create_user):
    """The cause rolls back (a later step of the request failed): no credits remain."""
    from core.services.activities import record_activity

    ada = create_user()
    record_activity("probe.wrote", ada, subject="article:1")
    db.session.rollback()

    assert credits.entries(ada) == []
    assert credits.total(ada) == 0


# ---- bad rules stop alma at startup ----------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "key", "named"),
    [
        (
            {"rules": {"probe.wrote": 5, "wiki.article_created": 15}},
            "rules",
            "wiki.article_created",
        ),
        ({"rules": {"probe.writes": 5}}, "rules", "probe.writes"),
        ({"cap_exempt": ["probe.met", "probe.meet"]}, "cap_exempt", "probe.meet"),
    ],
)
def test_a_kind_no_enabled_plugin_declares_stops_startup(start, config, key, named):
    with pytest.raises(ConfigError, match=rf"plugins\.credits\.{key}: no enabled plugin .*{named}"):
        start(config)


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"rules": {"probe.wrote": -5}}, "rules"),
        ({"rules": {"probe.wrote": "ten"}}, "rules"),
        ({"rules": {"probe.wrote": True}}, "rules"),
        ({"rules": ["probe.wrote"]}, "rules"),
        ({"daily_cap": -1}, "daily_cap"),
        ({"cap_exempt": "probe.met"}, "cap_exempt"),
        ({"per_day": 3}, "per_day"),
    ],
)
def test_a_bad_value_stops_startup(start, config, key):
    with pytest.raises(ConfigError, match=rf"plugins\.credits\.{key}"):
        start(config)


def test_the_default_exemption_of_mentorings_goal_needs_no_mentoring(start, create_user):
    app = start({"daily_cap": 10})  # cap_exempt defaults to ["mentoring.finished"]

    assert app.config["PLUGIN_SETTINGS"]["credits"]["cap_exempt"] == ["mentoring.finished"]


# ---- one entry per event, reversed once ------------------------------------------------------


def test_delivering_the_same_event_again_credits_nothing_more(credits, db, create_user):
    ada, bo = create_user(), create_user()
    activity = credits.do(ada, "probe.wrote")
    goal = credits.goal([ada, bo], "probe.met")

    assert services.credit_activity(activity) is None
    assert services.credit_goal(goal) == []
    db.session.commit()

    assert [kind for _, kind, _, _ in credits.entries(ada)] == ["probe.met", "probe.wrote"]
    assert credits.total(ada) == 30
    assert credits.total(bo) == 20


def test_an_undone_activity_is_reversed_once_and_history_stays(credits, db, create_user):
    ada = create_user()
    activity = credits.do(ada, "probe.wrote")
    credits.do(ada, "probe.rated")

    credits.undo(activity)
    assert services.reverse_activity(activity) is None  # a second delivery
    db.session.commit()

    assert credits.entries(ada) == [
        ("reversal", "probe.wrote", -10, None),
        ("credit", "probe.rated", 2, None),
        ("credit", "probe.wrote", 10, None),
    ]
    assert credits.total(ada) == 2
    original, reversal = db.session.scalars(
        select(CreditEntry).where(CreditEntry.kind == "probe.wrote").order_by(CreditEntry.id)
    )
    assert reversal.reverses_id == original.id
    assert reversal.url == original.url


def test_undoing_an_activity_that_earned_nothing_writes_nothing(credits, create_user):
    ada = create_user()

    credits.undo(credits.do(ada, "probe.greeted"))

    assert credits.entries(ada) == []


def test_the_database_refuses_a_second_entry_for_one_event(credits, db, create_user):
    ada = create_user()
    credits.do(ada, "probe.wrote")
    original = db.session.scalar(select(CreditEntry))
    same_event = {
        "user_id": ada.id,
        "source_type": "activity",
        "source_id": original.source_id,
        "kind": "probe.wrote",
        "created_at": utcnow(),
    }
    refused = [
        same_event | {"entry_kind": "credit", "points": 10},
        same_event | {"entry_kind": "reversal", "points": -10},  # reversing nothing
        same_event | {"entry_kind": "credit", "points": -10, "source_id": 999},
        same_event | {"entry_kind": "credit", "points": 5, "capped_from": 3, "source_id": 998},
    ]
    for values in refused:
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.execute(insert(CreditEntry).values(**values))

    reversal = same_event | {"entry_kind": "reversal", "points": -10, "reverses_id": original.id}
    db.session.execute(insert(CreditEntry).values(**reversal))
    with pytest.raises(IntegrityError), db.session.begin_nested():  # reversed twice
        db.session.execute(insert(CreditEntry).values(**reversal | {"source_id": 997}))
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(update(CreditBalance).values(total=-1))


# ---- the daily cap ------------------------------------------------------------------------------


@pytest.mark.parametrize("credits_config", [{"daily_cap": 25}])
def test_beyond_the_daily_cap_entries_are_recorded_with_what_is_left(credits, create_user):
    ada, bo = create_user(), create_user()

    for _ in range(4):
        credits.do(ada, "probe.wrote")
    credits.do(ada, "probe.rated")
    credits.goal([ada, bo], "probe.met")

    assert credits.entries(ada) == [
        ("credit", "probe.met", 0, 20),
        ("credit", "probe.rated", 0, 2),
        ("credit", "probe.wrote", 0, 10),
        ("credit", "probe.wrote", 5, 10),
        ("credit", "probe.wrote", 10, None),
        ("credit", "probe.wrote", 10, None),
    ]
    assert credits.total(ada) == 25
    assert credits.total(bo) == 20  # the cap is per member


@pytest.mark.parametrize(
    "credits_config", [{"daily_cap": 15, "cap_exempt": ["probe.finished", "probe.rated"]}]
)
def test_exempt_kinds_earn_in_full_and_take_none_of_the_days_room(credits, create_user):
    ada, bo = create_user(), create_user()

    credits.goal([ada, bo], "probe.finished")
    credits.do(ada, "probe.rated")
    credits.do(ada, "probe.wrote")
    credits.do(ada, "probe.wrote")
    credits.do(ada, "probe.rated")

    assert credits.entries(ada) == [
        ("credit", "probe.rated", 2, None),
        ("credit", "probe.wrote", 5, 10),
        ("credit", "probe.wrote", 10, None),
        ("credit", "probe.rated", 2, None),
        ("credit", "probe.finished", 50, None),
    ]
    assert credits.total(ada) == 69


@pytest.mark.parametrize("credits_config", [{"daily_cap": 20}])
def test_the_cap_starts_afresh_the_next_day(credits, db, create_user):
    ada = create_user()
    credits.do(ada, "probe.wrote")
    credits.do(ada, "probe.wrote")
    db.session.execute(update(CreditEntry).values(created_at=utcnow() - timedelta(days=1)))

    credits.do(ada, "probe.wrote")

    assert [points for _, _, points, _ in credits.entries(ada)] == [10, 10, 10]


@pytest.mark.parametrize("credits_config", [{"daily_cap": 20}])
def test_a_reversal_gives_no_room_back_under_the_cap(credits, create_user):
    """Otherwise writing and deleting the same article all day would keep the cap open."""
    ada = create_user()
    first = credits.do(ada, "probe.wrote")
    credits.do(ada, "probe.wrote")

    credits.undo(first)
    credits.do(ada, "probe.wrote")

    assert [points for _, _, points, _ in credits.entries(ada)] == [0, -10, 10, 10]
    assert credits.total(ada) == 10


@pytest.mark.parametrize("credits_config", [{"daily_cap": 10}])
def test_undoing_a_capped_activity_reverses_its_zero_points(credits, create_user):
    ada = create_user()
    credits.do(ada, "probe.wrote")
    capped = credits.do(ada, "probe.wrote")

    credits.undo(capped)

    assert credits.entries(ada)[:2] == [
        ("reversal", "probe.wrote", 0, None),
        ("credit", "probe.wrote", 0, 10),
    ]
    assert credits.total(ada) == 10


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"])
def test_a_members_day_starts_at_midnight_where_they_live(create_user, zone):
    from zoneinfo import ZoneInfo

    member = create_user(timezone=zone)

    start = services.start_of_today(member)

    local = start.astimezone(ZoneInfo(zone))
    assert (local.hour, local.minute) == (0, 0)
    assert utcnow() - timedelta(days=1) < start <= utcnow()


# ---- the balance is the ledger's sum -------------------------------------------------------------


@pytest.mark.parametrize("credits_config", [{"daily_cap": 40}])
def test_the_balance_always_equals_the_ledgers_sum(credits, create_user):
    ada, bo, cy = create_user(), create_user(), create_user()
    done = []
    for round_ in range(3):
        done.append(credits.do(ada, "probe.wrote"))
        done.append(credits.do(bo, "probe.rated"))
        credits.goal([ada, bo, cy], "probe.met", title=f"Meeting {round_}")
        credits.goal([bo, cy], "probe.finished", title=f"Mentorship {round_}")
        credits.undo(done[round_ * 2])
        balances, sums = credits.balances_and_ledger_sums()
        assert balances == sums

    # each reached the cap on the first round; ada's reversals gave no room back
    assert [credits.total(member) for member in (ada, bo, cy)] == [20, 40, 40]
