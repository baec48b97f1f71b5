"""Reporting in the wiki: an article (hiding it hides all of it: its pages, its listings, its
history) and one revision (hiding it hides that text, and the article's while it is current)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.models import Report
from core.testing import stored
from plugins.wiki.models import Revision

HIDDEN = "This was hidden by the moderators."


@pytest.fixture
def coordinator(create_user):
    return create_user(display_name="Coco Ordinator", role="coordinator")


def decide(client, app, coordinator, act: str, reason: str = "spam"):
    client.login(coordinator)
    report_id = stored(app, select(func.max(Report.id)))
    return client.post(
        f"/admin/reports/{report_id}/{act}", data={"reason": reason}, follow_redirects=True
    )


def test_an_article_is_reported_and_hidden_from_every_page(
    app, client, articles, ada, rui, coordinator
):
    article = articles.create(ada, "Rude words", "Insults **everywhere**")
    path = f"/wiki/{article.id}-{article.slug}"
    client.login(rui)
    assert f'href="/report/wiki.article/{article.id}"' in client.get(path).text
    sent = client.post(
        f"/report/wiki.article/{article.id}", data={"reason": "harassment"}, follow_redirects=True
    )
    assert "The moderators will look at it." in sent.text and sent.request.path == path

    client.login(coordinator)
    queue = client.get("/admin/reports").text
    assert "Article “Rude words”" in queue and "Insults everywhere" in queue
    decide(client, app, coordinator, "hide", "insults")

    for viewer in (rui, ada):
        client.login(viewer)
        for page in (path, f"/wiki/{article.id}/history", f"/wiki/{article.id}/revisions/1"):
            shown = client.get(page).text
            assert HIDDEN in shown and "Insults" not in shown, page
        assert "Rude words" not in client.get("/wiki/articles").text
        assert "Rude words" not in client.get("/wiki/search?q=insults").text
    # nobody edits it back into view
    client.login(ada)
    edit = client.get(f"/wiki/{article.id}/edit")
    assert HIDDEN in edit.text and "Insults" not in edit.text

    decide(client, app, coordinator, "restore", "reworded by the author")
    client.login(rui)
    assert "Insults" in client.get(path).text


def test_a_revision_is_reported_and_its_text_hidden(app, client, articles, ada, rui, coordinator):
    article = articles.create(ada, "Your first meeting", "Meet for an hour")
    articles.edit(article, rui, "Meet for an hour. Call me on +1 555 0100", summary="phone")
    second = stored(
        app,
        select(Revision.id).where(Revision.article_id == article.id, Revision.number == 2),
    )
    revision_page = f"/wiki/{article.id}/revisions/2"
    client.login(ada)
    assert f'href="/report/wiki.revision/{second}"' in client.get(revision_page).text
    client.post(f"/report/wiki.revision/{second}", data={"reason": "personal_data"})

    client.login(coordinator)
    page = client.get("/admin/reports").text
    assert "Revision 2 of “Your first meeting”" in page and "555 0100" in page
    decide(client, app, coordinator, "hide", "a phone number")

    for viewer in (ada, rui):
        client.login(viewer)
        assert HIDDEN in client.get(revision_page).text
        assert "555 0100" not in client.get(revision_page).text
        current = client.get(f"/wiki/{article.id}-{article.slug}").text  # it is the current one
        assert HIDDEN in current and "555 0100" not in current
        compare = client.get(f"/wiki/{article.id}/compare?old=1&new=2").text
        assert HIDDEN in compare and "555 0100" not in compare
        assert "555" not in client.get("/wiki/search?q=meet").text
        assert "hidden by the moderators" in client.get(f"/wiki/{article.id}/history").text
    # an old revision still reads; the hidden one cannot be brought back
    assert "Meet for an hour" in client.get(f"/wiki/{article.id}/revisions/1").text

    # a new edit is a new, visible text
    articles.edit(article, ada, "Meet for an hour, somewhere quiet")
    client.login(rui)
    assert "somewhere quiet" in client.get(f"/wiki/{article.id}-{article.slug}").text
    refused = client.post(f"/wiki/{article.id}/revisions/2/restore", follow_redirects=True)
    assert "The moderators hid revision 2" in refused.text


def test_what_one_cannot_see_cannot_be_reported(client, articles, ada, rui):
    article = articles.create(ada)
    client.login(rui)
    assert client.get(f"/report/wiki.article/{article.id + 100}").status_code == 404
    assert client.get("/report/wiki.revision/99999").status_code == 404
    client.login(ada)  # one's own article
    refused = client.post(f"/report/wiki.article/{article.id}", data={"reason": "spam"})
    assert refused.status_code == 400
