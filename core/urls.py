"""Paths and links to the site's pages, also where no request gives an address to build
them from (a job, the demo, the CLI): there Flask's ``url_for`` builds on ``BASE_URL``
(see ``core.app.AlmaFlask``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from flask import current_app, url_for


def site_path(endpoint: str, **values: Any) -> str:
    """The path of a page, as ``url_for`` gives it (``_anchor`` too), in a request or not:
    for an alert's or an activity's ``url``, stored and followed later."""
    return url_for(endpoint, _external=False, **values)


def external_url(endpoint: str, **values: Any) -> str:
    """The full link to a page on ``BASE_URL``, for text read off the site (a mail, a
    calendar feed, a PDF); never built from the request's own address, which its sender
    chooses."""
    return absolute_url(site_path(endpoint, **values))


def absolute_url(path: str) -> str:
    """A site path you already hold (an alert's stored ``url``) as a full link on
    ``BASE_URL``."""
    base_url: str = current_app.config["BASE_URL"]
    return urljoin(base_url.rstrip("/") + "/", path.lstrip("/"))
