"""Webhooks, as a receiver sees them: signed posts after the cause commits, at least once
through an outage, in order per key, and an endpoint that keeps failing disabled with the
admins told."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from core.db import db as database
from core.errors import InvalidInput
from core.models import Notification, WebhookDelivery, WebhookEndpoint, WebhookEvent
from core.services import webhooks
from core.testing import count_rows, in_unit_of_work, race, run_job, stored, verified

JOB = webhooks.DELIVER_JOB_ID
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(make_app):
    return make_app(
        WEBHOOK_ALLOW_LOCAL_HTTP=True,
        WEBHOOK_DISABLE_AFTER_FAILURES=3,
        WEBHOOK_DISABLE_AFTER_HOURS=1,
    )


def emit(app, event_type: str, data: dict, key: str | None = None) -> None:
    in_unit_of_work(app, lambda: webhooks.emit_webhook(event_type, data, ordering_key=key))


def register(client, email: str = "ada@example.org"):
    form = {"display_name": "Ada", "email": email, "password": "a long enough password"}
    return client.post("/register", data=form, follow_redirects=True)


def test_a_registration_reaches_the_endpoint_signed_once_the_job_runs(
    app, client, webhook_receiver
):
    _, secret = webhook_receiver.subscribe(app, "member.registered")

    register(client)
    assert webhook_receiver.received == []  # nothing is sent inside the request

    run_job(app, JOB)

    [delivery] = webhook_receiver.received
    assert verified(delivery, secret)
    payload = delivery.payload
    assert payload["type"] == "member.registered"
    assert set(payload) == {"type", "timestamp", "data"}
    member_id = payload["data"]["member_id"]
    assert isinstance(member_id, int)
    assert b"ada@example.org" not in delivery.body and b"Ada" not in delivery.body
    assert delivery.webhook_id.startswith("msg_")
    assert stored(app, select(WebhookDelivery.last_status)) == 200
    run_job(app, JOB)
    assert len(webhook_receiver.received) == 1  # delivered is done


def test_a_wrong_secret_fails_verification_and_a_rotated_one_signs_what_follows(
    app, db, webhook_receiver
):
    endpoint_id, secret = webhook_receiver.subscribe(app, "member.registered")
    emit(app, "member.registered", {"member_id": 1})
    run_job(app, JOB)

    [first] = webhook_receiver.received
    assert verified(first, secret)
    assert not verified(first, webhooks.new_secret())
    tampered = type(first)(first.webhook_id, first.timestamp, first.signature, first.body + b" ")
    assert not verified(tampered, secret)

    rotated = in_unit_of_work(
        app, lambda: webhooks.rotate_secret(database.session.get(WebhookEndpoint, endpoint_id))
    )
    emit(app, "member.registered", {"member_id": 2})
    run_job(app, JOB)
    second = webhook_receiver.received[1]
    assert verified(second, rotated) and not verified(second, secret)


def test_nothing_is_queued_when_the_cause_rolls_back_or_nobody_subscribed(
    app, db, webhook_receiver
):
    webhook_receiver.subscribe(app, "report.filed")
    webhooks.emit_webhook("member.registered", {"member_id": 1})  # not subscribed
    webhooks.emit_webhook("report.filed", {"report_id": 1})
    db.session.rollback()

    run_job(app, JOB)

    assert webhook_receiver.received == []
    assert count_rows(app, WebhookEvent) == 0
    with pytest.raises(ValueError, match="no webhook event type"):
        webhooks.emit_webhook("member.deleted", {})


def test_a_report_is_sent_with_ids_and_no_text(app, client, create_user, webhook_receiver):
    _, secret = webhook_receiver.subscribe(app, "report.filed")
    reporter, spammer = create_user(), create_user(bio="Cheap watches")
    client.login(reporter)
    client.post(
        f"/report/core.profile/{spammer.id}",
        data={"reason": "spam", "text": "a private note to the moderators"},
    )

    run_job(app, JOB)

    [delivery] = webhook_receiver.received
    assert verified(delivery, secret)
    assert delivery.payload["type"] == "report.filed"
    data = delivery.payload["data"]
    assert data["kind"] == "core.profile" and data["item_id"] == spammer.id
    assert data["reason"] == "spam" and isinstance(data["report_id"], int)
    assert b"private note" not in delivery.body and b"Cheap" not in delivery.body


def test_an_outage_loses_nothing_and_keeps_each_key_in_order(app, db, webhook_receiver):
    webhook_receiver.subscribe(app, "member.registered")
    with time_machine.travel(START, tick=False):
        for number in range(1, 4):
            for key in ("mentorship:1", "mentorship:2"):
                emit(app, "member.registered", {"n": number, "key": key}, key)
        emit(app, "member.registered", {"n": 0, "key": None})
        sent = stored_ids(app)
        webhook_receiver.stop()

        run_job(app, JOB)  # the first of each key fails; those behind it wait

    assert webhook_receiver.received == []
    # the first of each key, and the unkeyed one
    assert tried(app) == {(1, "mentorship:1"), (1, "mentorship:2"), (0, None)}

    # retried while the receiver is down, with time moving past each backoff
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        run_job(app, JOB)
    webhook_receiver.start()
    for minutes in (10, 30, 90):
        with time_machine.travel(START + timedelta(minutes=minutes), tick=False):
            run_job(app, JOB)

    received = webhook_receiver.ids()
    assert set(received) == set(sent)  # none lost
    assert len(received) == len(sent)  # and here, none twice
    for key in ("mentorship:1", "mentorship:2"):
        keyed = [d.payload["data"] for d in webhook_receiver.received]
        assert [item["n"] for item in keyed if item["key"] == key] == [1, 2, 3]


def stored_ids(app) -> list[str]:
    with app.app_context():
        ids = list(database.session.scalars(select(WebhookEvent.message_id)))
        database.session.remove()
    return ids


def tried(app) -> set[tuple[int, str | None]]:
    """(n, key) of the events whose delivery was attempted."""
    with app.app_context():
        bodies = database.session.scalars(
            select(WebhookEvent.body)
            .join(WebhookDelivery, WebhookDelivery.event_id == WebhookEvent.id)
            .where(WebhookDelivery.attempts > 0)
        )
        data = [json.loads(body)["data"] for body in bodies]
        database.session.remove()
    return {(item["n"], item["key"]) for item in data}


def test_a_retry_is_a_replay_the_receiver_spots_by_its_webhook_id(app, db, webhook_receiver):
    _, secret = webhook_receiver.subscribe(app, "member.registered")
    emit(app, "member.registered", {"member_id": 1})
    webhook_receiver.status = 500  # it kept the event, but answered an error
    with time_machine.travel(START, tick=False):
        run_job(app, JOB)
    webhook_receiver.status = 204
    with time_machine.travel(START + timedelta(minutes=2), tick=False):
        run_job(app, JOB)

    first, again = webhook_receiver.received
    assert first.webhook_id == again.webhook_id and first.body == again.body
    assert first.timestamp != again.timestamp  # signed anew at each attempt
    assert verified(first, secret) and verified(again, secret)
    assert len(set(webhook_receiver.ids())) == 1  # one event, however many deliveries


def test_two_runs_at_once_never_send_one_delivery_twice(app, db, webhook_receiver):
    webhook_receiver.subscribe(app, "member.registered")
    for number in range(6):
        emit(app, "member.registered", {"member_id": number})

    outcomes = race(app, webhooks.deliver_webhooks, webhooks.deliver_webhooks)

    assert [outcome for outcome, _ in outcomes] == ["ok", "ok"]
    assert sum(result for _, result in outcomes) == 6
    assert len(webhook_receiver.ids()) == 6 == len(set(webhook_receiver.ids()))


def test_an_endpoint_failing_too_long_is_disabled_the_admins_told_and_resumes(
    app, db, mail, create_user, webhook_receiver
):
    admin = create_user(role="admin", email="admin@example.org")
    coordinator = create_user(role="coordinator")
    endpoint_id, _ = webhook_receiver.subscribe(app, "member.registered")
    emit(app, "member.registered", {"member_id": 1})
    emit(app, "member.registered", {"member_id": 2})
    webhook_receiver.status = 503

    for minutes in (0, 1, 5, 30, 61):  # the third failure is within the hour: still enabled
        with time_machine.travel(START + timedelta(minutes=minutes), tick=False):
            run_job(app, JOB)
        enabled = stored(app, select(WebhookEndpoint.enabled))
        assert enabled is (minutes < 61), minutes

    # two deliveries failed at each run; the second waits once the first disabled it
    assert stored(app, select(WebhookEndpoint.failures)) == 9
    alerts = stored(app, select(Notification.message).where(Notification.user_id == admin.id))
    assert "is disabled" in alerts and webhook_receiver.url in alerts
    assert count_rows(app, Notification, Notification.user_id == coordinator.id) == 0
    with time_machine.travel(START + timedelta(minutes=62), tick=False):
        [message] = [m for m in mail.deliver() if m["To"] == "admin@example.org"]
    assert message["Subject"] == "A webhook endpoint is disabled"

    # disabled: nothing is tried, however long it waits
    received = len(webhook_receiver.received)
    with time_machine.travel(START + timedelta(days=2), tick=False):
        run_job(app, JOB)
    assert len(webhook_receiver.received) == received

    webhook_receiver.status = 200
    in_unit_of_work(
        app, lambda: webhooks.enable_endpoint(database.session.get(WebhookEndpoint, endpoint_id))
    )
    with time_machine.travel(START + timedelta(days=2), tick=False):
        run_job(app, JOB)
    delivered = [d.payload["data"]["member_id"] for d in webhook_receiver.received[received:]]
    assert delivered == [1, 2]
    assert stored(app, select(WebhookEndpoint.failures)) == 0


def test_an_endpoint_needs_https_and_known_events(app, make_app, db):
    with pytest.raises(InvalidInput, match="https"):
        webhooks.add_endpoint("ftp://example.org/hooks", ["member.registered"])
    with pytest.raises(InvalidInput, match="Choose the events"):
        webhooks.add_endpoint("https://example.org/hooks", ["member.deleted"])
    with pytest.raises(InvalidInput, match="Choose the events"):
        webhooks.add_endpoint("https://example.org/hooks", [])
    with pytest.raises(InvalidInput, match="cannot be used"):
        webhooks.add_endpoint("https://user:pw@example.org/hooks", ["member.registered"])
    endpoint = webhooks.add_endpoint("https://example.org/hooks", ["member.registered"])
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    db.session.rollback()

    strict = make_app()  # WEBHOOK_ALLOW_LOCAL_HTTP off, as in production
    with strict.test_request_context(), pytest.raises(InvalidInput, match="https"):
        webhooks.add_endpoint("http://127.0.0.1:9/hooks", ["member.registered"])


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "10.1.2.3",  # private
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "169.254.169.254",  # link-local: the cloud's metadata service
        "224.0.0.1",  # multicast
        "239.255.255.250",
        "240.0.0.1",  # reserved
        "0.0.0.0",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",  # unique local
        "ff02::1",  # multicast
        "::ffff:127.0.0.1",  # IPv4 mapped into IPv6
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    ],
)
def test_an_address_inside_is_not_public(address):
    assert not webhooks.is_public_address(address)


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:2800:21f:cb07::1", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_an_address_on_the_internet_is_public(address):
    assert webhooks.is_public_address(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hooks",
        "http://localhost:9/hooks",  # a name: what it resolves to counts
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.7/hooks",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://2130706433/hooks",  # 127.0.0.1 written as one number
        "https://0x7f000001/hooks",
    ],
)
def test_an_endpoint_inside_the_network_is_refused(make_app, url):
    strict = make_app(WEBHOOK_ALLOW_LOCAL_HTTP=True, WEBHOOK_ALLOW_PRIVATE_ADDRESSES=False)
    with strict.test_request_context(), pytest.raises(InvalidInput, match="public addresses"):
        webhooks.add_endpoint(url, ["member.registered"])
    assert count_rows(strict, WebhookEndpoint) == 0


def test_an_endpoint_on_a_port_beyond_the_last_is_refused(app, db):
    with pytest.raises(InvalidInput, match="cannot be used"):
        webhooks.add_endpoint("https://example.org:70000/hooks", ["member.registered"])


def test_a_delivery_to_an_address_inside_is_refused_and_logged(
    app, client, create_user, webhook_receiver
):
    """The endpoint's address may point inside later (its DNS changed): the address the
    delivery connects to is checked before anything is sent."""
    endpoint_id, _secret = webhook_receiver.subscribe(app, "member.registered")  # allowed then
    app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = False  # as on a public site
    emit(app, "member.registered", {"member_id": 1})

    run_job(app, JOB)

    assert webhook_receiver.received == []
    assert stored(app, select(WebhookDelivery.attempts)) == 1
    assert stored(app, select(WebhookDelivery.delivered_at)) is None  # to be retried
    assert stored(app, select(WebhookDelivery.last_status)) is None  # no answer: none asked
    error = stored(app, select(WebhookDelivery.last_error))
    assert "127.0.0.1 is at 127.0.0.1, not a public address: nothing was sent" in error
    assert stored(app, select(WebhookEndpoint.failures)) == 1
    client.login(create_user(role="admin"))
    log = client.get(f"/admin/webhooks/{endpoint_id}").text
    assert "127.0.0.1 is at 127.0.0.1, not a public address: nothing was sent" in log


def test_the_database_refuses_an_endpoint_without_a_secret_of_the_format(app, db):
    from sqlalchemy.exc import IntegrityError

    db.session.add(WebhookEndpoint(url="https://example.org", secret="plain", event_types=["x"]))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    db.session.add(
        WebhookEndpoint(
            url="https://example.org", secret=webhooks.new_secret(), event_types=[], enabled=False
        )
    )
    with pytest.raises(IntegrityError):  # disabled, but nobody said why
        db.session.flush()
    db.session.rollback()


def test_the_console_shows_a_failing_endpoint_and_why_it_was_disabled(
    app, client, create_user, webhook_receiver
):
    admin = create_user(role="admin")
    endpoint_id, _ = webhook_receiver.subscribe(app, "member.registered")
    emit(app, "member.registered", {"member_id": 1})
    webhook_receiver.status = 500
    with time_machine.travel(START, tick=False):
        run_job(app, JOB)
    client.login(admin)

    assert "1 failed attempt in a row" in client.get("/admin/webhooks/").text
    page = client.get(f"/admin/webhooks/{endpoint_id}").text
    assert "1 failed attempt in a row." in page
    assert "last answer 500" in page and "not now" in page  # the receiver's own words

    for minutes in (2, 10, 70):
        with time_machine.travel(START + timedelta(minutes=minutes), tick=False):
            run_job(app, JOB)
    page = client.get(f"/admin/webhooks/{endpoint_id}").text
    assert "Disabled by alma: it kept failing." in page


def test_delivered_webhooks_are_forgotten_after_the_days_kept_undelivered_never(
    app, db, webhook_receiver
):
    webhook_receiver.subscribe(app, "member.registered")
    with time_machine.travel(START, tick=False):
        emit(app, "member.registered", {"member_id": 1})
        run_job(app, JOB)
        webhook_receiver.stop()
        emit(app, "member.registered", {"member_id": 2})
        run_job(app, JOB)

    with time_machine.travel(START + timedelta(days=29), tick=False):
        run_job(app, "core.prune_webhooks")
    assert count_rows(app, WebhookDelivery) == 2
    with time_machine.travel(START + timedelta(days=31), tick=False):
        run_job(app, "core.prune_webhooks")
    assert count_rows(app, WebhookDelivery) == 1  # the undelivered one stays, and its event
    assert count_rows(app, WebhookEvent) == 1
    assert count_rows(app, WebhookDelivery, WebhookDelivery.delivered_at.is_(None)) == 1
