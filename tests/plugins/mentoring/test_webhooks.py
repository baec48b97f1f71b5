"""Mentoring's webhook events, as a receiver gets them: requested, started, meeting held,
completed (and the certificate that follows), ended; in order per mentorship, signed, with
ids and no private text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.testing import run_job, verified

pytestmark = pytest.mark.plugins("mentoring", "certificates")

JOB = "core.deliver_webhooks"
TYPES = (
    "mentorship.requested",
    "mentorship.started",
    "mentorship.completed",
    "mentorship.ended",
    "meeting.held",
    "certificate.issued",
)


@pytest.fixture
def app(make_app):
    return make_app(WEBHOOK_ALLOW_LOCAL_HTTP=True)


def types_and_data(receiver) -> list[tuple[str, dict]]:
    return [(item.payload["type"], item.payload["data"]) for item in receiver.received]


def test_a_mentorship_from_request_to_certificate_reaches_the_endpoint_in_order(
    app, db, mentee, mentor, pairs, planner, webhook_receiver
):
    _, secret = webhook_receiver.subscribe(app, *TYPES)

    mentorship = pairs.active(mentee, mentor, meetings_planned=2)
    held = planner.schedule(mentorship, mentee, mentor)
    planner.hold(held, mentee, mentor)
    final = planner.schedule(
        mentorship, mentee, mentor, datetime.now(UTC) + timedelta(days=5), is_final=True
    )
    planner.hold(final, mentee, mentor)
    run_job(app, JOB)

    pair = {"mentorship_id": mentorship, "mentee_id": mentee.id, "mentor_id": mentor.id}
    received = types_and_data(webhook_receiver)
    keyed = [item for item in received if item[0] != "certificate.issued"]
    assert keyed == [
        ("mentorship.requested", pair),
        ("mentorship.started", pair),
        ("meeting.held", {"meeting_id": held, "mentorship_id": mentorship, "final": False}),
        ("meeting.held", {"meeting_id": final, "mentorship_id": mentorship, "final": True}),
        ("mentorship.completed", pair),
    ]
    certificates = [data for kind, data in received if kind == "certificate.issued"]
    assert sorted(data["holder_id"] for data in certificates) == sorted([mentee.id, mentor.id])
    assert all(data["goal_kind"] == "mentoring.finished" for data in certificates)
    assert all(verified(item, secret) for item in webhook_receiver.received)
    everything = b"".join(item.body for item in webhook_receiver.received)
    assert mentee.email.encode() not in everything and mentor.email.encode() not in everything
    assert b"Would you mentor me" not in everything  # the request's message stays private


def test_a_mentorship_ended_early_is_sent_and_a_declined_request_is_not(
    app, db, mentee, mentor, create_user, make_mentor, pairs, webhook_receiver
):
    from plugins.mentoring.services import ending, lifecycle

    webhook_receiver.subscribe(app, "mentorship.ended", "mentorship.requested")
    coordinator = create_user(role="coordinator")
    mentorship = pairs.active(mentee, mentor)
    ending.end_by_staff(mentorship, coordinator, "The pair asked us.")
    other = make_mentor("Grace Hopper")
    declined = pairs.request(mentee, other)
    lifecycle.decline_request(declined, other, "timing", "Not this term, sorry.")
    db.session.commit()

    run_job(app, JOB)

    received = types_and_data(webhook_receiver)
    # in order per mentorship (across mentorships, no order is promised)
    assert [kind for kind, data in received if data["mentorship_id"] == mentorship] == [
        "mentorship.requested",
        "mentorship.ended",
    ]
    assert [kind for kind, data in received if data["mentorship_id"] == declined] == [
        "mentorship.requested"
    ]
