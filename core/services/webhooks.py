"""Webhooks: events sent to the URLs an admin registers, signed as the Standard Webhooks
specification says (https://www.standardwebhooks.com).

``emit_webhook`` only writes rows in the caller's unit of work, one event and a delivery per
enabled endpoint subscribed to its type: if the cause rolls back, nothing is sent; if it
commits, the ``core.deliver_webhooks`` job posts it, never a request. Delivery is at least
once: retried with exponential backoff (and jitter) until the endpoint answers 2xx, under the
same ``webhook-id``, so a receiver tells a replay from a new event. Deliveries of one endpoint
that share an ordering key ("mentorship:12") go in the order they were emitted: a later one
waits while an earlier one is not delivered. An endpoint failing for ``WEBHOOK_DISABLE_AFTER_
HOURS`` and at least ``WEBHOOK_DISABLE_AFTER_FAILURES`` attempts in a row is disabled and the
admins are told; enabling it again sends what waited.

An endpoint is never on a private, loopback, link-local, multicast or reserved address (a
server-side request forgery: alma's own network, the cloud's metadata service), unless the
operator allows it (``WEBHOOK_ALLOW_PRIVATE_ADDRESSES``): its host is looked up when it is
registered, and the address each delivery actually connects to is checked again before a byte
is sent, so a host whose name later points inside (DNS rebinding) gets nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import random
import secrets
import socket
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, exists, func, select, update
from sqlalchemy.orm import aliased

from core.contributions import WebhookEventType
from core.db import db, rows_changed, utcnow, work_through_due
from core.errors import InvalidInput, NotFound
from core.i18n import reading_as
from core.jobs import wake_job_after_commit
from core.models import (
    WEBHOOK_RESPONSE_KEPT,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from core.services.notifications import notify
from core.state import alma
from core.urls import site_path

logger = logging.getLogger(__name__)

DELIVER_JOB_ID = "core.deliver_webhooks"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
BATCH_SIZE = 50
CLAIM_LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
USER_AGENT = "alma-webhooks/1"


def core_webhook_events() -> list[WebhookEventType]:
    return [
        WebhookEventType("member.registered", _l("A member registered")),
        WebhookEventType("report.filed", _l("A member reported something to the moderators")),
    ]


def webhook_event_types(contributed: Iterable[WebhookEventType]) -> dict[str, WebhookEventType]:
    """Core's event types and the plugins', by name (checked at startup: a name declared
    twice stops alma)."""
    types: dict[str, WebhookEventType] = {}
    for event_type in [*core_webhook_events(), *contributed]:
        if event_type.name in types:
            raise ValueError(f"webhook event type {event_type.name!r} is declared twice")
        types[event_type.name] = event_type
    return types


# ---- endpoints --------------------------------------------------------------------------------


def new_secret() -> str:
    """A secret as Standard Webhooks writes one: ``whsec_`` and the base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def endpoint_by_id(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(_("There is no such webhook endpoint."))
    return endpoint


def add_endpoint(url: str, event_types: Iterable[str], description: str = "") -> WebhookEndpoint:
    """Register an endpoint, enabled, with a new secret."""
    endpoint = WebhookEndpoint(secret=new_secret(), enabled=True)
    change_endpoint(endpoint, url, event_types, description)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def change_endpoint(
    endpoint: WebhookEndpoint, url: str, event_types: Iterable[str], description: str = ""
) -> None:
    """Set an endpoint's address, the types of event it gets and its description."""
    endpoint.url = _checked_url(url)
    endpoint.event_types = _checked_event_types(event_types)
    endpoint.description = description.strip()[:200]


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret: every attempt from now on is signed with it."""
    endpoint.secret = new_secret()
    return endpoint.secret


def disable_endpoint(endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop sending to the endpoint; its deliveries wait until it is enabled again."""
    endpoint.enabled = False
    endpoint.disabled_reason = reason


def enable_endpoint(endpoint: WebhookEndpoint) -> None:
    """Send to the endpoint again, starting with what waited while it was disabled."""
    endpoint.enabled = True
    endpoint.disabled_reason = None
    endpoint.failures = 0
    endpoint.failing_since = None
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.delivered_at.is_(None))
        .values(next_attempt_at=utcnow())
    )
    wake_job_after_commit(DELIVER_JOB_ID)


