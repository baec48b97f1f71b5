"""Transition tables: what a member is offered is exactly what the service lets them do."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.errors import InvalidInput, NotAllowed, NotFound
from core.transitions import Step, Transitions, allowed_actions


@dataclass
class Offer:
    status: str
    maker: str
    taker: str
    still_open: bool = True


def sides(offer: Offer, member: str) -> set[str]:
    return {"maker"} if member == offer.maker else {"taker"} if member == offer.taker else set()


OFFERS = Transitions(
    Offer,
    state=lambda offer: offer.status,
    sides=sides,
    steps=[
        Step("made", "take", "taker", "taken", "Take it", when=lambda offer: offer.still_open),
        Step("made", "refuse", "taker", "refused", "No thanks"),
        Step(
            "made", "withdraw", "maker", "withdrawn", "Take back", not_yours="Only the maker can."
        ),
        Step("taken", "thank", "maker", "thanked", "Say thanks"),
        Step("taken", "thank", "taker", "thanked", "Say thanks"),
    ],
    not_now="This offer was already answered.",
    not_yours="That is not yours to do.",
    unknown="There is no such answer.",
)


def test_each_side_is_offered_its_own_actions_in_the_tables_order():
    offer = Offer("made", maker="ann", taker="bob")
    assert list(allowed_actions(offer, "bob")) == ["take", "refuse"]
    assert list(allowed_actions(offer, "ann")) == ["withdraw"]
    assert allowed_actions(offer, "eve") == {}


def test_an_action_open_to_two_sides_is_offered_to_both():
    offer = Offer("taken", maker="ann", taker="bob")
    assert list(allowed_actions(offer, "ann")) == ["thank"] == list(allowed_actions(offer, "bob"))


def test_check_returns_the_step_that_says_where_the_thing_goes():
    step = OFFERS.check(Offer("made", maker="ann", taker="bob"), "bob", "take")
    assert (step.to, step.label) == ("taken", "Take it")


def test_a_step_whose_condition_fails_is_neither_offered_nor_allowed():
    closed = Offer("made", maker="ann", taker="bob", still_open=False)
    assert list(allowed_actions(closed, "bob")) == ["refuse"]
    with pytest.raises(InvalidInput, match="already answered"):
        OFFERS.check(closed, "bob", "take")


def test_the_refusals_say_why_in_words():
    offer = Offer("made", maker="ann", taker="bob")
    with pytest.raises(NotAllowed, match="Only the maker can"):
        OFFERS.check(offer, "bob", "withdraw")
    with pytest.raises(NotAllowed, match="not yours"):
        OFFERS.check(offer, "ann", "take")
    with pytest.raises(InvalidInput, match="already answered"):
        OFFERS.check(Offer("refused", maker="ann", taker="bob"), "bob", "take")
    with pytest.raises(NotFound, match="no such answer"):
        OFFERS.check(offer, "bob", "haggle")


def test_a_thing_without_a_table_is_a_programming_error():
    with pytest.raises(TypeError, match="no transition table for str"):
        allowed_actions("offer", "bob")


@dataclass
class Loan:
    status: str
    lender: str


LOANS = Transitions(
    Loan,
    state=lambda loan: loan.status,
    sides=lambda loan, member: {"lender"} if member == loan.lender else set(),
    steps=[
        Step("lent", "recall", "lender", "recalled", "Recall"),
        Step(
            "lent", "forgive", "lender", "forgiven", "Forgive", not_now="Only a loan is forgiven."
        ),
    ],
    not_now=lambda loan: f"This is no longer possible: the loan is {loan.status}.",
    not_yours="Only the lender can.",
)


def test_a_refusal_may_name_the_things_state_and_a_step_may_say_its_own():
    returned = Loan("returned", lender="ann")
    with pytest.raises(InvalidInput, match=r"^This is no longer possible: the loan is returned\.$"):
        LOANS.check(returned, "ann", "recall")
    with pytest.raises(InvalidInput, match=r"^Only a loan is forgiven\.$"):
        LOANS.check(returned, "ann", "forgive")
    with pytest.raises(NotFound, match="the loan is returned"):
        LOANS.check(returned, "ann", "sell")


@dataclass
class Parcel:
    status: str
    owner: str


ASKED: list[str] = []


def not_claimed(parcel: Parcel) -> bool:
    ASKED.append(parcel.owner)  # stands for a query
    return True


PARCELS = Transitions(
    Parcel,
    state=lambda parcel: parcel.status,
    sides=lambda parcel, member: {"owner"} if member == parcel.owner else set(),
    steps=[
        Step("sent", "claim", "owner", "claimed", "Claim", when=not_claimed),
        Step("sent", "return", "owner", "returned", "Return", when=not_claimed),
    ],
    not_now="Too late.",
    not_yours="Not yours.",
)


def test_a_page_asks_each_condition_once_per_thing_however_often_it_offers_actions(app):
    from flask import render_template_string

    page = "{% for _ in range(3) %}{{ allowed_actions(mine, 'ann') | join(',') }};{% endfor %}"
    ASKED.clear()
    with app.test_request_context():
        shown = render_template_string(page, mine=Parcel("sent", "ann"))
        assert shown == "claim,return;" * 3
        assert ASKED == ["ann"]  # once, not six times
        render_template_string(page, mine=Parcel("sent", "ann"))  # the next page asks again
        assert ASKED == ["ann", "ann"]
        # outside rendering (a service checking before it acts) every call asks anew
        allowed_actions(Parcel("sent", "bob"), "bob")
        PARCELS.check(Parcel("sent", "bob"), "bob", "claim")
        assert ASKED == ["ann", "ann"] + ["bob"] * 4  # two steps, each asked, twice


def test_a_render_that_fails_keeps_no_answers_for_what_comes_after(app):
    from flask import render_template_string

    failing = "{{ allowed_actions(mine, 'ann') | list }}{{ 1 / 0 }}"
    parcel = Parcel("sent", "ann")
    ASKED.clear()
    with app.test_request_context():
        with pytest.raises(ZeroDivisionError):
            render_template_string(failing, mine=parcel)
        assert ASKED == ["ann"]
        PARCELS.check(parcel, "ann", "claim")  # a service, after the failed page: asks again
        assert ASKED == ["ann", "ann", "ann"]
