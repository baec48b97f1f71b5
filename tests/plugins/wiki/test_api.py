"""The wiki in the HTTP API: lists by cursor (by tag, by words), an article with its ETag,
its revisions and what changed between two of them, writing with If-Match (the edit page's
rule for two editors), and rating."""

from __future__ import annotations

from sqlalchemy import select, update

from core.db import utcnow
from core.testing import assert_api_routes_refuse_visitors, count_rows, stored, token_headers
from plugins.wiki.models import Article, Revision

NEW = {"title": "Ending well", "body": "Say **thank you**.", "tags": ["Mentoring", "Endings"]}


def problem_type(response) -> str:
    assert response.mimetype == "application/problem+json", response.text
    return response.json["type"].rsplit("/", 1)[1]


def test_the_list_comes_newest_first_by_tag_and_by_words(client, db, ada, rui, articles):
    first = articles.create(ada, "Your first meeting", tags="Meetings")
    second = articles.create(ada, "Setting goals", "Pick **one** small goal.", tags="Goals")
    articles.rate(second, rui, 4)
    headers = token_headers(rui, "read")

    listed = client.get("/api/v1/wiki/articles?limit=1", headers=headers)
    assert [item["title"] for item in listed.json["items"]] == ["Setting goals"]
    assert listed.json["items"][0]["average_stars"] == 4.0
    assert listed.json["items"][0]["author_name"] == "Ada Lovelace"
    after = client.get(f"/api/v1/wiki/articles?after={listed.json['next']}", headers=headers)
    assert [item["id"] for item in after.json["items"]] == [first.id]

    tagged = client.get("/api/v1/wiki/articles?tag=goals", headers=headers).json["items"]
    assert [item["id"] for item in tagged] == [second.id]
    found = client.get("/api/v1/wiki/articles?q=pic", headers=headers).json["items"]
    assert [item["id"] for item in found] == [second.id]
    assert client.get("/api/v1/wiki/articles?q=%22*", headers=headers).json["items"] == []
    assert client.get("/api/v1/wiki/articles?tag=nope", headers=headers).status_code == 404


def test_an_article_its_etag_and_its_revisions(client, db, ada, rui, articles):
    article = articles.create(ada)
    articles.edit(article, rui, "Meet for an hour.", summary="Shorter")
    headers = token_headers(rui, "read")

    read = client.get(f"/api/v1/wiki/articles/{article.id}", headers=headers)
    assert read.json["revision"] == 2 and read.json["body"] == "Meet for an hour."
    assert read.headers["ETag"] == f'"article-{article.id}-r2"'
    assert read.json["may_rate"] is True and "email" not in read.text
    history = client.get(f"/api/v1/wiki/articles/{article.id}/revisions", headers=headers).json
    assert [(rev["number"], rev["author_name"]) for rev in history["items"]] == [
        (2, "Rui Mentor"),
        (1, "Ada Lovelace"),
    ]
    assert client.get("/api/v1/wiki/articles/999", headers=headers).status_code == 404


def test_creating_an_article_publishes_it_once(app, client, db, ada, articles):
    headers = token_headers(ada)
    created = client.post("/api/v1/wiki/articles", json=NEW, headers=headers)
    assert created.status_code == 201 and created.json["tags"] == ["Endings", "Mentoring"]
    assert "<strong>thank you</strong>" in created.json["body_html"]
    again = client.post("/api/v1/wiki/articles", json=NEW, headers=headers)  # a double submit
    assert again.json["id"] == created.json["id"] and count_rows(app, Article) == 1

    taken = client.post("/api/v1/wiki/articles", json=NEW | {"body": "Else"}, headers=headers)
    assert taken.status_code == 422 and "exists already" in taken.json["detail"]
    empty = client.post("/api/v1/wiki/articles", json=NEW | {"title": " "}, headers=headers)
    assert problem_type(empty) == "invalid-input"
    missing = client.post("/api/v1/wiki/articles", json={"title": "x"}, headers=headers)
    assert missing.status_code == 422 and "body" in missing.json["errors"]["json"]