def remove_endpoint(endpoint: WebhookEndpoint) -> None:
    """Forget the endpoint and its deliveries, sent or waiting."""
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.flush()


def audit_target(endpoint: WebhookEndpoint) -> tuple[str, int, str]:
    """How the audit log names an endpoint an act was done to."""
    return ("webhook", endpoint.id, endpoint.url)


def deliveries_query(endpoint: WebhookEndpoint) -> Select[WebhookDelivery]:
    """The endpoint's delivery log, the newest first."""
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
    )


def _checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    local_http = (
        parts.scheme == "http"
        and parts.hostname in LOCAL_HOSTS
        and current_app.config["WEBHOOK_ALLOW_LOCAL_HTTP"]
    )
    if not (parts.scheme == "https" or local_http) or not parts.hostname:
        raise InvalidInput(_("The endpoint's address must start with https://."))
    if parts.username or parts.password or len(url) > WebhookEndpoint.url.type.length:
        raise InvalidInput(_("This address cannot be used for an endpoint."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port that is not a number, or beyond 65535
        raise InvalidInput(_("This address cannot be used for an endpoint.")) from None
    inside = _first_address_inside(parts.hostname, port)
    if inside is not None:
        raise InvalidInput(
            _(
                "%(host)s is at %(address)s, a private, local or reserved address: alma sends"
                " webhooks only to public addresses.",
                host=parts.hostname,
                address=inside,
            )
        )
    return url


def _first_address_inside(host: str, port: int) -> str | None:
    """The first address ``host`` resolves to that is not on the public internet, unless the
    operator allows those; ``None`` if none is (or the host is unknown yet: a delivery
    checks again, and fails until it resolves)."""
    if current_app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]:
        return None
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    for *_kind, address in found:
        if not is_public_address(str(address[0])):
            return str(address[0])
    return None


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # IPv6 addresses a gateway maps to IPv4 ones


def is_public_address(text: str) -> bool:
    """Whether an IP address is one on the public internet: not private, loopback,
    link-local (169.254.169.254, the cloud's metadata), multicast, reserved or unspecified,
    IPv4 or IPv6. An IPv6 address that carries an IPv4 one (mapped, 6to4, NAT64) is judged
    by the IPv4 address it leads to."""
    address = ipaddress.ip_address(text.partition("%")[0])  # fe80::1%eth0: without the zone
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64:
            return is_public_address(str(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)))
        carried = address.ipv4_mapped or address.sixtofour
        if carried is not None:
            return is_public_address(str(carried))
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _checked_event_types(names: Iterable[str]) -> list[str]:
    chosen = sorted(set(names))
    known = alma().webhook_events
    if not chosen or any(name not in known for name in chosen):
        raise InvalidInput(_("Choose the events the endpoint gets."))
    return chosen


# ---- emitting ---------------------------------------------------------------------------------


def emit_webhook(
    event_type: str, data: Mapping[str, Any], *, ordering_key: str | None = None
) -> WebhookEvent | None:
    """Queue the event ``event_type`` (a declared ``WebhookEventType``) with ``data`` (ids
    and public facts, JSON-ready: never an e-mail address or a message's text) for each
    enabled endpoint subscribed to it, in the caller's unit of work. Events of the same
    ``ordering_key`` reach each endpoint in the order they were emitted. ``None`` when no
    endpoint wants it."""
    if event_type not in alma().webhook_events:
        raise ValueError(f"no webhook event type {event_type!r} is declared")
    subscribed = [
        endpoint
        for endpoint in db.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
        )
        if event_type in endpoint.event_types
    ]
    if not subscribed:
        return None
    payload = {"type": event_type, "timestamp": utcnow().isoformat(), "data": dict(data)}
    event = WebhookEvent(
        message_id=f"msg_{secrets.token_urlsafe(18)}",
        type=event_type,
        ordering_key=ordering_key,
        body=json.dumps(payload, separators=(",", ":"), default=str),
    )
    db.session.add(event)
    db.session.flush()
    for endpoint in subscribed:
        db.session.add(
            WebhookDelivery(event_id=event.id, endpoint_id=endpoint.id, ordering_key=ordering_key)
        )
    db.session.flush()
    wake_job_after_commit(DELIVER_JOB_ID)
    return event


