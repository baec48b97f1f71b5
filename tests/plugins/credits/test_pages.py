"""What members see: the total on a profile (header and Overview) and on mentor cards, their
own ledger newest first a page at a time, and the community's top contributors."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from core.db import utcnow
from core.testing import sql_statements
from plugins.credits.models import CreditEntry


def facts_line(page: str) -> str:
    """The member facts under the name in a profile header."""
    found = re.search(r'<p class="[^"]*member-facts">([^<]*)</p>', page)
    return found.group(1).strip() if found else ""


def article_links(page: str) -> list[str]:
    return re.findall(r'href="/probe/articles/(\d+)"', page)


# ---- the profile ----------------------------------------------------------------------------


def test_another_member_sees_the_total_but_not_what_earned_it(client, credits, create_user):
    ada, bo = create_user(display_name="Ada"), create_user()
    credits.do(ada, "probe.wrote")
    credits.do(ada, "probe.wrote")
    credits.do(ada, "probe.rated")
    client.login(bo)

    page = client.get(f"/members/{ada.id}").text

    assert facts_line(page) == "22 credits"
    assert 'data-credit-total="22"' in page  # the Overview's Credits section
    assert "Credits measure what Ada has done for the community." in page
    assert "Wrote an article" not in page
    assert "All my credits" not in page
    assert 'href="/credits/top"' in page


def test_the_owner_sees_their_latest_entries_and_the_way_to_their_ledger(
    client, credits, create_user
):
    ada = create_user()
    for _ in range(7):
        credits.do(ada, "probe.rated")
    client.login(ada)

    page = client.get(f"/members/{ada.id}").text

    assert facts_line(page) == "14 credits"
    assert article_links(page) == ["7", "6", "5", "4", "3"]  # the latest five
    assert 'href="/credits/">All my credits' in page


@pytest.mark.parametrize("credits_config", [{"rules": {"probe.greeted": 1}}])
def test_one_credit_is_singular_and_a_member_without_credits_shows_none(
    client, credits, create_user
):
    ada, bo = create_user(), create_user()
    credits.do(ada, "probe.greeted")
    client.login(bo)

    assert facts_line(client.get(f"/members/{ada.id}").text) == "1 credit"
    own = client.get(f"/members/{bo.id}").text
    assert facts_line(own) == ""
    assert "No credits yet." in own


# ---- the ledger page ------------------------------------------------------------------------


def test_the_ledger_lists_every_entry_newest_first_with_its_credits(client, credits, create_user):
    ada, bo = create_user(), create_user()
    first = credits.do(ada, "probe.wrote")
    credits.goal([ada, bo], "probe.finished", title="Six months of Python")
    credits.do(ada, "probe.rated")
    credits.undo(first)
    client.login(ada)

    page = client.get("/credits/").text

    assert 'data-credit-total="52"' in page
    entries = re.findall(r'<li class="list-group-item px-0.*?</li>', page, re.S)
    undated = [re.sub(r"<time.*?</time>", "", entry, flags=re.S) for entry in entries]
    assert [" ".join(re.sub(r"<[^>]+>", " ", entry).split()) for entry in undated] == [
        "Withdrawn Wrote an article \u221210",  # a minus sign
        "Rated an article +2",
        "Finished a mentorship · Six months of Python +50",
        "Wrote an article +10",
    ]
    assert article_links(page) == ["3", "1"]  # the withdrawal links nowhere


@pytest.mark.parametrize("credits_config", [{"daily_cap": 15}])
def test_the_ledger_says_when_the_daily_cap_cut_an_entry(client, credits, create_user):
    ada = create_user()
    credits.do(ada, "probe.wrote")
    credits.do(ada, "probe.wrote")
    credits.do(ada, "probe.wrote")
    client.login(ada)

    page = client.get("/credits/").text

    assert page.count("daily limit reached") == 2
    assert "daily limit reached: 0 of 10 points" in page
    assert "daily limit reached: 5 of 10 points" in page
    assert "You earn at most 15 credits a day" in page


def test_the_ledger_comes_a_page_at_a_time_without_counting_the_ledger(
    app, client, credits, create_user
):
    ada = create_user()
    for _ in range(30):
        credits.do(ada, "probe.rated")
    client.login(ada)
    with sql_statements(app) as statements:
        first = client.get("/credits/").text
    ledger_statements = [s.lower() for s in statements if "credits_" in s]

    assert article_links(first) == [str(n) for n in range(30, 5, -1)]
    assert "?page=2" in first and "Newer" not in first
    assert not [s for s in ledger_statements if "count(" in s or "sum(" in s]
    assert any("limit" in s for s in ledger_statements)

    second = client.get("/credits/?page=2").text
    assert article_links(second) == ["5", "4", "3", "2", "1"]
    assert 'href="/credits/?page=1"' in second and "Older" not in second

    beyond = client.get("/credits/?page=9").text
    assert "There are no more entries." in beyond
    assert 'data-credit-total="60"' in beyond


def test_a_member_only_ever_sees_their_own_ledger(client, credits, create_user):
    ada, bo = create_user(), create_user()
    credits.do(ada, "probe.wrote")
    client.login(bo)

    page = client.get("/credits/").text

    assert article_links(page) == []
    assert 'data-credit-total="0"' in page
    assert "You have no credits yet" in page


def how_to_earn(page: str) -> str:
    rules = re.search(r'<ul class="list-unstyled mb-0 credits-rules">(.*?)</ul>', page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", rules.group(1)).split())


def test_the_ledger_page_tells_how_to_earn_credits(client, create_user):
    client.login(create_user())

    page = client.get("/credits/").text

    assert how_to_earn(page) == (
        "Finished a mentorship +50 Attended a meeting +20 Wrote an article +10 Rated an article +2"
    )


@pytest.mark.plugins("mentoring", "wiki", "groups", "credits")
def test_by_default_alma_s_own_kinds_are_worth_what_they_were(client, create_user):
    client.login(create_user())

    page = client.get("/credits/").text

    assert how_to_earn(page) == (
        "Finished a mentorship +50 Accepted a mentee +10 Wrote a wiki article +10"
        " Attended a mentoring meeting +5 Created a group +5 Improved a wiki article +3"
        " Managed a group +2 Answered a mentorship request +1 Posted in a group forum +1"
        " Rated a wiki article +1 Sent a mentorship request +1"
    )


@pytest.mark.parametrize("path", ["/credits/", "/credits/top", "/credits/top?period=30d"])
def test_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# ---- top contributors -----------------------------------------------------------------------


def test_top_contributors_all_time_and_over_the_last_30_days(client, credits, create_user, db):
    veteran = create_user(display_name="Vera Veteran")
    newcomer = create_user(display_name="Nico Newcomer")
    steady = create_user(display_name="Sam Steady")
    create_user(display_name="Idle Ivo")
    for _ in range(10):
        credits.do(veteran, "probe.wrote")
    credits.do(steady, "probe.wrote")
    db.session.execute(
        update(CreditEntry).values(created_at=utcnow() - timedelta(days=40))
    )  # long ago
    credits.do(steady, "probe.wrote")
    credits.goal([newcomer], "probe.met")
    client.login(newcomer)

    def ranking(period: str) -> list[str]:
        page = client.get(f"/credits/top?period={period}").text
        items = re.findall(r'<li class="list-group-item.*?</li>', page, re.S)
        return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]

    assert ranking("all") == [
        "V Vera Veteran 100 credits",
        "N Nico Newcomer 20 credits",
        "S Sam Steady 20 credits",
    ]
    assert ranking("30d") == ["N Nico Newcomer 20 credits", "S Sam Steady 10 credits"]
    assert ranking("nonsense") == ranking("all")
    assert "list-group-item-warning" in client.get("/credits/top").text  # the viewer's row


def test_a_suspended_member_is_not_among_the_top_contributors(client, credits, create_user):
    vera, sam = create_user(display_name="Vera Veteran"), create_user(display_name="Sam Steady")
    credits.do(vera, "probe.wrote")
    credits.do(sam, "probe.wrote")
    client.login(create_user(role="coordinator"))
    client.post(f"/admin/members/{vera.id}/suspend", data={"reason": "spam"})

    client.login(sam)
    page = client.get("/credits/top").text
    assert "Sam Steady" in page and "Vera Veteran" not in page


def test_the_top_list_has_an_empty_state(client, create_user):
    client.login(create_user())

    assert "Nobody has earned credits yet." in client.get("/credits/top").text
    assert "Nobody has earned credits in the last 30 days." in (
        client.get("/credits/top?period=30d").text
    )


def test_the_top_list_shows_twenty_members(client, credits, create_user):
    members = [create_user() for _ in range(22)]
    for member in members:
        credits.do(member, "probe.rated")
    client.login(members[0])

    page = client.get("/credits/top").text

    assert page.count('<li class="list-group-item') == 20


# ---- member cards ---------------------------------------------------------------------------


@pytest.mark.plugins("mentoring", "credits")
@pytest.mark.parametrize("credits_config", [{"rules": {"mentoring.request_accepted": 5}}])
def test_a_mentors_credits_show_on_their_card_in_the_directory(client, db, create_user):
    from plugins.mentoring.services import lifecycle

    mentor = create_user(display_name="Max Mentor", wants_to_mentor=True)
    create_user(display_name="Olga Other", wants_to_mentor=True)
    mentee = create_user(display_name="Mia Mentee", wants_to_be_mentored=True)
    request = lifecycle.send_request(mentee, mentor, "Would you mentor me in Python?")
    lifecycle.accept_request(request.id, mentor)
    db.session.commit()
    client.login(mentee)

    page = client.get("/mentoring/mentors").text

    cards = re.findall(r'<div class="card h-100">.*?>([^<>]+)</a></h2>(.*?)</div>', page, re.S)
    assert {name: facts_line(card) for name, card in cards} == {
        "Max Mentor": "5 credits",
        "Olga Other": "",
    }
