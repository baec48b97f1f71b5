"""Deleting an article: its author or a moderator, after a confirmation; nobody else."""

from __future__ import annotations

import pytest

from core.testing import count_rows
from plugins.wiki.models import Article, ArticleTag, Rating, Revision


@pytest.fixture
def article_id(articles, ada, create_user):
    """An article by Ada, edited once and rated once: its id."""
    created = articles.create(ada, title="Giving feedback", tags="feedback")
    articles.edit(created, create_user(), created.body + "\n\nAsk first, then give it.")
    articles.rate(created, create_user(), 4)
    return created.id


def test_the_author_confirms_then_deletes(client, app, ada, article_id):
    client.login(ada)

    confirm = client.get(f"/wiki/{article_id}/delete")
    assert "Delete “Giving feedback”?" in confirm.text
    assert "all of its 2 revisions and 1 ratings" in confirm.text
    assert count_rows(app, Article) == 1  # asking deletes nothing

    page = client.post(f"/wiki/{article_id}/delete", follow_redirects=True)

    assert "“Giving feedback” is deleted." in page.text
    assert page.request.path == "/wiki/"
    for model in (Article, Revision, Rating, ArticleTag):
        assert count_rows(app, model) == 0
    assert client.get(f"/wiki/{article_id}-giving-feedback").status_code == 404


def test_a_moderator_may_delete_any_article(client, app, create_user, article_id):
    client.login(create_user(role="coordinator"))

    assert "Delete…" in client.get(f"/wiki/{article_id}-giving-feedback").text
    client.post(f"/wiki/{article_id}/delete")

    assert count_rows(app, Article) == 0


def test_nobody_else_may_delete(client, app, create_user, article_id):
    client.login(create_user())

    assert "Delete…" not in client.get(f"/wiki/{article_id}-giving-feedback").text
    assert client.get(f"/wiki/{article_id}/delete").status_code == 403
    assert client.post(f"/wiki/{article_id}/delete").status_code == 403
    assert count_rows(app, Article) == 1


def test_the_service_refuses_others_too(db, create_user, article_id):
    from plugins.wiki import services

    with pytest.raises(services.NotAllowed):
        services.delete_article(article_id, create_user())


def test_deleting_twice_finds_nothing_the_second_time(client, app, ada, article_id):
    client.login(ada)

    client.post(f"/wiki/{article_id}/delete")
    again = client.post(f"/wiki/{article_id}/delete")

    assert again.status_code == 404
    assert "does not exist" in again.text


def test_ids_of_deleted_articles_are_never_reused(client, app, ada, articles, article_id):
    client.login(ada)
    client.post(f"/wiki/{article_id}/delete")

    assert articles.create(ada, title="Another").id > article_id