def test_an_edit_needs_the_version_read_and_a_stale_one_gets_the_current(
    app, client, db, ada, rui, articles
):
    article = articles.create(ada)
    url = f"/api/v1/wiki/articles/{article.id}"
    ada_headers, rui_headers = token_headers(ada), token_headers(rui)
    etag = client.get(url, headers=rui_headers).headers["ETag"]
    change = {"title": article.title, "body": "Rui's text", "summary": "Mine"}

    blind = client.put(url, json=change, headers=rui_headers)
    assert blind.status_code == 428 and problem_type(blind) == "precondition-required"
    empty_tag = client.put(url, json=change, headers=rui_headers | {"If-Match": '""'})
    assert empty_tag.status_code == 412 and problem_type(empty_tag) == "precondition-failed"

    ada_saved = client.put(
        url, json=change | {"body": "Ada's text"}, headers=ada_headers | {"If-Match": etag}
    )
    assert ada_saved.status_code == 200 and ada_saved.json["revision"] == 2
    stale = client.put(url, json=change, headers=rui_headers | {"If-Match": etag})
    assert stale.status_code == 412 and problem_type(stale) == "precondition-failed"
    assert stale.json["current"]["body"] == "Ada's text"
    assert stale.headers["ETag"] == ada_saved.headers["ETag"]
    assert stored(app, select(Article.body)) == "Ada's text"

    merged = client.put(url, json=change, headers=rui_headers | {"If-Match": stale.headers["ETag"]})
    assert merged.status_code == 200 and merged.json["body"] == "Rui's text"
    assert count_rows(app, Revision) == 3
    unchanged = client.put(
        url, json=change, headers=rui_headers | {"If-Match": merged.headers["ETag"]}
    )
    assert unchanged.status_code == 422 and "changed nothing" in unchanged.json["detail"]


def test_an_edit_passes_when_any_tag_in_if_match_names_the_current_revision(
    app, client, db, ada, rui, articles
):
    article = articles.create(ada)
    url = f"/api/v1/wiki/articles/{article.id}"
    headers = token_headers(rui)
    stale = ", ".join(f'"article-{article.id}-r{number}"' for number in range(2, 30))
    change = {"title": article.title, "body": "Rui's text", "summary": "Mine"}

    refused = client.put(url, json=change, headers=headers | {"If-Match": stale})
    assert refused.status_code == 412 and problem_type(refused) == "precondition-failed"
    other = client.put(url, json=change, headers=headers | {"If-Match": '"nonsense"'})
    assert other.status_code == 412
    listed = f'"nonsense", {stale}, "article-{article.id}-r1"'
    saved = client.put(url, json=change, headers=headers | {"If-Match": listed})
    assert saved.status_code == 200 and saved.json["revision"] == 2
    assert stored(app, select(Article.body)) == "Rui's text"


def test_a_hidden_article_is_not_listed_read_or_changed(app, client, db, ada, rui, articles):
    article = articles.create(ada)
    db.session.execute(update(Article).values(hidden_at=utcnow()))
    db.session.commit()
    headers = token_headers(rui)
    assert client.get("/api/v1/wiki/articles", headers=headers).json["items"] == []
    for url in (
        f"/api/v1/wiki/articles/{article.id}",
        f"/api/v1/wiki/articles/{article.id}/revisions",
    ):
        assert problem_type(client.get(url, headers=headers)) == "forbidden"
    refused = client.put(
        f"/api/v1/wiki/articles/{article.id}",
        json={"title": "x", "body": "y"},
        headers=headers | {"If-Match": f'"article-{article.id}-r1"'},
    )
    assert refused.status_code == 422 and "hid this article" in refused.json["detail"]


def test_a_hidden_revision_hides_its_text(client, db, ada, rui, articles):
    article = articles.create(ada)
    db.session.execute(update(Revision).values(hidden_at=utcnow()))
    db.session.commit()
    headers = token_headers(rui)
    read = client.get(f"/api/v1/wiki/articles/{article.id}", headers=headers).json
    assert read["text_hidden"] is True and read["body"] is None and read["body_html"] is None
    listed = client.get("/api/v1/wiki/articles", headers=headers).json["items"]
    assert listed[0]["text_hidden"] is True


def test_rating_gives_or_changes_ones_stars_but_not_on_ones_own(client, db, ada, rui, articles):
    article = articles.create(ada)
    url = f"/api/v1/wiki/articles/{article.id}/rating"
    rated = client.put(url, json={"stars": 5}, headers=token_headers(rui))
    assert rated.json == {"stars": 5, "average_stars": 5.0, "ratings": 1}
    changed = client.put(url, json={"stars": 3}, headers=token_headers(rui))
    assert changed.json == {"stars": 3, "average_stars": 3.0, "ratings": 1}
    assert client.put(url, json={"stars": 6}, headers=token_headers(rui)).status_code == 422
    own = client.put(url, json={"stars": 5}, headers=token_headers(ada))
    assert own.status_code == 422 and "your own article" in own.json["detail"]


def lines_of(comparison: dict) -> list[tuple]:
    return [
        (line["kind"], line["old_number"], line["new_number"], line["text"])
        for line in comparison["lines"]
    ]


