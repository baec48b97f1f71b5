"""Every page and act of the staff's console, with every plugin on: visitors are sent to log in
and members are refused, whatever the page and whichever plugin draws it. Core's own pages are
also opened by each role in tests/core/test_staff.py; each plugin's tests open its pages."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.plugins("mentoring", "wiki", "groups", "credits", "certificates")

# any number stands for an id: the role is checked before the id is looked up
ANY_ID = "1"


def console_urls(app) -> list[tuple[str, str]]:
    """(method, url) of every rule under /admin/, its ids filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        url = re.sub(r"<any\(\s*(\w+)[^>]*>", r"\1", rule.rule)  # the first choice
        url = re.sub(r"<[^>]+>", ANY_ID, url)
        found += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(found)


def test_every_plugin_draws_its_console_pages_under_admin(app):
    urls = {url for _, url in console_urls(app)}
    for expected in (
        "/admin/mentorships",
        "/admin/verification",
        "/admin/credits/",
        "/admin/certificates/",
        "/admin/reports",
        "/admin/statistics",
        "/admin/webhooks/",
        "/admin/webhooks/1/rotate",
    ):
        assert expected in urls


def test_visitors_are_sent_to_log_in_and_members_refused_on_every_console_url(
    app, client, create_user
):
    urls = console_urls(app)
    assert len(urls) > 30

    for method, url in urls:
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert response.location.startswith("/login"), (method, url)

    client.login(create_user())
    refused = {(method, url): client.open(url, method=method).status_code for method, url in urls}
    assert refused == dict.fromkeys(urls, 403)

    # a mentor in a pair is no more staff than anyone else
    client.login(create_user(wants_to_mentor=True))
    assert {(m, u): client.open(u, method=m).status_code for m, u in urls} == dict.fromkeys(
        urls, 403
    )
