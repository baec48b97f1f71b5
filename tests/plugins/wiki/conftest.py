"""The wiki plugin's tests run with it enabled (and nothing else: no credits plugin), unless a
test says otherwise."""

from __future__ import annotations

import html
import re

import pytest

from core.testing import race as run_at_once

BODY = """\
Meet for **an hour**, agree on how you keep in touch, and set one small goal.

- Read each other's profiles
- Bring one question
"""


@pytest.fixture
def alma_plugins(request):
    marker = request.node.get_closest_marker("plugins")
    return list(marker.args) if marker else ["wiki"]


@pytest.fixture
def ada(create_user):
    """Ada Lovelace, a member who writes articles."""
    return create_user(display_name="Ada Lovelace")


@pytest.fixture
def rui(create_user):
    """Rui Mentor, a member who edits and rates Ada's articles."""
    return create_user(display_name="Rui Mentor")


class Articles:
    """Articles made through the real services, committed."""

    def __init__(self, db) -> None:
        self.db = db

    def create(self, author, title: str = "Your first meeting", body: str = BODY, tags: str = ""):
        from plugins.wiki import services

        article = services.create_article(author, title, body, tags=tags)
        self.db.session.commit()
        return article

    def edit(self, article, editor, body: str, title: str | None = None, summary: str = ""):
        from plugins.wiki import services

        self.db.session.refresh(article)
        revision = services.save_article(
            article.id,
            editor,
            base_number=article.revision_number,
            title=title or article.title,
            body=body,
            tags=", ".join(tag.name for tag in article.tags),
            summary=summary,
        )
        self.db.session.commit()
        return revision

    def rate(self, article, rater, stars: int):
        from plugins.wiki import services

        rating = services.rate_article(article.id, rater, stars)
        self.db.session.commit()
        return rating


@pytest.fixture
def articles(db):
    return Articles(db)


def form_fields(page: str) -> dict[str, str]:
    """The edit form's fields as the page shows them (what a browser would post back)."""
    fields = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page))
    fields["body"] = re.search(r'<textarea[^>]*name="body"[^>]*>\n?(.*?)</textarea>', page, re.S)[1]
    return {name: html.unescape(value) for name, value in fields.items() if name != "csrf_token"}


@pytest.fixture
def edit_form():
    """``edit_form(page)``: the fields of the edit form on ``page``, as a browser posts them."""
    return form_fields


@pytest.fixture
def race(app):
    """``race(*actions)``: core's ``race`` on this test's app."""
    return lambda *actions: run_at_once(app, *actions)
