"""The wiki's rate limit, per member: new articles and edits share one count; over it the
editor comes back with the text typed as a 429, nothing is saved, and other members edit on."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.testing import count_rows, stored
from plugins.wiki.models import Article, Revision


@pytest.fixture
def app(make_app, rate_limit_storage):
    return make_app(RATE_LIMIT_STORAGE_URL=rate_limit_storage, RATE_LIMITS={"wiki-edit": "2/hour"})


def test_new_articles_and_edits_share_a_limit_and_the_text_is_kept(
    app, client, ada, rui, edit_form
):
    client.login(ada)
    created = client.post("/wiki/new", data={"title": "Meetings", "body": "Meet **weekly**."})
    assert created.status_code == 302
    article_id = stored(app, select(Article.id))
    form = edit_form(client.get(f"/wiki/{article_id}/edit").text)
    assert client.post(f"/wiki/{article_id}/edit", data=form | {"body": "v2"}).status_code == 302

    form = edit_form(client.get(f"/wiki/{article_id}/edit").text)
    refused = client.post(
        f"/wiki/{article_id}/edit", data=form | {"body": "My third version, typed with care"}
    )

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3600"
    page = refused.get_data(as_text=True)
    assert "Try again in 60 minutes." in page
    assert "My third version, typed with care</textarea>" in page
    new = client.post("/wiki/new", data={"title": "Kept title", "body": "Kept body"})
    assert new.status_code == 429 and 'value="Kept title"' in new.get_data(as_text=True)
    assert count_rows(app, Revision) == 2 and count_rows(app, Article) == 1

    # a preview is not a write: it is never counted nor refused
    preview = client.post("/wiki/new", data={"title": "T", "body": "B", "preview": "1"})
    assert preview.status_code == 200

    other = app.test_client()
    other.login(rui)
    form = edit_form(other.get(f"/wiki/{article_id}/edit").text)
    assert other.post(f"/wiki/{article_id}/edit", data=form | {"body": "Rui's"}).status_code == 302
