"""The console's Webhooks, as an admin uses it: add, rotate, disable, enable, remove an
endpoint, each act in the audit log; coordinators and members are refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.models import AuditEntry, WebhookEndpoint
from core.testing import count_rows, run_job, stored, verified

URL = "https://crm.example.org/alma"


@pytest.fixture
def app(make_app):
    return make_app(WEBHOOK_ALLOW_LOCAL_HTTP=True)


@pytest.fixture
def admin(create_user):
    return create_user(role="admin", email="admin@example.org")


def add(client, url: str = URL, events=("member.registered",), reason: str = "the CRM"):
    return client.post(
        "/admin/webhooks/new",
        data={"url": url, "events": list(events), "description": "Our CRM", "reason": reason},
        follow_redirects=True,
    )


def secret_on(page: str) -> str:
    return re.search(r"data-secret>(whsec_[^<]+)<", page).group(1)


def _all_acts(app) -> list[str]:
    from core.db import db

    with app.app_context():
        found = list(db.session.scalars(select(AuditEntry.act).order_by(AuditEntry.id)))
        db.session.remove()
    return found


def test_an_admin_adds_an_endpoint_and_reads_its_secret(app, client, admin):
    client.login(admin)
    console = client.get("/admin/").text
    assert 'href="/admin/webhooks/"' in console
    assert "No endpoint yet." in client.get("/admin/webhooks/").text
    form = client.get("/admin/webhooks/new").text
    assert "Kept in the audit log, for the other admins." in form  # no member is concerned
    assert "the member does not see it" not in form

    page = add(client)
    assert "the member does not see it" not in page.text  # the endpoint's page and its acts

    assert "The endpoint is added." in page.text
    assert URL in page.text and "member.registered" in page.text and "Our CRM" in page.text
    secret = secret_on(page.text)
    assert secret == stored(app, select(WebhookEndpoint.secret))
    assert "Nothing sent yet" in page.text
    assert URL in client.get("/admin/webhooks/").text
    assert _all_acts(app) == ["webhook.added"]


@pytest.mark.parametrize(
    ("url", "events", "reason", "says"),
    [
        ("http://crm.example.org/", ("member.registered",), "r", "must start with https://"),
        (URL, (), "r", "Choose the events the endpoint gets."),
        (URL, ("member.deleted",), "r", "is not a valid choice"),
        (URL, ("member.registered",), "", "Give a reason"),
        ("", ("member.registered",), "r", "Give the endpoint's address."),
    ],
)
def test_a_bad_endpoint_is_refused_and_nothing_added(app, client, admin, url, events, reason, says):
    client.login(admin)
    page = add(client, url, events, reason)
    assert page.status_code == 400
    assert says in page.text
    assert count_rows(app, WebhookEndpoint) == 0


def test_an_endpoint_inside_the_network_is_refused_with_why(make_app, create_user):
    app = make_app(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=False)  # as on a public site
    client = app.test_client()
    client.login(create_user(role="admin", email="admin@example.org"))
    page = add(client, "https://169.254.169.254/latest/meta-data/")
    assert page.status_code == 400
    assert "169.254.169.254 is at 169.254.169.254, a private, local or reserved address" in (
        page.text
    )
    assert count_rows(app, WebhookEndpoint) == 0


def test_rotate_disable_enable_change_and_remove(app, client, admin, webhook_receiver):
    client.login(admin)
    page = add(client, webhook_receiver.url).text
    old = secret_on(page)
    endpoint_id = stored(app, select(WebhookEndpoint.id))
    base = f"/admin/webhooks/{endpoint_id}"

    refused = client.post(f"{base}/rotate", data={"reason": ""}, follow_redirects=True)
    assert "Give a reason" in refused.text and secret_on(refused.text) == old
    rotated = client.post(f"{base}/rotate", data={"reason": "leaked"}, follow_redirects=True)
    assert "The secret is new" in rotated.text
    new = secret_on(rotated.text)
    assert new != old and new.startswith("whsec_")

    disabled = client.post(f"{base}/disable", data={"reason": "CRM down"}, follow_redirects=True)
    assert "Disabled by an admin." in disabled.text
    client.logout()
    client.post(
        "/register",
        data={"display_name": "Ada", "email": "a@example.org", "password": "a long password!"},
    )
    assert count_rows(app, WebhookEndpoint, WebhookEndpoint.enabled.is_(False)) == 1
    run_job(app, "core.deliver_webhooks")
    assert webhook_receiver.received == []  # disabled: nothing sent, nothing queued
    client.login(admin)
    assert (
        '<span data-section-count="webhooks.index">1</span> disabled' in client.get("/admin/").text
    )
    enabled = client.post(f"{base}/enable", data={"reason": "CRM back"}, follow_redirects=True)
    assert "The endpoint is enabled" in enabled.text

    changed = client.post(
        f"{base}/edit",
        data={
            "url": webhook_receiver.url,
            "events": ["member.registered", "report.filed"],
            "description": "",
            "reason": "reports too",
        },
        follow_redirects=True,
    )
    assert "The endpoint is changed." in changed.text and "report.filed" in changed.text
    client.logout()
    client.post(
        "/register",
        data={"display_name": "Bo", "email": "b@example.org", "password": "a long password!"},
    )
    run_job(app, "core.deliver_webhooks")
    [delivery] = webhook_receiver.received
    assert verified(delivery, new) and not verified(delivery, old)
    client.login(admin)
    log = client.get(base).text
    assert "delivered" in log and delivery.webhook_id in log and "last answer 200" in log

    removed = client.post(f"{base}/remove", data={"reason": "done"}, follow_redirects=True)
    assert "The endpoint is removed" in removed.text
    assert count_rows(app, WebhookEndpoint) == 0
    assert client.get(base).status_code == 404
    assert _all_acts(app) == [
        "webhook.added",
        "webhook.secret_rotated",
        "webhook.disabled",
        "webhook.enabled",
        "webhook.changed",
        "webhook.removed",
    ]


def test_coordinators_and_members_are_refused(app, client, create_user, admin):
    client.login(admin)
    add(client)
    endpoint_id = stored(app, select(WebhookEndpoint.id))
    secret = stored(app, select(WebhookEndpoint.secret))
    for user in (create_user(role="coordinator"), create_user()):
        client.login(user)
        assert "/admin/webhooks" not in client.get("/admin/").text
        for method, url in [
            ("GET", "/admin/webhooks/"),
            ("GET", f"/admin/webhooks/{endpoint_id}"),
            ("POST", f"/admin/webhooks/{endpoint_id}/rotate"),
            ("POST", f"/admin/webhooks/{endpoint_id}/remove"),
        ]:
            response = client.open(url, method=method, data={"reason": "x"})
            assert response.status_code == 403, (user.role, url)
            assert secret not in response.text
    assert count_rows(app, WebhookEndpoint) == 1
    assert stored(app, select(WebhookEndpoint.secret)) == secret