# ---- signing ----------------------------------------------------------------------------------


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header: ``v1,`` and the base64 HMAC-SHA256 of
    ``{id}.{timestamp}.{body}``, keyed by the secret's decoded bytes."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


# ---- delivering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What one POST to an endpoint came to: a status (none if no answer came), the start of
    the answer, the error."""

    status: int | None
    response: str | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Claimed:
    url: str
    secret: str
    message_id: str
    body: str


def deliver_webhooks() -> int:
    """Job: post the deliveries that are due; returns how many were delivered. Each is
    claimed first (its next attempt moved a lease ahead, by a conditional UPDATE) and
    committed, so no lock is held while waiting for a receiver and two runs never send one
    delivery at once; a process dying mid-send leaves it to be retried after the lease."""
    return work_through_due(_due_deliveries, _deliver, batch=BATCH_SIZE)


def _due_deliveries() -> Select[int]:
    earlier = aliased(WebhookDelivery)
    waiting_behind_earlier = exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.ordering_key == WebhookDelivery.ordering_key,
        earlier.delivered_at.is_(None),
        earlier.id < WebhookDelivery.id,
    )
    return (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.delivered_at.is_(None),
            WebhookDelivery.next_attempt_at <= utcnow(),
            WebhookEndpoint.enabled.is_(True),
            ~waiting_behind_earlier,
        )
        .order_by(WebhookDelivery.id)
    )


def _deliver(delivery_id: int) -> bool:
    """Claim, post and record one delivery; whether the endpoint took it."""
    claimed = _claim(delivery_id)
    if claimed is None:  # claimed meanwhile by another run, or its endpoint disabled
        return False
    attempt = _post(claimed)
    _record(delivery_id, attempt)
    db.session.commit()
    return attempt.delivered


def _claim(delivery_id: int) -> Claimed | None:
    now = utcnow()
    taken = rows_changed(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.delivered_at.is_(None),
            WebhookDelivery.next_attempt_at <= now,
            # not to an endpoint disabled since the batch was read
            WebhookDelivery.endpoint_id.in_(
                select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))
            ),
        )
        .values(next_attempt_at=now + CLAIM_LEASE)
        .execution_options(synchronize_session=False)
    )
    claimed = None
    if taken:
        delivery = db.session.get_one(WebhookDelivery, delivery_id)
        endpoint = db.session.get_one(WebhookEndpoint, delivery.endpoint_id)
        event = delivery.event
        claimed = Claimed(endpoint.url, endpoint.secret, event.message_id, event.body)
    db.session.commit()
    return claimed


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer that is not 2xx: the event goes where the admin said, only."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class RefusedAddress(OSError):
    """A delivery connected to an address that is not public, and sent nothing."""


class _PeerChecked(http.client.HTTPConnection):
    """A connection that checks the address it actually reached, before TLS and before the
    request: whatever the name resolved to at registration, or resolves to now."""

    def connect(self) -> None:
        super().connect()
        peer = str(self.sock.getpeername()[0])
        if not (current_app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] or is_public_address(peer)):
            self.sock.close()
            raise RefusedAddress(
                f"{self.host} is at {peer}, not a public address: nothing was sent"
                " (WEBHOOK_ALLOW_PRIVATE_ADDRESSES)"
            )


class _PeerCheckedHTTPS(http.client.HTTPSConnection, _PeerChecked):
    """HTTPS whose TCP connection is ``_PeerChecked`` (HTTPSConnection.connect calls it
    first, then starts TLS)."""


class _PeerCheckedHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PeerChecked, req)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PeerCheckedHTTPS, req)


def _post(claimed: Claimed) -> Attempt:
    timestamp = int(utcnow().timestamp())
    request = urllib.request.Request(
        claimed.url,
        data=claimed.body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": claimed.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(
                claimed.secret, claimed.message_id, timestamp, claimed.body
            ),
        },
    )
    opener = urllib.request.build_opener(_NoRedirects, _PeerCheckedHandler)
    timeout = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
    try:
        with opener.open(request, timeout=timeout) as response:
            return Attempt(response.status, _start_of(response.read(WEBHOOK_RESPONSE_KEPT)))
    except urllib.error.HTTPError as error:
        return Attempt(error.code, _start_of(error.read(WEBHOOK_RESPONSE_KEPT)), str(error))
    except (OSError, ValueError) as error:  # refused, timed out, no such host; a bad URL
        return Attempt(None, None, f"{type(error).__name__}: {error}")


def _start_of(answer: bytes) -> str:
    return answer.decode("utf-8", "replace")[:WEBHOOK_RESPONSE_KEPT]


def _record(delivery_id: int, attempt: Attempt) -> None:
    now = utcnow()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:  # its endpoint was removed while it was being sent
        return
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status = attempt.status
    delivery.last_response = attempt.response
    delivery.last_error = attempt.error
    if attempt.delivered:
        delivery.delivered_at = now
        _note_endpoint_works(delivery.endpoint_id)
        return
    delivery.next_attempt_at = now + _backoff(delivery.attempts)
    logger.warning(
        "webhook delivery %s (endpoint %s) failed, attempt %s: %s",
        delivery.id,
        delivery.endpoint_id,
        delivery.attempts,
        attempt.error or attempt.status,
    )
    _note_endpoint_fails(delivery.endpoint_id)


def _backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min… up to an hour, less up to a fifth at random, so that deliveries
    failing together do not all come back at the same second."""
    # a bounded exponent: timedelta overflows after some forty doublings
    backoff: timedelta = min(FIRST_RETRY * 2 ** min(attempts - 1, 20), MAX_BACKOFF)
    spread: timedelta = backoff * (1 - random.random() / 5)
    return spread


