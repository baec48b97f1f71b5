"""A member moving from page to page downloads the site's stylesheets, scripts and images
once: links to them carry their version, so the browser keeps them without asking again
(before, it asked the server about each of them at every page)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.plugins("mentoring", "wiki")

STATIC_RESOURCES = """() => performance.getEntriesByType('resource')
    .filter(entry => entry.name.includes('/static/'))
    .map(entry => [entry.name, entry.transferSize])"""


@pytest.mark.parametrize("viewport", ["desktop"])
def test_the_second_page_takes_the_sites_files_from_the_browsers_cache(
    open_page, live_server, member
):
    page = open_page(member)
    page.goto(f"{live_server}/")
    first = page.evaluate(STATIC_RESOURCES)
    assert len(first) >= 4  # stylesheets, scripts, the logo
    assert all(size > 0 for _name, size in first)  # downloaded

    page.goto(f"{live_server}/members/{member.id}")
    page.get_by_role("heading", name="Mo Member").wait_for()
    second = page.evaluate(STATIC_RESOURCES)
    assert {name for name, _size in second} >= {name for name, _size in first}
    # nothing crossed the network, not even a question answered "not modified"
    assert [(name, size) for name, size in second if size > 0] == []
