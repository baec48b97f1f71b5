"""Each transition table against its services: in every situation, for each party and for a
member outside the pair, what the page offers (``allowed_actions``) is exactly what the
services accept. Every action is tried on the real services, and rolled back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.api import InvalidInput, NotAllowed, NotFound, allowed_actions
from plugins.mentoring.models import (
    CANCEL,
    AgreementVersion,
    EndProposal,
    Meeting,
    MeetingChange,
    Mentorship,
)
from plugins.mentoring.services import agreements, ending, lifecycle, meetings

from .conftest import agreement_terms

REFUSALS = (InvalidInput, NotAllowed, NotFound)


def _plan(days: int = 5) -> meetings.MeetingPlan:
    return meetings.MeetingPlan(
        starts_at=datetime.now(UTC) + timedelta(days=days),
        duration_minutes=45,
        place="https://meet.example.org/pair",
        agenda="",
    )


# ---- what each action does through the services --------------------------------------------

MENTORSHIP_ACTIONS = {
    "accept": lambda m, who: lifecycle.accept_request(m, who),
    "decline": lambda m, who: lifecycle.decline_request(m, who, "timing", "Not this month."),
    "withdraw": lambda m, who: lifecycle.withdraw_request(m, who),
    "terminate": lambda m, who: ending.terminate(m, who, "It does not fit."),
    "propose_end": lambda m, who: ending.propose_early_end(m, who, "We learnt what we could."),
    "schedule": lambda m, who: meetings.schedule(m, who, _plan()),
    "propose_agreement": lambda m, who: agreements.propose_agreement(m, who, agreement_terms()),
    "propose_amendment": lambda m, who: agreements.propose_amendment(
        m, who, agreement_terms(meetings_planned=8), "Two more."
    ),
    "staff_end": lambda m, who: ending.end_by_staff(m, who, "The pair asked us."),
    "staff_extend": lambda m, who: agreements.extend_by_staff(
        m, who, agreement_terms().ends_on + timedelta(days=30), "A month more."
    ),
}
EARLY_END_ACTIONS = {
    answer: (lambda a: lambda m, who: ending.answer_early_end(m, who, a))(answer)
    for answer in ("agree", "refuse", "withdraw")
}
MEETING_ACTIONS = {
    "approve": lambda m, who: meetings.approve(m, who),
    "decline": lambda m, who: meetings.decline(m, who, "Could we meet a day later?"),
    "withdraw": lambda m, who: meetings.withdraw(m, who),
    "confirm": lambda m, who: meetings.confirm_held(m, who),
    "missed": lambda m, who: meetings.report_missed(m, who),
    "propose_change": lambda m, who: meetings.propose_change(m, who, CANCEL, None, "Ill."),
}
CHANGE_ACTIONS = {
    answer: (lambda a: lambda c, who: meetings.answer_change(c, who, a))(answer)
    for answer in ("accept", "refuse", "withdraw")
}
AGREEMENT_ACTIONS = {
    "approve": lambda v, who: agreements.approve(v, who),
    "send_back": lambda v, who: agreements.send_back(v, who, "Fewer meetings, please."),
}


# ---- situations: each builds a thing in a state, and says how to find it again ------------


def requested(pairs, planner, mentee, mentor):
    return Mentorship, pairs.request(mentee, mentor)


def accepted(pairs, planner, mentee, mentor):
    return Mentorship, pairs.accept(mentee, mentor)


def active(pairs, planner, mentee, mentor):
    return Mentorship, pairs.active(mentee, mentor)


def agreement_awaited(pairs, planner, mentee, mentor):
    _, version_id = agreement_proposed(pairs, planner, mentee, mentor)
    return Mentorship, pairs.db.session.get(AgreementVersion, version_id).mentorship_id


def amendment_awaited(pairs, planner, mentee, mentor):
    _, version_id = amendment_proposed(pairs, planner, mentee, mentor)
    return Mentorship, pairs.db.session.get(AgreementVersion, version_id).mentorship_id


def ended(pairs, planner, mentee, mentor):
    mentorship_id = pairs.accept(mentee, mentor)
    ending.terminate(mentorship_id, mentee, "It does not fit.")
    pairs.db.session.commit()
    return Mentorship, mentorship_id


def ending_proposed(pairs, planner, mentee, mentor):
    mentorship_id = pairs.active(mentee, mentor)
    ending.propose_early_end(mentorship_id, mentee, "We learnt what we could.")
    pairs.db.session.commit()
    return Mentorship, mentorship_id


def declined(pairs, planner, mentee, mentor):
    mentorship_id = pairs.request(mentee, mentor)
    lifecycle.decline_request(mentorship_id, mentor, "timing", "Not this month.")
    pairs.db.session.commit()
    return Mentorship, mentorship_id


def meeting_proposed(pairs, planner, mentee, mentor):
    return Meeting, planner.propose(pairs.active(mentee, mentor), mentee)


def meeting_scheduled(pairs, planner, mentee, mentor):
    return Meeting, planner.schedule(pairs.active(mentee, mentor), mentee, mentor)


def meeting_begun(pairs, planner, mentee, mentor):
    meeting_id = planner.schedule(pairs.active(mentee, mentor), mentee, mentor)
    planner.move_start(meeting_id, datetime.now(UTC) - timedelta(minutes=10))
    return Meeting, meeting_id


def meeting_with_change(pairs, planner, mentee, mentor):
    _, change_id = change_proposed(pairs, planner, mentee, mentor)
    return Meeting, pairs.db.session.get(MeetingChange, change_id).meeting_id


def meeting_declined(pairs, planner, mentee, mentor):
    meeting_id = planner.propose(pairs.active(mentee, mentor), mentee)
    meetings.decline(meeting_id, mentor, "Could we meet a day later?")
    pairs.db.session.commit()
    return Meeting, meeting_id


def change_proposed(pairs, planner, mentee, mentor):
    meeting_id = planner.schedule(pairs.active(mentee, mentor), mentee, mentor)
    change = meetings.propose_change(meeting_id, mentor, CANCEL, None, "Ill.")
    pairs.db.session.commit()
    return MeetingChange, change.id


def change_too_late(pairs, planner, mentee, mentor):
    _, change_id = change_proposed(pairs, planner, mentee, mentor)
    meeting_id = pairs.db.session.get(MeetingChange, change_id).meeting_id
    planner.move_start(meeting_id, datetime.now(UTC) - timedelta(minutes=10))
    return MeetingChange, change_id


def change_refused(pairs, planner, mentee, mentor):
    _, change_id = change_proposed(pairs, planner, mentee, mentor)
    meetings.answer_change(change_id, mentee, "refuse")
    pairs.db.session.commit()
    return MeetingChange, change_id


def agreement_proposed(pairs, planner, mentee, mentor):
    mentorship_id = pairs.accept(mentee, mentor)
    version = agreements.propose_agreement(mentorship_id, mentee, agreement_terms())
    pairs.db.session.commit()
    return AgreementVersion, version.id


def amendment_proposed(pairs, planner, mentee, mentor):
    mentorship_id = pairs.active(mentee, mentor)
    terms = agreement_terms(meetings_planned=8)
    version = agreements.propose_amendment(mentorship_id, mentor, terms, "Two more.")
    pairs.db.session.commit()
    return AgreementVersion, version.id


def agreement_sent_back(pairs, planner, mentee, mentor):
    _, version_id = agreement_proposed(pairs, planner, mentee, mentor)
    agreements.send_back(version_id, mentor, "Fewer meetings, please.")
    pairs.db.session.commit()
    return AgreementVersion, version_id


def amendment_with_meeting(pairs, planner, mentee, mentor):
    mentorship_id = pairs.active(mentee, mentor)
    late = datetime.now(UTC) + timedelta(days=120)  # after the agreement's end
    meeting_id = planner.propose(mentorship_id, mentee, late)
    return AgreementVersion, pairs.db.session.get(Meeting, meeting_id).amendment_id


def early_end(pairs, planner, mentee, mentor):
    _, mentorship_id = ending_proposed(pairs, planner, mentee, mentor)
    return EndProposal, mentorship_id


NOTHING: dict[str, set[str]] = {"mentee": set(), "mentor": set()}

# For each table, its actions through the services, and situations with what each party may
# do in them (a member outside the pair may do nothing, anywhere; the programme's staff, who
# are not of the pair, end a mentorship under way or extend its agreement).
SITUATIONS = {
    lifecycle.MENTORSHIP: (
        MENTORSHIP_ACTIONS,
        [
            (requested, {"mentee": {"withdraw"}, "mentor": {"accept", "decline"}}),
            (
                accepted,
                {
                    "mentee": {"terminate", "schedule", "propose_agreement"},
                    "mentor": {"terminate"},
                    "staff": {"staff_end"},
                },
            ),
            (
                agreement_awaited,
                {
                    "mentee": {"terminate", "schedule"},
                    "mentor": {"terminate"},
                    "staff": {"staff_end"},
                },
            ),
            (
                active,
                {
                    "mentee": {"propose_end", "schedule", "propose_amendment"},
                    "mentor": {"propose_end", "propose_amendment"},
                    "staff": {"staff_end", "staff_extend"},
                },
            ),
            (
                amendment_awaited,
                {
                    "mentee": {"propose_end", "schedule"},
                    "mentor": {"propose_end"},
                    "staff": {"staff_end"},
                },
            ),
            (
                ending_proposed,
                {
                    "mentee": {"schedule", "propose_amendment"},
                    "mentor": {"propose_amendment"},
                    "staff": {"staff_end", "staff_extend"},
                },
            ),
            (declined, NOTHING),
            (ended, NOTHING),
        ],
    ),
    ending.EARLY_END: (
        EARLY_END_ACTIONS,
        [(early_end, {"mentee": {"withdraw"}, "mentor": {"agree", "refuse"}})],
    ),
    meetings.MEETING: (
        MEETING_ACTIONS,
        [
            (meeting_proposed, {"mentee": {"withdraw"}, "mentor": {"approve", "decline"}}),
            (meeting_scheduled, {"mentee": {"propose_change"}, "mentor": {"propose_change"}}),
            (meeting_begun, {"mentee": {"confirm", "missed"}, "mentor": {"confirm", "missed"}}),
            (meeting_with_change, NOTHING),
            (meeting_declined, NOTHING),
        ],
    ),
    meetings.MEETING_CHANGE: (
        CHANGE_ACTIONS,
        [
            (change_proposed, {"mentee": {"accept", "refuse"}, "mentor": {"withdraw"}}),
            (change_too_late, {"mentee": {"refuse"}, "mentor": {"withdraw"}}),
            (change_refused, NOTHING),
        ],
    ),
    agreements.AGREEMENT: (
        AGREEMENT_ACTIONS,
        [
            (agreement_proposed, {"mentee": set(), "mentor": {"approve", "send_back"}}),
            (amendment_proposed, {"mentee": {"approve", "send_back"}, "mentor": set()}),
            (agreement_sent_back, NOTHING),
            (amendment_with_meeting, NOTHING),
        ],
    ),
}

CASES = [
    pytest.param(
        table, actions, situation, side, may.get(side, set()), id=f"{situation.__name__}-{side}"
    )
    for table, (actions, situations) in SITUATIONS.items()
    for situation, may in situations
    for side in ("mentee", "mentor", "stranger", "staff")
]


def test_every_action_of_every_table_is_tried_and_offered_somewhere():
    for table, (actions, situations) in SITUATIONS.items():
        assert set(actions) == table.actions()
        assert set().union(*(may[side] for _, may in situations for side in may)) == set(actions)


@pytest.mark.parametrize(("table", "actions", "situation", "side", "may"), CASES)
def test_what_is_offered_is_what_the_services_accept(
    db, pairs, planner, mentee, mentor, stranger, create_user, table, actions, situation, side, may
):
    kind, thing_id = situation(pairs, planner, mentee, mentor)
    staff = create_user(display_name="Cora Coordinator", role="coordinator")
    member = {"mentee": mentee, "mentor": mentor, "stranger": stranger, "staff": staff}[side]
    offered = set(allowed_actions(db.session.get(kind, thing_id), member))

    accepted = set()
    for action, act in actions.items():
        try:
            act(thing_id, member)
        except REFUSALS:
            pass
        else:
            accepted.add(action)
        db.session.rollback()

    assert offered == accepted == may