def _note_endpoint_works(endpoint_id: int) -> None:
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(failures=0, failing_since=None)
    )


def _note_endpoint_fails(endpoint_id: int) -> None:
    """Count the failure; past both limits, disable the endpoint (one run does, by a
    conditional UPDATE) and tell the admins."""
    now = utcnow()
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(
            failures=WebhookEndpoint.failures + 1,
            failing_since=func.coalesce(WebhookEndpoint.failing_since, now),
        )
        .execution_options(synchronize_session=False)
    )
    config = current_app.config
    limit_hours = timedelta(hours=config["WEBHOOK_DISABLE_AFTER_HOURS"])
    disabled = rows_changed(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id == endpoint_id,
            WebhookEndpoint.enabled.is_(True),
            WebhookEndpoint.failures >= config["WEBHOOK_DISABLE_AFTER_FAILURES"],
            WebhookEndpoint.failing_since <= now - limit_hours,
        )
        .values(enabled=False, disabled_reason="failing")
        .execution_options(synchronize_session=False)
    )
    if disabled:
        _tell_admins_of_disabled(db.session.get_one(WebhookEndpoint, endpoint_id))


def _tell_admins_of_disabled(endpoint: WebhookEndpoint) -> None:
    db.session.refresh(endpoint)
    admins = db.session.scalars(select(User).where(User.role == "admin"))
    url = site_path("webhooks.endpoint", endpoint_id=endpoint.id)
    for admin in admins:
        with reading_as(admin):
            notify(
                admin,
                _(
                    "The webhook endpoint %(url)s failed %(count)d times in a row and is"
                    " disabled: its events wait until you enable it again.",
                    url=endpoint.url,
                    count=endpoint.failures,
                ),
                url=url,
                email_subject=_("A webhook endpoint is disabled"),
            )


def prune_webhooks() -> None:
    """Job: forget deliveries made longer than ``WEBHOOK_KEEP_DAYS`` ago, and the events
    left with no delivery. Undelivered ones stay, however old: they are still due."""
    kept = timedelta(days=current_app.config["WEBHOOK_KEEP_DAYS"])
    db.session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.delivered_at < utcnow() - kept)
    )
    db.session.execute(
        delete(WebhookEvent).where(
            ~exists().where(WebhookDelivery.event_id == WebhookEvent.id),
            WebhookEvent.created_at < utcnow() - kept,
        )
    )