def test_compare_shows_the_lines_the_latest_revision_changed(client, db, ada, rui, articles):
    article = articles.create(ada, body="Meet for an hour.\nAgree on a channel.\n")
    articles.edit(
        article, rui, "Meet for an hour.\nAgree on a channel: chat or mail.\n", summary="How"
    )
    headers = token_headers(ada, "read")

    latest = client.get(f"/api/v1/wiki/articles/{article.id}/compare", headers=headers)
    assert latest.status_code == 200
    assert (latest.json["old"]["number"], latest.json["new"]["number"]) == (1, 2)
    assert latest.json["new"]["author_name"] == "Rui Mentor"
    assert latest.json["new"]["summary"] == "How" and latest.json["text_hidden"] is False
    assert lines_of(latest.json) == [
        ("same", 1, 1, "Meet for an hour."),
        ("removed", 2, None, "Agree on a channel."),
        ("added", None, 2, "Agree on a channel: chat or mail."),
    ]
    explicit = client.get(
        f"/api/v1/wiki/articles/{article.id}/compare?old=1&new=2", headers=headers
    )
    assert explicit.json == latest.json


def test_compare_takes_any_two_revisions_either_way(client, db, ada, rui, articles):
    article = articles.create(ada, body="One.\n")
    articles.edit(article, rui, "One.\nTwo.\n")
    articles.edit(article, ada, "One.\nTwo.\nThree.\n", title="Counting")
    url = f"/api/v1/wiki/articles/{article.id}/compare"
    headers = token_headers(rui, "read")

    backwards = client.get(f"{url}?old=3&new=1", headers=headers).json
    assert [(kind, text) for kind, _old, _new, text in lines_of(backwards)] == [
        ("same", "One."),
        ("removed", "Two."),
        ("removed", "Three."),
    ]
    titles = (backwards["old"]["title"], backwards["new"]["title"])
    assert titles == ("Counting", "Your first meeting")
    same = client.get(f"{url}?old=2&new=2", headers=headers).json
    assert same["lines"] == []
    older = client.get(f"{url}?new=2", headers=headers).json  # old: the one before new
    assert (older["old"]["number"], older["new"]["number"]) == (1, 2)


def test_compare_refuses_unknown_revisions_and_articles(client, db, ada, articles):
    article = articles.create(ada)
    url = f"/api/v1/wiki/articles/{article.id}/compare"
    headers = token_headers(ada, "read")

    missing = client.get(f"{url}?old=1&new=9", headers=headers)
    assert problem_type(missing) == "not-found" and "no revision 9" in missing.json["detail"]
    zero = client.get(f"{url}?old=0", headers=headers)
    assert zero.status_code == 422 and "old" in zero.json["errors"]["query"]
    word = client.get(f"{url}?new=latest", headers=headers)
    assert word.status_code == 422 and "new" in word.json["errors"]["query"]
    for huge in ("old=1e20", "new=1e20", "old=10000000000000000000"):
        beyond = client.get(f"{url}?{huge}", headers=headers)
        assert beyond.status_code == 422, huge  # not a server error comparing it
    assert client.get("/api/v1/wiki/articles/999/compare", headers=headers).status_code == 404


def test_compare_shows_no_lines_of_a_hidden_revision_nor_a_hidden_article(
    client, db, ada, rui, articles
):
    article = articles.create(ada, body="Kind words.\n")
    articles.edit(article, rui, "Rude words.\n", summary="Rude summary")
    db.session.execute(update(Revision).where(Revision.number == 2).values(hidden_at=utcnow()))
    db.session.commit()
    url = f"/api/v1/wiki/articles/{article.id}/compare"
    headers = token_headers(ada, "read")

    hidden = client.get(url, headers=headers)
    assert hidden.json["text_hidden"] is True and hidden.json["lines"] == []
    assert hidden.json["new"]["hidden"] is True and "Rude" not in hidden.text
    db.session.execute(update(Article).values(hidden_at=utcnow()))
    db.session.commit()
    assert problem_type(client.get(url, headers=headers)) == "forbidden"


def test_a_hidden_revision_shows_no_title_in_the_history_nor_a_comparison(
    client, db, ada, rui, articles
):
    article = articles.create(ada, body="Kind words.\n")
    articles.edit(article, rui, "Kind words.\n", title="A rude title")
    articles.edit(article, ada, "Kind words.\n", title="Your first meeting")
    db.session.execute(update(Revision).where(Revision.number == 2).values(hidden_at=utcnow()))
    db.session.commit()
    headers = token_headers(ada, "read")

    history = client.get(f"/api/v1/wiki/articles/{article.id}/revisions", headers=headers)
    titles = [(rev["number"], rev["title"]) for rev in history.json["items"]]
    assert titles == [(3, "Your first meeting"), (2, None), (1, "Your first meeting")]
    compared = client.get(f"/api/v1/wiki/articles/{article.id}/compare", headers=headers)
    assert compared.json["old"]["title"] is None and compared.json["new"]["hidden"] is False
    assert "rude" not in history.text and "rude" not in compared.text
    read = client.get(f"/api/v1/wiki/articles/{article.id}", headers=headers)
    assert read.json["title"] == "Your first meeting"


def test_every_wiki_route_refuses_visitors_and_read_only_writes(app, client, db, ada):
    assert_api_routes_refuse_visitors(app, client, token_headers(ada, "read"))
